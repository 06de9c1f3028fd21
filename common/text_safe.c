/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/text_safe.h"

#include <stdio.h>
#include <string.h>

static gboolean is_control(gunichar c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
}

char *hv_text_safe(const char *text, gssize len, size_t max_bytes)
{
    size_t n = len < 0 ? strlen(text) : (size_t)len;
    if (max_bytes < 8)
        max_bytes = 8;
    /* Room for the longest expansion of one character (4 bytes) and the
     * ellipsis, so the cut below never splits a character. */
    size_t limit = max_bytes - 3;
    GString *out = g_string_sized_new(MIN(n, limit) + 4);
    const char *p = text, *end = text + n;

    while (p < end) {
        /* GLib calls a NUL byte invalid; here it is the control U+0000. */
        gunichar c = *p ? g_utf8_get_char_validated(p, end - p) : 0;
        size_t step;
        char piece[8];
        size_t plen;
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            /* Not UTF-8 here: one byte becomes one U+FFFD. */
            memcpy(piece, "\xef\xbf\xbd", 3);
            plen = 3;
            step = 1;
        } else {
            step = (size_t)(g_utf8_next_char(p) - p);
            if (is_control(c)) {
                plen = (size_t)g_snprintf(piece, sizeof piece, "\\x%02x", (unsigned)c);
            } else if (c == '\\') {
                memcpy(piece, "\\\\", 2);
                plen = 2;
            } else {
                memcpy(piece, p, step);
                plen = step;
            }
        }
        if (out->len + plen > limit) {
            g_string_append(out, "...");
            break;
        }
        g_string_append_len(out, piece, (gssize)plen);
        p += step;
    }
    return g_string_free(out, FALSE);
}

/* Long enough for any one message we print; a longer one is cut. */
#define PRINTERR_MAX (64 * 1024)

void hv_text_safe_printerr(const gchar *message)
{
    size_t n = strlen(message);
    gboolean newline = n > 0 && message[n - 1] == '\n';
    g_autofree char *safe = hv_text_safe(message, (gssize)(newline ? n - 1 : n), PRINTERR_MAX);
    fputs(safe, stderr);
    if (newline)
        fputc('\n', stderr);
    fflush(stderr);
}
