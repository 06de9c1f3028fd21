/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The page probes and the periodic zlib and zstd encoders
 * (formats/page_probe.c, deflate_periodic.c, zstd_periodic.c).  The input builds a page: byte 0 the
 * pattern length, bytes 1-2 the page length, bytes 3-5 an optional byte to
 * spoil, the rest the pattern.  Whatever period the probe reports must be
 * the page's smallest, and each encoder's stream must decode (zlib,
 * libdeflate, libzstd) to the page exactly, and never overrun a short
 * buffer. */
#include "formats/deflate_periodic.h"
#include "formats/page_probe.h"
#include "formats/zstd_periodic.h"
#include "fuzz_common.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#define HEADER 6
#define MAX_PAGE 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The frame's one block is no larger than its window, the content size
 * (newer libzstd releases refuse it otherwise). */
static gboolean zstd_block_fits(const uint8_t *frame, size_t n, size_t len)
{
    size_t at = 4 + 1 + ((frame[4] & 0xc0) == 0x40 ? 2 : 4);
    if (n < at + 3)
        return FALSE;
    size_t block = (frame[at] | (size_t)frame[at + 1] << 8 | (size_t)frame[at + 2] << 16) >> 3;
    return block <= len;
}

static gboolean has_period(const uint8_t *p, size_t len, size_t q)
{
    return q < len && memcmp(p, p + q, len - q) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER + 1)
        return 0;
    size_t pattern_len = (size_t)data[0] + 1;
    size_t len = ((size_t)data[1] | (size_t)data[2] << 8) % MAX_PAGE + 1;
    const uint8_t *pattern = data + HEADER;
    size_t have = size - HEADER;
    uint8_t *page = malloc(len);
    if (!page)
        abort();
    for (size_t i = 0; i < len; i++)
        page[i] = pattern[(i % pattern_len) % have];
    if (data[5] & 1)
        page[((size_t)data[3] | (size_t)data[4] << 8) % len] ^= (uint8_t)(data[5] | 1);

    (void)hv_page_looks_random(page, len);
    size_t q = hv_page_period(page, len, HV_DEFLATE_PERIODIC_MAX);
    if (q) {
        if (!has_period(page, len, q))
            abort();
        for (size_t smaller = 1; smaller < q; smaller++)
            if (has_period(page, len, smaller))
                abort();
    }
    /* Encode with the period found, else with the pattern's own length
     * when the page (unspoilt) repeats it. */
    size_t period = q ? q : (has_period(page, len, pattern_len) ? pattern_len : 0);
    if (period && period <= HV_DEFLATE_PERIODIC_MAX) {
        size_t cap = len + 2048;
        uint8_t *out = malloc(cap), *back = malloc(len);
        if (!out || !back)
            abort();
        size_t n = hv_zlib_encode_periodic(page, len, period, out, cap);
        if (n == 0)
            abort();
        uLongf blen = len;
        if (uncompress(back, &blen, out, n) != Z_OK || blen != len || memcmp(back, page, len))
            abort();
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        size_t got = 0;
        if (!d || libdeflate_zlib_decompress(d, out, n, back, len, &got) != LIBDEFLATE_SUCCESS ||
            got != len || memcmp(back, page, len))
            abort();
        libdeflate_free_decompressor(d);
        /* A short buffer, exactly sized so ASan sees any overrun. */
        size_t short_cap = n * data[5] / 256;
        uint8_t *tight = malloc(short_cap ? short_cap : 1);
        if (!tight || hv_zlib_encode_periodic(page, len, period, tight, short_cap) != 0)
            abort();
        free(tight);
        if (len >= period + 3) {
            n = hv_zstd_encode_periodic(page, len, period, out, cap);
            /* 0 is allowed only for a page shorter than any valid frame's block. */
            if (n == 0 && len >= HV_ZSTD_PERIODIC_BLOCK_MAX(period))
                abort();
        }
        if (len >= period + 3 && n != 0) {
            if (ZSTD_getFrameContentSize(out, n) != len || !zstd_block_fits(out, n, len))
                abort();
            size_t r = ZSTD_decompress(back, len, out, n);
            if (ZSTD_isError(r) || r != len || memcmp(back, page, len))
                abort();
            short_cap = n * data[5] / 256;
            tight = malloc(short_cap ? short_cap : 1);
            if (!tight || hv_zstd_encode_periodic(page, len, period, tight, short_cap) != 0)
                abort();
            free(tight);
        }
        free(out);
        free(back);
    }
    free(page);
    return 0;
}
