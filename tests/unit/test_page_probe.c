/* SPDX-License-Identifier: GPL-2.0-or-later */
/* formats/page_probe.c, deflate_periodic.c and zstd_periodic.c: the probes
 * find what they claim and nothing else, and every periodic stream is one
 * that zlib's own uncompress() and libzstd's ZSTD_decompressDCtx() (what
 * crash and makedumpfile call) turn back into the page. */
#include <glib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "formats/codec.h"
#include "formats/deflate_periodic.h"
#include "formats/page_probe.h"
#include "formats/zstd_periodic.h"

#define PS 4096

static void fill_random(uint8_t *buf, size_t len, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)g_rand_int(r);
    g_rand_free(r);
}

/* page = pattern (period bytes) repeated, starting `phase` bytes into it. */
static void fill_periodic(uint8_t *page, size_t len, const uint8_t *pattern, size_t period,
                          size_t phase)
{
    for (size_t i = 0; i < len; i++)
        page[i] = pattern[(i + phase) % period];
}

static void fill_text(uint8_t *page, size_t len)
{
    static const char *words[] = {"ffffffffa3400000 T _stext\n", "sched_clock ", "do_one_initcall",
                                  " t ", "kmem_cache_alloc", "0123", "\n"};
    size_t pos = 0;
    for (unsigned i = 0; pos < len; i = i * 7 + 3) {
        const char *w = words[i % G_N_ELEMENTS(words)];
        for (size_t j = 0; w[j] && pos < len; j++)
            page[pos++] = (uint8_t)w[j];
    }
}

static void looks_random(void)
{
    uint8_t page[PS];
    fill_random(page, PS, 1);
    g_assert_true(hv_page_looks_random(page, PS));
    fill_text(page, PS);
    g_assert_false(hv_page_looks_random(page, PS));
    /* A ramp has every byte value but near-equal neighbours. */
    for (size_t i = 0; i < PS; i++)
        page[i] = (uint8_t)(i / 2);
    g_assert_false(hv_page_looks_random(page, PS));
    /* Random half twice: each sample appears twice, too few distinct. */
    fill_random(page, PS / 2, 2);
    memcpy(page + PS / 2, page, PS / 2);
    g_assert_false(hv_page_looks_random(page, PS));
    fill_random(page, 512, 3);
    g_assert_false(hv_page_looks_random(page, 512));   /* too short to judge */
}

static void period_found(void)
{
    uint8_t pattern[300], page[PS];
    fill_random(pattern, sizeof(pattern), 4);
    for (size_t q = 1; q <= 256; q++) {
        for (size_t phase = 0; phase < q; phase += 1 + q / 5) {
            fill_periodic(page, PS, pattern, q, phase);
            g_assert_cmpuint(hv_page_period(page, PS, 256), ==, q);
        }
    }
    /* The smallest period, not a multiple of it. */
    fill_periodic(page, PS, (const uint8_t *)"abab", 4, 0);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 2);
    /* Beyond the limit. */
    fill_periodic(page, PS, pattern, 257, 0);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    g_assert_cmpuint(hv_page_period(page, PS, 257), ==, 257);
}

static void period_not_found(void)
{
    uint8_t page[PS];
    fill_text(page, PS);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    fill_random(page, PS, 5);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    /* Periodic but for the last byte: every shift is a candidate. */
    memset(page, 'A', PS);
    page[PS - 1] = 'B';
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    /* ... or the first. */
    page[PS - 1] = 'A';
    page[0] = 'B';
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    /* Tiny and empty pages. */
    g_assert_cmpuint(hv_page_period(page, 1, 256), ==, 0);
    g_assert_cmpuint(hv_page_period(page, 0, 256), ==, 0);
    g_assert_cmpuint(hv_page_period((const uint8_t *)"xx", 2, 256), ==, 1);
}

/* The codec's own decompressor (libdeflate, libzstd) gives page back from
 * the n bytes at out; back is scratch of len bytes. */
static void codec_agrees(enum hv_codec_id id, const uint8_t *out, size_t n, const uint8_t *page,
                         size_t len, uint8_t *back)
{
    const struct hv_codec_ops *ops = hv_codec_by_id(id);
    struct hv_codec *c = ops->create(NULL);
    memset(back, 0, len);
    g_assert_true(ops->decompress(c, out, n, back, len, NULL));
    g_assert_cmpmem(page, len, back, len);
    ops->destroy(c);
}

