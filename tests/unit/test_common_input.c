/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/line_reader.c, json_bounds.c and text_safe.c: the bounds every
 * reader of outside input applies, and text made safe to show. */
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/json_bounds.h"
#include "common/hv_error.h"
#include "common/line_reader.h"
#include "common/size_parse.h"
#include "common/text_safe.h"

static GInputStream *memory(const char *data, size_t len)
{
    return g_memory_input_stream_new_from_data(g_memdup2(data, len), (gssize)len, g_free);
}

static void lines(void)
{
    /* Lines across the 4 KiB read chunks, CRLF and LF, a last line without
     * a newline, an empty line, a NUL inside a line. */
    GString *in = g_string_new(NULL);
    for (int i = 0; i < 3000; i++)
        g_string_append_printf(in, "line %d%s", i, i % 2 ? "\r\n" : "\n");
    g_string_append(in, "\n");
    g_string_append_len(in, "a\0b\n", 4);
    g_string_append(in, "tail");
    GInputStream *s = memory(in->str, in->len);
    struct hv_line_reader *r = hv_line_reader_new(s, 64);
    GError *err = NULL;
    size_t len;
    for (int i = 0; i < 3000; i++) {
        char *l = hv_line_reader_read(r, &len, NULL, &err);
        g_assert_no_error(err);
        g_autofree char *want = g_strdup_printf("line %d", i);
        g_assert_cmpstr(l, ==, want);
        g_assert_cmpuint(len, ==, strlen(want));
        g_free(l);
    }
    char *l = hv_line_reader_read(r, &len, NULL, &err);
    g_assert_cmpstr(l, ==, "");
    g_free(l);
    l = hv_line_reader_read(r, &len, NULL, &err);
    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpmem(l, 3, "a\0b", 3);
    g_free(l);
    l = hv_line_reader_read(r, &len, NULL, &err);
    g_assert_cmpstr(l, ==, "tail");
    g_free(l);
    g_assert_null(hv_line_reader_read(r, &len, NULL, &err));
    g_assert_no_error(err);
    hv_line_reader_free(r);
    g_object_unref(s);
    g_string_free(in, TRUE);
}

