/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output's buffering layer (see output.c for the stack): a sink that
 * gathers writes into 8 MiB buffers and writes them to the sink below (the
 * file, output_file.h).  Optionally in the background: a full buffer goes
 * to an io thread while the next one fills, and the io thread also writes
 * deferred runs, file ranges whose bytes it fetches itself when it has no
 * buffer to write (output_deferred.c decides which).  Optionally through
 * O_DIRECT for the block-aligned middle of each buffer. */
#ifndef HV_OUTPUT_IO_H
#define HV_OUTPUT_IO_H

#include <glib.h>
#include <stdint.h>
#include "dumper/engine/output.h"   /* hv_output_fetch_fn */
#include "formats/sink.h"

struct hv_output_io;

/* below: must outlive the result; its write_at is called from the io
 * thread while the owner waits or writes only here.  direct_fd: a file we
 * may open again with O_DIRECT, or -1.  background: a second buffer and an
 * io thread (started on the first full buffer); for regular files. */
struct hv_output_io *hv_output_io_new(struct hv_sink *below, int direct_fd, gboolean background);
/* write_at buffers; flush writes the buffer and waits until the io thread
 * has written everything handed to it, queued runs included (FALSE with
 * the first error of any background write or fetch). */
struct hv_sink *hv_output_io_sink(struct hv_output_io *io);

/* Lets queued runs be fetched with fn; FALSE (nothing changes) without
 * background writes.  fn and ud must stay valid until the io is freed. */
gboolean hv_output_io_set_fetch(struct hv_output_io *io, hv_output_fetch_fn fn, void *ud);
/* Starts the io thread if it is not running; FALSE when it cannot, and
 * then never will (writes happen in place from then on). */
gboolean hv_output_io_start(struct hv_output_io *io);
/* Whether n more runs fit in the queue. */
gboolean hv_output_io_can_queue(struct hv_output_io *io, guint n);
/* Queues file bytes [off, +len) for the io thread to fill with fetch(ref,
 * len), a chunk at a time.  Needs the thread running and room (above). */
void hv_output_io_queue_run(struct hv_output_io *io, uint64_t off, uint64_t ref, uint64_t len);

/* Stops the io thread (it finishes the write under way and drops queued
 * runs: an abort, flush drains them first) and frees io. */
void hv_output_io_free(struct hv_output_io *io);

#endif
