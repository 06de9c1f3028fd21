/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>
#include "dumper/engine/page_compress.h"

#define PS 4096

static void uniform_detection(void)
{
    uint8_t page[PS];
    memset(page, 0x6b, PS);
    g_assert_true(hv_page_is_uniform(page, PS));
    page[PS - 1] = 0x6a; /* the very last byte differs */
    g_assert_false(hv_page_is_uniform(page, PS));
    page[PS - 1] = 0x6b;
    page[3] = 0; /* inside the first word */
    g_assert_false(hv_page_is_uniform(page, PS));
    page[3] = 0x6b;
    page[PS / 2] = 0; /* in the middle */
    g_assert_false(hv_page_is_uniform(page, PS));
    /* An 8-byte period that is not one byte: the first word settles it. */
    for (size_t i = 0; i < PS; i++)
        page[i] = (uint8_t)(i % 8);
    g_assert_false(hv_page_is_uniform(page, PS));
    g_assert_true(hv_page_is_uniform(page, 1));
}

/* The cache must give exactly the codec's bytes, page after page, for every
 * codec, and leave other pages to the codec. */
static void same_bytes_as_codec(gconstpointer data)
{
    const struct hv_codec_ops *ops = hv_codec_by_id(GPOINTER_TO_INT(data));
    GError *err = NULL;
    struct hv_codec *ref = ops->create(&err);
    g_assert_no_error(err);
    size_t cap = ops->bound(ref, PS);
    struct hv_page_compressor *pc = hv_page_compressor_new(ops, cap, &err);
    g_assert_no_error(err);
    uint8_t page[PS], *a = g_malloc(cap), *b = g_malloc(cap), back[PS];

    for (int round = 0; round < 3; round++) {
        for (unsigned v = 1; v < 256; v += 37) {
            memset(page, (int)v, PS);
            size_t want = ops->compress(ref, page, PS, a, cap);
            memset(b, 0, cap);
            size_t got = hv_page_compress(pc, page, PS, b);
            g_assert_cmpuint(got, ==, want);
            g_assert_cmpmem(a, want, b, got);
            g_assert_true(ops->decompress(ref, b, got, back, PS, NULL));
            g_assert_cmpmem(back, PS, page, PS);
        }
        /* A non-uniform page in between must not come from the cache. */
        for (size_t i = 0; i < PS; i++)
            page[i] = (uint8_t)(i * 31 / 7);
        size_t want = ops->compress(ref, page, PS, a, cap);
        size_t got = hv_page_compress(pc, page, PS, b);
        g_assert_cmpuint(got, ==, want);
        g_assert_cmpmem(a, want, b, got);
    }
    hv_page_compressor_free(pc);
    ops->destroy(ref);
    g_free(a);
    g_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/page_compress/uniform", uniform_detection);
    g_test_add_data_func("/page_compress/zlib", GINT_TO_POINTER(HV_CODEC_ZLIB), same_bytes_as_codec);
    g_test_add_data_func("/page_compress/lzo", GINT_TO_POINTER(HV_CODEC_LZO), same_bytes_as_codec);
    g_test_add_data_func("/page_compress/snappy", GINT_TO_POINTER(HV_CODEC_SNAPPY),
                         same_bytes_as_codec);
    g_test_add_data_func("/page_compress/zstd", GINT_TO_POINTER(HV_CODEC_ZSTD), same_bytes_as_codec);
    return g_test_run();
}
