/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bottom of the output's sink stack (output.c): the file, pipe or fd
 * itself and its lifecycle.  A path is written as PATH.partial (O_EXCL,
 * O_NOFOLLOW, mode 0600, held with an flock while we write), fsync'd and
 * renamed into place on commit, unlinked on abort.  Its sink writes
 * unbuffered: pwrite at the offset given (random access) or write at the
 * current position (streams, whose order the caller checks), retrying
 * EINTR, short writes and, while the nospace handler frees space, ENOSPC. */
#ifndef HV_OUTPUT_FILE_H
#define HV_OUTPUT_FILE_H

#include <glib.h>
#include <stdint.h>
#include "formats/sink.h"

struct hv_output_file;

/* "-" is standard output, always a stream; else PATH.partial, refused
 * (HV_ERROR_EXISTS) when PATH exists unless force. */
struct hv_output_file *hv_output_file_open_path(const char *path, gboolean force, GError **err);
/* The same; created (may be NULL) is called with PATH.partial's device and
 * inode right after it was created, before anything else. */
struct hv_output_file *hv_output_file_open_path_notify(const char *path, gboolean force,
                                                       void (*created)(void *ud, uint64_t dev,
                                                                       uint64_t ino),
                                                       void *ud, GError **err);
/* fd: borrowed, not closed.  Random access when it is a regular file, not
 * appending, positioned at its start. */
struct hv_output_file *hv_output_file_open_fd(int fd, GError **err);

/* Unbuffered; safe to call from one other thread at a time while the
 * owner does not write (the io thread, output_io.c). */
struct hv_sink *hv_output_file_sink(struct hv_output_file *f);
int hv_output_file_fd(struct hv_output_file *f);
/* For messages: the path, "standard output" or "fd N". */
const char *hv_output_file_name(struct hv_output_file *f);
gboolean hv_output_file_is_regular(struct hv_output_file *f);
/* A regular file written from its start and not appending: writes from a
 * background thread at its offsets pay (even when "-" makes it a stream). */
gboolean hv_output_file_is_plain(struct hv_output_file *f);
/* Our own new, empty PATH.partial: a hole reads back as zeros there, and
 * nobody else has it open. */
gboolean hv_output_file_created(struct hv_output_file *f);

/* See hv_output_set_nospace_handler; called from whichever thread writes. */
void hv_output_file_set_nospace_handler(struct hv_output_file *f, gboolean (*fn)(void *ud),
                                        void *ud);
/* Makes the file at least size bytes long: a hole at its end is not there
 * until its size says so. */
gboolean hv_output_file_extend(struct hv_output_file *f, uint64_t size, GError **err);
/* fsync (regular files), rename PATH.partial into place (never over a file
 * that appeared meanwhile unless force), close, fsync the directory.
 * Frees f in all cases; on failure before the rename, unlinks the partial. */
gboolean hv_output_file_commit(struct hv_output_file *f, GError **err);
/* Unlinks the partial (if any), closes what we opened, frees f. */
void hv_output_file_abort(struct hv_output_file *f);

#endif
