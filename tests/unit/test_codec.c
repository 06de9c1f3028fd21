/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>
#include <zlib.h>
#include "formats/codec.h"
#include "common/hv_error.h"

#define PS 4096

static void fill_random(uint8_t *buf, size_t len, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)g_rand_int(r);
    g_rand_free(r);
}

static void round_trip(gconstpointer data)
{
    enum hv_codec_id id = GPOINTER_TO_INT(data);
    const struct hv_codec_ops *ops = hv_codec_by_id(id);
    GError *err = NULL;
    struct hv_codec *c = ops->create(&err);
    g_assert_no_error(err);
    g_assert_nonnull(c);
    g_assert_true(c->ops == ops);
    g_assert_true(hv_codec_by_kdump_flag(ops->kdump_flag) == ops);

    size_t cap = ops->bound(c, PS);
    g_assert_cmpuint(cap, >=, PS);
    uint8_t *in = g_malloc(PS), *out = g_malloc(cap), *back = g_malloc(PS);

    /* Compressible: repeated text. */
    for (size_t i = 0; i < PS; i++)
        in[i] = "hvdump page "[i % 12];
    size_t n = ops->compress(c, in, PS, out, cap);
    g_assert_cmpuint(n, >, 0);
    g_assert_cmpuint(n, <, PS / 4);
    g_assert_true(ops->decompress(c, out, n, back, PS, &err));
    g_assert_no_error(err);
    g_assert_cmpmem(in, PS, back, PS);

    /* Reuse of the same object with other input: zeros. */
    memset(in, 0, PS);
    n = ops->compress(c, in, PS, out, cap);
    g_assert_cmpuint(n, >, 0);
    memset(back, 0xaa, PS);
    g_assert_true(ops->decompress(c, out, n, back, PS, &err));
    g_assert_cmpmem(in, PS, back, PS);

    /* Incompressible: fits in bound, but not in a page-sized buffer. */
    fill_random(in, PS, 42 + id);
    n = ops->compress(c, in, PS, out, cap);
    if (id == HV_CODEC_ZLIB || id == HV_CODEC_ZSTD) {
        /* zlib and zstd do not even try a page that samples as random. */
        g_assert_cmpuint(n, ==, 0);
    } else {
        g_assert_cmpuint(n, >, 0);
        g_assert_true(ops->decompress(c, out, n, back, PS, &err));
        g_assert_cmpmem(in, PS, back, PS);
    }
    g_assert_cmpuint(ops->compress(c, in, PS, out, PS - 1), ==, 0);

    /* Tiny out_cap: 0, never an overrun. */
    for (size_t i = 0; i < PS; i++)
        in[i] = (uint8_t)(i / 64);
    out[8] = 0x5a;
    g_assert_cmpuint(ops->compress(c, in, PS, out, 8), ==, 0);
    g_assert_cmpuint(out[8], ==, 0x5a);
    /* A cap well below the bound that fits the compressed form still
     * works (the pipeline asks for "smaller than a page"); at exactly the
     * compressed size some libraries need slack and may refuse. */
    size_t full = ops->compress(c, in, PS, out, cap);
    g_assert_cmpuint(full, >, 0);
    n = ops->compress(c, in, PS, out, full + 64);
    g_assert_cmpuint(n, >, 0);
    g_assert_cmpuint(n, <=, full + 64);
    g_assert_true(ops->decompress(c, out, n, back, PS, &err));
    g_assert_cmpmem(in, PS, back, PS);
    n = ops->compress(c, in, PS, out, full);
    g_assert_true(n == 0 || n == full);

    /* Corrupt input: an error, not a crash. */
    memset(out, 0xff, 64);
    g_assert_false(ops->decompress(c, out, 64, back, PS, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_clear_error(&err);
    /* Wrong expected size. */
    n = ops->compress(c, in, PS, out, cap);
    g_assert_false(ops->decompress(c, out, n, back, PS / 2, &err));
    g_clear_error(&err);

    ops->destroy(c);
    g_free(in);
    g_free(out);
    g_free(back);
}

/* makedumpfile and crash use zlib's uncompress() on these pages. */
static void zlib_uncompress_accepts(void)
{
    const struct hv_codec_ops *ops = hv_codec_by_id(HV_CODEC_ZLIB);
    struct hv_codec *c = ops->create(NULL);
    uint8_t in[PS], out[PS * 2], back[PS];
    for (size_t i = 0; i < PS; i++)
        in[i] = (uint8_t)(i * 7 / 100);
    size_t n = ops->compress(c, in, PS, out, sizeof(out));
    g_assert_cmpuint(n, >, 0);
    uLongf blen = PS;
    g_assert_cmpint(uncompress(back, &blen, out, n), ==, Z_OK);
    g_assert_cmpuint(blen, ==, PS);
    g_assert_cmpmem(in, PS, back, PS);
    ops->destroy(c);
}

/* The random-page check must not give up on pages with many distinct byte
 * values that still compress: 2 KiB of random bytes twice over. */
static void zlib_random_check(void)
{
    const struct hv_codec_ops *ops = hv_codec_by_id(HV_CODEC_ZLIB);
    struct hv_codec *c = ops->create(NULL);
    uint8_t in[PS], out[PS * 2], back[PS];

    fill_random(in, PS / 2, 7);
    memcpy(in + PS / 2, in, PS / 2);
    size_t n = ops->compress(c, in, PS, out, sizeof(out));
    g_assert_cmpuint(n, >, 0);
    g_assert_cmpuint(n, <, PS * 6 / 10);
    g_assert_true(ops->decompress(c, out, n, back, PS, NULL));
    g_assert_cmpmem(in, PS, back, PS);
    ops->destroy(c);
}

static void lookup(void)
{
    g_assert_cmpstr(hv_codec_by_id(HV_CODEC_ZLIB)->name, ==, "zlib");
    g_assert_cmpuint(hv_codec_by_id(HV_CODEC_ZSTD)->kdump_flag, ==, 0x20);
    g_assert_cmpuint(hv_codec_by_id(HV_CODEC_SNAPPY)->kdump_flag, ==, 0x4);
    g_assert_cmpuint(hv_codec_by_id(HV_CODEC_LZO)->kdump_flag, ==, 0x2);
    g_assert_null(hv_codec_by_kdump_flag(0x8));
    g_assert_null(hv_codec_by_kdump_flag(0x10));
    g_assert_null(hv_codec_by_kdump_flag(0));
    g_assert_null(hv_codec_by_kdump_flag(0x3));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/codec/zlib", GINT_TO_POINTER(HV_CODEC_ZLIB), round_trip);
    g_test_add_data_func("/codec/lzo", GINT_TO_POINTER(HV_CODEC_LZO), round_trip);
    g_test_add_data_func("/codec/snappy", GINT_TO_POINTER(HV_CODEC_SNAPPY), round_trip);
    g_test_add_data_func("/codec/zstd", GINT_TO_POINTER(HV_CODEC_ZSTD), round_trip);
    g_test_add_func("/codec/zlib-uncompress", zlib_uncompress_accepts);
    g_test_add_func("/codec/zlib-random-check", zlib_random_check);
    g_test_add_func("/codec/lookup", lookup);
    return g_test_run();
}
