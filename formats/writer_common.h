/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every writer checks and shares, kept in one place. */
#ifndef HV_WRITER_COMMON_H
#define HV_WRITER_COMMON_H

#include "formats/writer.h"

#define HV_MAX_PAGE_SIZE 65536

/* The page size is a power of two in [512, 64 KiB]; ranges are non-empty,
 * page aligned, sorted and disjoint; every CPU has an architecture the
 * notes can lay out (hv_notes_check). */
gboolean hv_writer_check_inputs(const struct hv_range *ranges, size_t n,
                                const struct hv_dump_meta *meta, GError **err);

#endif