/* Encodes, checks the size against the bound and that zlib gives the page
 * back, bit for bit, with nothing left over. */
static size_t encode_and_check(const uint8_t *page, size_t len, size_t period)
{
    size_t cap = len + 1024;
    uint8_t *out = g_malloc(cap), *back = g_malloc(len + 1);
    size_t n = hv_zlib_encode_periodic(page, len, period, out, cap);
    g_assert_cmpuint(n, >, 6);
    uLongf blen = len + 1;
    g_assert_cmpint(uncompress(back, &blen, out, n), ==, Z_OK);
    g_assert_cmpuint(blen, ==, len);
    g_assert_cmpmem(page, len, back, len);
    codec_agrees(HV_CODEC_ZLIB, out, n, page, len, back);
    g_free(out);
    g_free(back);
    return n;
}

static void periodic_round_trip(void)
{
    uint8_t pattern[256], page[PS];
    for (guint32 seed = 0; seed < 3; seed++) {
        fill_random(pattern, sizeof(pattern), 10 + seed);
        /* High bytes (9-bit literal codes) in some patterns only. */
        if (seed == 1)
            for (size_t i = 0; i < sizeof(pattern); i++)
                pattern[i] &= 0x7f;
        for (size_t q = 1; q <= HV_DEFLATE_PERIODIC_MAX; q++) {
            fill_periodic(page, PS, pattern, q, seed * 7 % q);
            size_t n = encode_and_check(page, PS, q);
            /* Literals at <= 9 bits plus ~16 copies at <= 24 bits. */
            g_assert_cmpuint(n, <=, 6 + 1 + q * 9 / 8 + 16 * 3 + 2);
        }
    }
    /* The test guest's marker pages: 36-byte lines. */
    const char *line = "HVDUMP-MARKER-PAGE-0123456789abcdef\n";
    fill_periodic(page, PS, (const uint8_t *)line, 36, 28);
    g_assert_cmpuint(encode_and_check(page, PS, 36), <, 80);
}

static void periodic_sizes(void)
{
    /* Page sizes of other architectures and the copy-splitting edges: after
     * the pattern, left = 258 * k + r for every r. */
    static const size_t lens[] = {3, 4, 5, 64, 258, 259, 260, 261, 262, 516, 517, 518, 519,
                                  16384, 65536};
    uint8_t pattern[256];
    fill_random(pattern, sizeof(pattern), 20);
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        uint8_t *page = g_malloc(lens[i]);
        for (size_t q = 1; q <= 3 && q <= lens[i]; q++) {
            fill_periodic(page, lens[i], pattern, q, 0);
            encode_and_check(page, lens[i], q);
        }
        for (size_t extra = 0; extra < 4 && lens[i] > 261; extra++) {
            size_t q = 200 + extra;
            fill_periodic(page, lens[i], pattern, q, 0);
            encode_and_check(page, lens[i], q);
        }
        g_free(page);
    }
    /* The pattern is the whole page: literals only. */
    encode_and_check(pattern, 200, 200);
}

static void periodic_limits(void)
{
    uint8_t page[PS], out[PS];
    memset(page, 0x5a, PS);
    /* Out of range periods. */
    g_assert_cmpuint(hv_zlib_encode_periodic(page, PS, 0, out, sizeof(out)), ==, 0);
    g_assert_cmpuint(hv_zlib_encode_periodic(page, PS, HV_DEFLATE_PERIODIC_MAX + 1, out,
                                             sizeof(out)), ==, 0);
    g_assert_cmpuint(hv_zlib_encode_periodic(page, 10, 11, out, sizeof(out)), ==, 0);
    /* Every cap short of the stream: 0 and not a byte written past it. */
    size_t full = hv_zlib_encode_periodic(page, PS, 1, out, sizeof(out));
    g_assert_cmpuint(full, >, 0);
    for (size_t cap = 0; cap < full; cap++) {
        memset(out, 0xee, sizeof(out));
        g_assert_cmpuint(hv_zlib_encode_periodic(page, PS, 1, out, cap), ==, 0);
        for (size_t i = cap; i < sizeof(out); i++)
            g_assert_cmpuint(out[i], ==, 0xee);
    }
    g_assert_cmpuint(hv_zlib_encode_periodic(page, PS, 1, out, full), ==, full);
}

