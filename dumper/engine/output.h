/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump's destination.  A path is written as PATH.partial (O_EXCL,
 * O_NOFOLLOW, mode 0600), fsync'd and renamed on commit, unlinked on abort;
 * an existing PATH is refused unless force.  "-" is stdout; an fd given by
 * the caller is used as is.  Streams (pipes, sockets, ttys) are sequential. */
#ifndef HV_OUTPUT_H
#define HV_OUTPUT_H

#include <glib.h>
#include <stdint.h>
#include "formats/sink.h"

struct hv_output;

/* Errors: HV_ERROR_INVALID (empty path, missing directory, a directory),
 * HV_ERROR_EXISTS (PATH exists without force, or PATH.partial is not ours),
 * HV_ERROR_PERMISSION, HV_ERROR_NOSPACE, HV_ERROR_IO. */
struct hv_output *hv_output_open_path(const char *path, gboolean force, GError **err);
/* The same, telling created (may be NULL) PATH.partial's device and inode
 * the moment it exists: the guardian removes that file, and only it, if
 * we die (see guardian.h).  Not called for "-". */
typedef void (*hv_output_created_fn)(void *ud, uint64_t dev, uint64_t ino);
struct hv_output *hv_output_open_path_notify(const char *path, gboolean force,
                                             hv_output_created_fn created, void *ud,
                                             GError **err);
/* fd: borrowed, not closed.  Random access when it is a regular file.
 * Errors: HV_ERROR_INVALID (fd not open, or not for writing). */
struct hv_output *hv_output_open_fd(int fd, GError **err);
/* The sink writers write to (buffered; large sequential writes).  Takes
 * write_zeros: holes in a file we created, zeros written elsewhere.  Its
 * writes fail with HV_ERROR_NOSPACE (ENOSPC/EDQUOT), HV_ERROR_PIPE (EPIPE),
 * HV_ERROR_IO, HV_ERROR_INTERNAL (a backwards write to a stream), or a fetch
 * function's error. */
struct hv_sink *hv_output_sink(struct hv_output *o);
gboolean hv_output_is_random_access(struct hv_output *o);
uint64_t hv_output_bytes_written(struct hv_output *o);
/* Flush, fsync (files), rename into place.  Frees o in all cases.
 * Errors: the sink's, HV_ERROR_EXISTS (PATH appeared meanwhile), HV_ERROR_IO. */
gboolean hv_output_commit(struct hv_output *o, GError **err);
/* Called from the writing thread when a write fails with ENOSPC or EDQUOT;
 * returns TRUE when it freed space, and the write is then retried (as
 * often as it keeps freeing).  FALSE: the write fails with HV_ERROR_NOSPACE.
 * fn NULL (the default) = fail at once. */
void hv_output_set_nospace_handler(struct hv_output *o, gboolean (*fn)(void *ud), void *ud);
/* Reads len bytes (whole pages) named by ref, as a struct hv_page_out's
 * ref, into dst; called from the output's io thread. */
typedef gboolean (*hv_output_fetch_fn)(void *ud, uint64_t ref, uint8_t *dst, size_t len,
                                       GError **err);
/* Lets the sink defer raw pages (hv_sink_write_ref): their file range is
 * left for later and filled with fn's bytes whenever the disk has nothing
 * else to do, so the pipeline need not wait for the disk on bursts of raw
 * pages.  fn must stay valid, and give the same bytes, until
 * hv_output_wait_fetched() returns (a paused guest must stay paused until
 * then).  FALSE (nothing changes) unless o is a regular file we write at
 * offsets with a background thread. */
gboolean hv_output_set_fetch(struct hv_output *o, hv_output_fetch_fn fn, void *ud);
/* Waits until every byte written so far is on its way to disk, deferred
 * raw pages fetched; FALSE with the first write or fetch error (the sink's
 * codes, or fn's). */
gboolean hv_output_wait_fetched(struct hv_output *o, GError **err);
/* "PATH.partial": where a dump to PATH is written until it is complete. */
char *hv_output_partial_path(const char *path);

/* Remove the partial file (if any) and free o.  Safe after a failed write. */
void hv_output_abort(struct hv_output *o);

#endif
