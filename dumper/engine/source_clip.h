/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A view of a source limited to guest-physical [0, end): blocks wholly
 * above end are dropped, a block straddling it is truncated.  Reads, maps
 * and unmaps go to the wrapped source unchanged, so the pipeline sees an
 * ordinary source and stays format-agnostic.  Used for kdump outputs,
 * which must describe only the guest kernel's memory map (see
 * hv_dump_meta.kernel_end_pfn). */
#ifndef HV_SOURCE_CLIP_H
#define HV_SOURCE_CLIP_H

#include <glib.h>
#include <stdint.h>
#include "guest-mem/source.h"

/* The clipped view, or NULL when clipping would change nothing (every block
 * already ends at or below end) or leave nothing (end is below the first
 * block: not a limit worth trusting).  end is rounded up to a page.  The
 * view does not own inner; closing it (gm_source_close) frees only the
 * view, and inner must outlive it. */
struct gm_source *hv_clipped_source_new(struct gm_source *inner, uint64_t end);

#endif
