/* SPDX-License-Identifier: GPL-2.0-or-later */
/* makedumpfile's flattened format: a 4096-byte header, then big-endian
 * (offset, size) records with data, ended by a (-1, -1) record. */
#ifndef HV_FLAT_H
#define HV_FLAT_H

#include "formats/sink.h"

#define HV_FLAT_HEADER_SIZE 4096
#define HV_FLAT_SIGNATURE "makedumpfile"

struct hv_flat_sink;

/* Wraps a sequential sink.  write_at() may be called with any offsets; data
 * is batched into large records (contiguous writes are coalesced).  The
 * header is emitted on creation's first write. */
struct hv_flat_sink *hv_flat_sink_new(struct hv_sink *stream);
struct hv_sink *hv_flat_sink_base(struct hv_flat_sink *f);
/* Flushes pending records and writes the end record. */
gboolean hv_flat_sink_finish(struct hv_flat_sink *f, GError **err);
void hv_flat_sink_free(struct hv_flat_sink *f);

/* TRUE when buf (at least 4096 bytes) starts with a flat header. */
gboolean hv_flat_is_header(const void *buf, size_t len);

#endif
