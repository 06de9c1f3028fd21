/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>
#include "formats/flat.h"
#include "common/hv_error.h"

/* Sequential in-memory sink that insists on gap-free, increasing offsets. */
struct seq_sink {
    struct hv_sink base;
    GByteArray *bytes;
    int flushes;
};

static gboolean seq_write(struct hv_sink *s, uint64_t off, const void *buf,
                          size_t len, GError **err)
{
    struct seq_sink *q = (struct seq_sink *)s;
    if (off != q->bytes->len) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "non-sequential write");
        return FALSE;
    }
    g_byte_array_append(q->bytes, buf, (guint)len);
    s->next_offset = q->bytes->len;
    return TRUE;
}

static gboolean seq_flush(struct hv_sink *s, GError **err)
{
    (void)err;
    ((struct seq_sink *)s)->flushes++;
    return TRUE;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

struct rec {
    int64_t off, size;
    const uint8_t *data;
};

/* Parses the stream; returns records (end record excluded), checks end. */
static GArray *parse(GByteArray *b)
{
    GArray *recs = g_array_new(FALSE, FALSE, sizeof(struct rec));
    g_assert_cmpuint(b->len, >=, HV_FLAT_HEADER_SIZE + 16);
    g_assert_true(hv_flat_is_header(b->data, b->len));
    g_assert_cmpstr((const char *)b->data, ==, "makedumpfile");
    for (int i = 12; i < 16; i++)
        g_assert_cmpuint(b->data[i], ==, 0);
    g_assert_cmpuint(be64(b->data + 16), ==, 1);
    g_assert_cmpuint(be64(b->data + 24), ==, 1);
    for (int i = 32; i < HV_FLAT_HEADER_SIZE; i++)
        g_assert_cmpuint(b->data[i], ==, 0);
    size_t pos = HV_FLAT_HEADER_SIZE;
    for (;;) {
        g_assert_cmpuint(pos + 16, <=, b->len);
        struct rec r = {(int64_t)be64(b->data + pos), (int64_t)be64(b->data + pos + 8), NULL};
        pos += 16;
        if (r.off == -1 && r.size == -1)
            break;
        g_assert_cmpint(r.off, >=, 0);
        g_assert_cmpint(r.size, >, 0);
        g_assert_cmpuint(pos + (size_t)r.size, <=, b->len);
        r.data = b->data + pos;
        pos += (size_t)r.size;
        g_array_append_val(recs, r);
    }
    g_assert_cmpuint(pos, ==, b->len);
    return recs;
}

static void layout_and_coalescing(void)
{
    struct seq_sink q = {{seq_write, seq_flush, FALSE, 0, NULL, NULL}, g_byte_array_new(), 0};
    struct hv_flat_sink *f = hv_flat_sink_new(&q.base);
    struct hv_sink *s = hv_flat_sink_base(f);
    GError *err = NULL;
    uint8_t page[4096];

    g_assert_true(s->random_access);
    /* 100 contiguous 4 KiB writes from 8192: one record. */
    for (int i = 0; i < 100; i++) {
        memset(page, i, sizeof(page));
        g_assert_true(hv_sink_write(s, 8192 + (uint64_t)i * 4096, page, sizeof(page), &err));
    }
    /* A write back to offset 0 (a header): a new record. */
    g_assert_true(hv_sink_write(s, 0, "KDUMP   ", 8, &err));
    /* A big (5 MiB) write: goes out without splitting the offsets wrong. */
    size_t big_len = 5u << 20;
    uint8_t *big = g_malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 31);
    g_assert_true(hv_sink_write(s, 1u << 30, big, big_len, &err));
    g_assert_true(s->flush(s, &err));
    g_assert_cmpint(q.flushes, ==, 1);
    g_assert_true(hv_flat_sink_finish(f, &err));
    g_assert_no_error(err);

    GArray *recs = parse(q.bytes);
    g_assert_cmpuint(recs->len, ==, 3);
    struct rec *r = &g_array_index(recs, struct rec, 0);
    g_assert_cmpint(r->off, ==, 8192);
    g_assert_cmpint(r->size, ==, 100 * 4096);
    g_assert_cmpuint(r->data[0], ==, 0);
    g_assert_cmpuint(r->data[99 * 4096], ==, 99);
    r = &g_array_index(recs, struct rec, 1);
    g_assert_cmpint(r->off, ==, 0);
    g_assert_cmpint(r->size, ==, 8);
    g_assert_cmpmem(r->data, 8, "KDUMP   ", 8);
    r = &g_array_index(recs, struct rec, 2);
    g_assert_cmpint(r->off, ==, 1 << 30);
    g_assert_cmpint(r->size, ==, (int64_t)big_len);
    g_assert_cmpmem(r->data, big_len, big, big_len);

    g_array_free(recs, TRUE);
    g_free(big);
    hv_flat_sink_free(f);
    g_byte_array_free(q.bytes, TRUE);
}

