/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lines from a stream with a cap on their length.  GDataInputStream's
 * read_line grows its buffer until a newline comes: a peer that never
 * sends one (a hostile QEMU, a local client) makes us allocate gigabytes.
 * This reader holds at most max_line + READ_CHUNK bytes, whatever the peer
 * sends, and fails a longer line with G_IO_ERROR_MESSAGE_TOO_LARGE.
 *
 * A line ends at '\n'; a '\r' before it is dropped (QMP sends "\r\n").
 * Bytes after the last newline at end of stream make a last line. */
#ifndef HV_LINE_READER_H
#define HV_LINE_READER_H

#include <gio/gio.h>

struct hv_line_reader;

/* in is referenced; max_line >= 1 is the longest line accepted, without
 * its terminator. */
struct hv_line_reader *hv_line_reader_new(GInputStream *in, size_t max_line);
/* Safe while an asynchronous read is under way (cancel it first): the
 * read then completes with G_IO_ERROR_CANCELLED and the memory goes with it. */
void hv_line_reader_free(struct hv_line_reader *r);

/* The next line (NUL-terminated, g_free; *len without the NUL, may be
 * NULL), or NULL: at end of stream with *err unset, else with *err from the
 * stream (G_IO_ERROR_TIMED_OUT on a socket timeout, ...) or
 * G_IO_ERROR_MESSAGE_TOO_LARGE.  A line containing a NUL byte is returned
 * as it is; *len tells its true length. */
char *hv_line_reader_read(struct hv_line_reader *r, size_t *len, GCancellable *cancel,
                          GError **err);

/* The same without blocking: the callback runs in the thread-default main
 * context; call _finish there (r may be NULL: it is not used, so a
 * callback can call it after the reader was freed).  One read at a time
 * per reader. */
void hv_line_reader_read_async(struct hv_line_reader *r, GCancellable *cancel,
                               GAsyncReadyCallback callback, gpointer user_data);
char *hv_line_reader_read_finish(struct hv_line_reader *r, GAsyncResult *res, size_t *len,
                                 GError **err);

/* Bytes received but not yet returned as lines. */
size_t hv_line_reader_buffered(const struct hv_line_reader *r);

#endif