/* Through the codec: a periodic page takes the direct path, and its output
 * is what uncompress() expects. */
static void codec_uses_periodic(void)
{
    const struct hv_codec_ops *ops = hv_codec_by_id(HV_CODEC_ZLIB);
    struct hv_codec *c = ops->create(NULL);
    uint8_t page[PS], out[PS * 2], direct[PS * 2], back[PS];
    fill_periodic(page, PS, (const uint8_t *)"0123456789abcdef0123", 20, 3);
    size_t n = ops->compress(c, page, PS, out, sizeof(out));
    size_t d = hv_zlib_encode_periodic(page, PS, 20, direct, sizeof(direct));
    g_assert_cmpmem(out, n, direct, d);
    uLongf blen = PS;
    g_assert_cmpint(uncompress(back, &blen, out, n), ==, Z_OK);
    g_assert_cmpmem(page, PS, back, blen);
    ops->destroy(c);
}

/* The single block's size, read from the frame's block header (after the
 * magic, the descriptor and a 2- or 4-byte content size). */
static size_t zstd_block_size(const uint8_t *frame, size_t n)
{
    size_t at = 4 + 1 + ((frame[4] & 0xc0) == 0x40 ? 2 : 4);
    g_assert_cmpuint(n, >=, at + 3);
    uint32_t header = frame[at] | (uint32_t)frame[at + 1] << 8 | (uint32_t)frame[at + 2] << 16;
    return header >> 3;
}

/* The zstd frame: libzstd gives the page back, the frame records the
 * content size, its block is no larger than the window (the content size:
 * checked here by hand, since only newer libzstd releases check it), and
 * the codec's decompressor agrees.  A page too short for any valid frame
 * gives 0. */
static size_t zstd_encode_and_check(const uint8_t *page, size_t len, size_t period)
{
    size_t cap = len + 1024;
    uint8_t *out = g_malloc(cap), *back = g_malloc(len + 1);
    size_t n = hv_zstd_encode_periodic(page, len, period, out, cap);
    if (n == 0) {
        g_assert_cmpuint(len, <, HV_ZSTD_PERIODIC_BLOCK_MAX(period));
        g_free(out);
        g_free(back);
        return 0;
    }
    g_assert_cmpuint(zstd_block_size(out, n), <=, len);
    g_assert_cmpuint(ZSTD_getFrameContentSize(out, n), ==, len);
    g_assert_cmpuint(ZSTD_findFrameCompressedSize(out, n), ==, n);
    size_t r = ZSTD_decompress(back, len + 1, out, n);
    g_assert_false(ZSTD_isError(r));
    g_assert_cmpuint(r, ==, len);
    g_assert_cmpmem(page, len, back, len);
    codec_agrees(HV_CODEC_ZSTD, out, n, page, len, back);
    g_free(out);
    g_free(back);
    return n;
}

static void zstd_round_trip(void)
{
    uint8_t pattern[256], page[PS];
    for (guint32 seed = 0; seed < 2; seed++) {
        fill_random(pattern, sizeof(pattern), 30 + seed);
        for (size_t q = 1; q <= HV_ZSTD_PERIODIC_MAX; q++) {
            fill_periodic(page, PS, pattern, q, seed * 5 % q);
            size_t n = zstd_encode_and_check(page, PS, q);
            /* Headers (4 + 3 + 3), literals, 5 bytes of sequence header,
             * <= 5 of bit stream. */
            g_assert_cmpuint(n, <=, 10 + 2 + q + 5 + 5);
        }
    }
    const char *line = "HVDUMP-MARKER-PAGE-0123456789abcdef\n";
    fill_periodic(page, PS, (const uint8_t *)line, 36, 28);
    g_assert_cmpuint(zstd_encode_and_check(page, PS, 36), <, 64);
}

static void zstd_sizes(void)
{
    /* Every match length code's edges and both content-size fields. */
    static const size_t lens[] = {3, 4, 37, 38, 255, 256, 257, 4096, 8192, 16384, 65536,
                                  65791, 65792, 131072};
    uint8_t pattern[256];
    fill_random(pattern, sizeof(pattern), 40);
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        uint8_t *page = g_malloc(lens[i]);
        for (size_t q = 1; q <= HV_ZSTD_PERIODIC_MAX && q + 3 <= lens[i]; q = q * 3 + 1) {
            fill_periodic(page, lens[i], pattern, q, 1);
            zstd_encode_and_check(page, lens[i], q);
        }
        g_free(page);
    }
    /* Match lengths 3..600 and literal lengths 1..40 exhaustively. */
    uint8_t page2[640];
    for (size_t q = 1; q <= 40; q++)
        for (size_t len = q + 3; len <= q + 600; len += (len < q + 80 ? 1 : 7)) {
            fill_periodic(page2, len, pattern, q, 0);
            zstd_encode_and_check(page2, len, q);
        }
}