/* A long contiguous run beyond the pending buffer: several records that
 * still tile the range exactly. */
static void long_run_splits(void)
{
    struct seq_sink q = {{seq_write, seq_flush, FALSE, 0, NULL, NULL}, g_byte_array_new(), 0};
    struct hv_flat_sink *f = hv_flat_sink_new(&q.base);
    struct hv_sink *s = hv_flat_sink_base(f);
    uint8_t buf[3000];
    uint64_t off = 12345;

    for (int i = 0; i < 3000; i++) {
        memset(buf, i & 0xff, sizeof(buf));
        g_assert_true(hv_sink_write(s, off, buf, sizeof(buf), NULL));
        off += sizeof(buf);
    }
    g_assert_true(hv_flat_sink_finish(f, NULL));
    GArray *recs = parse(q.bytes);
    g_assert_cmpuint(recs->len, >=, 2);
    g_assert_cmpuint(recs->len, <=, 4);
    uint64_t expect = 12345;
    for (guint i = 0; i < recs->len; i++) {
        struct rec *r = &g_array_index(recs, struct rec, i);
        g_assert_cmpint(r->off, ==, (int64_t)expect);
        for (int64_t k = 0; k < r->size; k += 997) {
            uint64_t pos = expect - 12345 + (uint64_t)k;
            g_assert_cmpuint(r->data[k], ==, (pos / 3000) & 0xff);
        }
        expect += (uint64_t)r->size;
    }
    g_assert_cmpuint(expect, ==, off);
    g_array_free(recs, TRUE);
    hv_flat_sink_free(f);
    g_byte_array_free(q.bytes, TRUE);
}

static void empty_stream_and_probe(void)
{
    struct seq_sink q = {{seq_write, seq_flush, FALSE, 0, NULL, NULL}, g_byte_array_new(), 0};
    struct hv_flat_sink *f = hv_flat_sink_new(&q.base);
    g_assert_true(hv_flat_sink_finish(f, NULL));
    g_assert_cmpuint(q.bytes->len, ==, HV_FLAT_HEADER_SIZE + 16);
    GArray *recs = parse(q.bytes);
    g_assert_cmpuint(recs->len, ==, 0);
    g_array_free(recs, TRUE);
    hv_flat_sink_free(f);

    uint8_t hdr[HV_FLAT_HEADER_SIZE] = {0};
    g_assert_false(hv_flat_is_header(hdr, sizeof(hdr)));
    memcpy(hdr, "KDUMP   ", 8);
    g_assert_false(hv_flat_is_header(hdr, sizeof(hdr)));
    memcpy(hdr, q.bytes->data, sizeof(hdr));
    g_assert_true(hv_flat_is_header(hdr, sizeof(hdr)));
    hdr[23] = 2; /* type 2 */
    g_assert_false(hv_flat_is_header(hdr, sizeof(hdr)));
    g_byte_array_free(q.bytes, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/flat/layout-and-coalescing", layout_and_coalescing);
    g_test_add_func("/flat/long-run", long_run_splits);
    g_test_add_func("/flat/empty-and-probe", empty_stream_and_probe);
    return g_test_run();
}
