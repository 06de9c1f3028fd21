/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output's deferring layer (see output.c for the stack): raw pages
 * (write_ref) in long streaks are not copied into a buffer but left as a
 * gap that the io thread fills later, fetching the bytes from the source
 * again when the disk has nothing else to do (output_io.h).  A burst of
 * raw pages then no longer holds up the pipeline, which could otherwise
 * run only a few batches ahead of the disk: the compressed pages that
 * follow are written at once, after a gap that is filled meanwhile. */
#ifndef HV_OUTPUT_DEFERRED_H
#define HV_OUTPUT_DEFERRED_H

#include "dumper/engine/output_io.h"
#include "formats/sink.h"

struct hv_output_deferred;

/* below: where bytes that are not deferred go (it may buffer them in io).
 * io: has a fetch (hv_output_io_set_fetch).  Both must outlive the result. */
struct hv_output_deferred *hv_output_deferred_new(struct hv_sink *below, struct hv_output_io *io);
/* write_at, write_zeros, write_ref; flush queues the run being extended,
 * then flushes below (which waits for the io thread to fill every run). */
struct hv_sink *hv_output_deferred_sink(struct hv_output_deferred *d);
void hv_output_deferred_free(struct hv_output_deferred *d);

#endif