/* Every period with every page length up to past the block bound: pages
 * shorter than their block give 0 (libzstd from Debian's deb12u1 on rejects
 * such frames: 1,475 of these pairs did before), longer ones always encode. */
static void zstd_tiny_pages(void)
{
    uint8_t pattern[HV_ZSTD_PERIODIC_MAX], page[HV_ZSTD_PERIODIC_MAX + 40];
    fill_random(pattern, sizeof(pattern), 41);
    size_t refused = 0;
    for (size_t q = 1; q <= HV_ZSTD_PERIODIC_MAX; q++)
        for (size_t len = q + 3; len <= HV_ZSTD_PERIODIC_BLOCK_MAX(q) + 24; len++) {
            fill_periodic(page, len, pattern, q, 0);
            if (zstd_encode_and_check(page, len, q) == 0)
                refused++;
            else
                g_assert_cmpuint(len, >, q + 3);
        }
    g_assert_cmpuint(refused, >, 0);
}

static void zstd_limits(void)
{
    static uint8_t page[HV_ZSTD_PERIODIC_MAX_PAGE + 1];
    uint8_t out[512];
    memset(page, 0x5a, sizeof(page));
    g_assert_cmpuint(hv_zstd_encode_periodic(page, PS, 0, out, sizeof(out)), ==, 0);
    g_assert_cmpuint(hv_zstd_encode_periodic(page, PS, HV_ZSTD_PERIODIC_MAX + 1, out,
                                             sizeof(out)), ==, 0);
    g_assert_cmpuint(hv_zstd_encode_periodic(page, 12, 10, out, sizeof(out)), ==, 0);
    g_assert_cmpuint(hv_zstd_encode_periodic(page, sizeof(page), 1, out, sizeof(out)), ==, 0);
    size_t full = hv_zstd_encode_periodic(page, PS, 1, out, sizeof(out));
    g_assert_cmpuint(full, >, 0);
    for (size_t cap = 0; cap < full; cap++) {
        memset(out, 0xee, sizeof(out));
        g_assert_cmpuint(hv_zstd_encode_periodic(page, PS, 1, out, cap), ==, 0);
        for (size_t i = cap; i < sizeof(out); i++)
            g_assert_cmpuint(out[i], ==, 0xee);
    }
}

/* Through the codec: periodic pages take the direct path. */
static void zstd_codec_uses_periodic(void)
{
    const struct hv_codec_ops *ops = hv_codec_by_id(HV_CODEC_ZSTD);
    struct hv_codec *c = ops->create(NULL);
    uint8_t page[PS], out[PS * 2], direct[PS * 2];
    fill_periodic(page, PS, (const uint8_t *)"0123456789abcdef0123", 20, 3);
    size_t n = ops->compress(c, page, PS, out, sizeof(out));
    size_t d = hv_zstd_encode_periodic(page, PS, 20, direct, sizeof(direct));
    g_assert_cmpmem(out, n, direct, d);
    ops->destroy(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/page_probe/looks-random", looks_random);
    g_test_add_func("/page_probe/period-found", period_found);
    g_test_add_func("/page_probe/period-not-found", period_not_found);
    g_test_add_func("/deflate_periodic/round-trip", periodic_round_trip);
    g_test_add_func("/deflate_periodic/sizes", periodic_sizes);
    g_test_add_func("/deflate_periodic/limits", periodic_limits);
    g_test_add_func("/deflate_periodic/codec", codec_uses_periodic);
    g_test_add_func("/zstd_periodic/round-trip", zstd_round_trip);
    g_test_add_func("/zstd_periodic/sizes", zstd_sizes);
    g_test_add_func("/zstd_periodic/tiny-pages", zstd_tiny_pages);
    g_test_add_func("/zstd_periodic/limits", zstd_limits);
    g_test_add_func("/zstd_periodic/codec", zstd_codec_uses_periodic);
    return g_test_run();
}