static void too_long(void)
{
    /* Exactly max_line bytes (with CRLF) pass; one more fails. */
    const char *ok = "12345678\r\n12345678\n123456789\n";
    GInputStream *s = memory(ok, strlen(ok));
    struct hv_line_reader *r = hv_line_reader_new(s, 8);
    GError *err = NULL;
    g_autofree char *a = hv_line_reader_read(r, NULL, NULL, &err);
    g_autofree char *b = hv_line_reader_read(r, NULL, NULL, &err);
    g_assert_cmpstr(a, ==, "12345678");
    g_assert_cmpstr(b, ==, "12345678");
    g_assert_null(hv_line_reader_read(r, NULL, NULL, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
    g_clear_error(&err);
    hv_line_reader_free(r);
    g_object_unref(s);

    /* 64 MiB without a newline: refused after max_line, having read only
     * a little more than that. */
    size_t big = 64u << 20;
    char *junk = g_malloc(big);
    memset(junk, 'x', big);
    s = g_memory_input_stream_new_from_data(junk, (gssize)big, g_free);
    r = hv_line_reader_new(s, 1u << 20);
    g_assert_null(hv_line_reader_read(r, NULL, NULL, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
    g_clear_error(&err);
    goffset at = g_seekable_tell(G_SEEKABLE(s));
    g_assert_cmpint(at, <, (1 << 20) + 2 * 4096 + 2);
    hv_line_reader_free(r);
    g_object_unref(s);
}

struct async_state {
    GPtrArray *got;
    GError *err;
    gboolean done;
    struct hv_line_reader *r;
};

static void on_line(GObject *src, GAsyncResult *res, gpointer ud)
{
    struct async_state *st = ud;
    (void)src;
    char *l = hv_line_reader_read_finish(NULL, res, NULL, &st->err);
    if (!l) {
        st->done = TRUE;
        return;
    }
    g_ptr_array_add(st->got, l);
    hv_line_reader_read_async(st->r, NULL, on_line, st);
}

static void async_lines(void)
{
    GString *in = g_string_new(NULL);
    for (int i = 0; i < 2000; i++)
        g_string_append_printf(in, "request %d\n", i);
    GInputStream *s = memory(in->str, in->len);
    struct async_state st = { g_ptr_array_new_with_free_func(g_free), NULL, FALSE, NULL };
    st.r = hv_line_reader_new(s, 100);
    hv_line_reader_read_async(st.r, NULL, on_line, &st);
    while (!st.done)
        g_main_context_iteration(NULL, TRUE);
    g_assert_no_error(st.err);
    g_assert_cmpuint(st.got->len, ==, 2000);
    g_assert_cmpstr(st.got->pdata[1999], ==, "request 1999");
    hv_line_reader_free(st.r);
    g_ptr_array_unref(st.got);
    g_object_unref(s);
    g_string_free(in, TRUE);
}

static void on_cancelled(GObject *src, GAsyncResult *res, gpointer ud)
{
    struct async_state *st = ud;
    (void)src;
    g_assert_null(hv_line_reader_read_finish(NULL, res, NULL, &st->err));
    st->done = TRUE;
}

/* Freed while a read waits on a stream that never answers: the read ends
 * cancelled and nothing is touched after free (ASan and valgrind runs). */
static void free_while_reading(void)
{
    int p[2];
    g_assert_cmpint(pipe(p), ==, 0);
    GInputStream *s = g_unix_input_stream_new(p[0], TRUE);
    GCancellable *c = g_cancellable_new();
    struct async_state st = { NULL, NULL, FALSE, NULL };
    st.r = hv_line_reader_new(s, 100);
    hv_line_reader_read_async(st.r, c, on_cancelled, &st);
    g_main_context_iteration(NULL, FALSE);
    g_cancellable_cancel(c);
    hv_line_reader_free(st.r);
    while (!st.done)
        g_main_context_iteration(NULL, TRUE);
    g_assert_error(st.err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&st.err);
    g_object_unref(c);
    g_object_unref(s);
    close(p[1]);
}

static void json_depth(void)
{
    g_assert_true(hv_json_depth_ok("{}", 2, 1));
    g_assert_false(hv_json_depth_ok("[[]]", 4, 1));
    g_assert_true(hv_json_depth_ok("[[]]", 4, 2));
    g_assert_true(hv_json_depth_ok("[[],[],{}]", 10, 2));
    /* Brackets in strings, escaped quotes, an escaped backslash at the end
     * of a string. */
    const char *s = "{\"a\":\"[[[[\\\"[[[\",\"b\":\"\\\\\",\"c\":[1]}";
    g_assert_true(hv_json_depth_ok(s, strlen(s), 2));
    g_assert_false(hv_json_depth_ok(s, strlen(s), 1));
    size_t n = 100000;
    char *deep = g_malloc(n);
    memset(deep, '[', n);
    g_assert_false(hv_json_depth_ok(deep, n, HV_JSON_MAX_DEPTH));
    /* Unbalanced closers never make it negative. */
    memset(deep, ']', n / 2);
    g_assert_false(hv_json_depth_ok(deep, n, HV_JSON_MAX_DEPTH));
    g_assert_true(hv_json_depth_ok(deep, n / 2, HV_JSON_MAX_DEPTH));
    g_free(deep);
}

static void text_safe(void)
{
    /* Controls escaped, a backslash doubled, bad bytes replaced, good
     * UTF-8 kept. */
    g_autofree char *a = hv_text_safe("6.1\x1f\xff-amd64 \x1b]0;pwned\x07\\ \xc3\xa9", -1, 200);
    g_assert_cmpstr(a, ==, "6.1\\x1f\xef\xbf\xbd-amd64 \\x1b]0;pwned\\x07\\\\ \xc3\xa9");
    g_assert_true(g_utf8_validate(a, -1, NULL));
    /* Newlines forge log lines; C1 controls (U+0085, U+009B CSI) too. */
    g_autofree char *b = hv_text_safe("x\nFAKE: y\xc2\x9b" "2J", -1, 200);
    g_assert_cmpstr(b, ==, "x\\x0aFAKE: y\\x9b2J");
    /* A NUL inside the given length. */
    g_autofree char *c = hv_text_safe("a\0b", 3, 200);
    g_assert_cmpstr(c, ==, "a\\x00b");
    /* Cut at whole characters, marked. */
    g_autofree char *d = hv_text_safe("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", -1, 10);
    g_assert_cmpstr(d, ==, "\xc3\xa9\xc3\xa9\xc3\xa9...");
    g_assert_cmpuint(strlen(d), <=, 10);
    /* Every byte value, every length: valid UTF-8, no controls, bounded. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)(255 - i);
    for (size_t len = 0; len <= sizeof all; len += 17) {
        g_autofree char *e = hv_text_safe((const char *)all, (gssize)len, 64);
        g_assert_true(g_utf8_validate(e, -1, NULL));
        g_assert_cmpuint(strlen(e), <=, 64);
        for (const char *p = e; *p; p = g_utf8_next_char(p)) {
            gunichar ch = g_utf8_get_char(p);
            g_assert_false(ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0));
        }
    }
}

static void sizes(void)
{
    static const struct { const char *text; uint64_t v; } good[] = {
        {"0", 0}, {"123", 123}, {"10K", 10240}, {"512m", 512ull << 20}, {"2G", 2ull << 30},
        {"3GiB", 3ull << 30}, {"1T", 1ull << 40}, {"10MB", 10ull << 20}, {"4096B", 4096},
        {"0x100000", 0x100000}, {"0X1f", 0x1f}, {"0x1B", 0x1b}, {"0x4G", 4ull << 30},
        /* a leading zero is decimal: help says "decimal or 0x hex" */
        {"010000", 10000}, {"18446744073709551615", G_MAXUINT64},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        uint64_t v = 1;
        GError *err = NULL;
        g_assert_true(hv_parse_size(good[i].text, &v, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(v, ==, good[i].v);
    }
    const char *bad[] = { "", "G", "-1", "+1", "10X", "1.5G", "10 G", "99999999999T", "0x",
                          "0xG", "18446744073709551616", "1TB2", " 1", "0x10iB" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        uint64_t v;
        GError *err = NULL;
        g_assert_false(hv_parse_size(bad[i], &v, &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_clear_error(&err);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/line_reader/lines", lines);
    g_test_add_func("/line_reader/too-long", too_long);
    g_test_add_func("/line_reader/async", async_lines);
    g_test_add_func("/line_reader/free-while-reading", free_while_reading);
    g_test_add_func("/json_bounds/depth", json_depth);
    g_test_add_func("/text_safe/escapes", text_safe);
    g_test_add_func("/size_parse/sizes", sizes);
    return g_test_run();
}
