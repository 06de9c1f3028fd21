/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text from a guest or from QEMU made safe to show: on a terminal, in a log
 * line, in JSON.  Guest memory can hold anything where a kernel release or
 * a panic message should be: bytes that are not UTF-8 (Python's json.load
 * then refuses the sidecar), escape sequences that move an operator's
 * cursor or retitle the terminal, newlines that forge log lines. */
#ifndef HV_TEXT_SAFE_H
#define HV_TEXT_SAFE_H

#include <glib.h>
#include <stddef.h>

/* A copy of text (len bytes, or up to its NUL when len is -1) that is valid
 * UTF-8 with no control characters: each C0 control, DEL and C1 control
 * becomes "\xNN" (a backslash too becomes "\\" so the result cannot be
 * mistaken for its own escape), each byte that is not part of valid UTF-8
 * becomes U+FFFD.  At most max_bytes bytes of output (whole characters; an
 * ellipsis "..." marks a cut), max_bytes >= 8.  g_free. */
char *hv_text_safe(const char *text, gssize len, size_t max_bytes);

/* The same for a message that may end in one newline, which is kept: for
 * g_set_printerr_handler(), so that everything a program prints on stderr
 * passes through it. */
void hv_text_safe_printerr(const gchar *message);

#endif
