/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Zstandard (RFC 8878) facts used here.  Frame: magic 0xFD2FB528, then a
 * descriptor byte; with Single_Segment set there is no window byte and the
 * window is the content size, stored in 2 bytes (minus 256) or 4.  Block
 * header: 3 bytes, bit 0 last block, bits 1-2 type (2 = compressed), the
 * rest the block's size.  Compressed block: literals section (type 0 =
 * raw, its size in a 1- or 2-byte header), then the sequences section:
 * their count, a byte of modes (literal lengths, offsets, match lengths in
 * bits 7-6, 5-4, 3-2; 1 = RLE: one code byte follows each, and its state
 * costs no bits), then a backward bit stream.  Its decoder starts at the
 * highest set bit of the last byte and, for the one sequence, reads the
 * offset's extra bits, then the match length's, then the literal
 * length's: so they are written in the opposite order.  An offset d is
 * sent as d + 3 (1-3 mean repeat offsets): code = its top bit, the bits
 * below are extra bits. */
#include "formats/zstd_periodic.h"

#include <glib.h>

#define MIN_MATCH 3

struct code { uint32_t base; uint8_t bits; };

/* Literal length codes 16-27 (0-15 stand for themselves). */
static const struct code ll_codes[] = {
    {16, 1}, {18, 1}, {20, 1}, {22, 1}, {24, 2}, {28, 2}, {32, 3}, {40, 3},
    {48, 4}, {64, 6}, {128, 7}, {256, 8},
};
/* Match length codes 32-52 (0-31 stand for lengths 3-34). */
static const struct code ml_codes[] = {
    {35, 1}, {37, 1}, {39, 1}, {41, 1}, {43, 2}, {47, 2}, {51, 3}, {59, 3},
    {67, 4}, {83, 4}, {99, 5}, {131, 7}, {259, 8}, {515, 9}, {1027, 10},
    {2051, 11}, {4099, 12}, {8195, 13}, {16387, 14}, {32771, 15}, {65539, 16},
};

/* The code in codes[] for value (>= codes[0].base): code = first + index. */
static unsigned table_code(uint32_t value, const struct code *codes, size_t n_codes,
                           unsigned first, unsigned *bits, uint32_t *extra)
{
    size_t i = n_codes - 1;
    while (codes[i].base > value)
        i--;
    *bits = codes[i].bits;
    *extra = value - codes[i].base;
    return first + (unsigned)i;
}

static unsigned ll_code(uint32_t literals, unsigned *bits, uint32_t *extra)
{
    if (literals < 16) {
        *bits = 0;
        *extra = 0;
        return literals;
    }
    return table_code(literals, ll_codes, G_N_ELEMENTS(ll_codes), 16, bits, extra);
}

static unsigned ml_code(uint32_t match, unsigned *bits, uint32_t *extra)
{
    if (match < 35) {
        *bits = 0;
        *extra = 0;
        return match - MIN_MATCH;
    }
    return table_code(match, ml_codes, G_N_ELEMENTS(ml_codes), 32, bits, extra);
}

static unsigned of_code(uint32_t offset, unsigned *bits, uint32_t *extra)
{
    uint32_t value = offset + 3;
    unsigned code = 31;
    while (!(value >> code))
        code--;
    *bits = code;
    *extra = value - (1u << code);
    return code;
}

struct out_buf {
    uint8_t *p;
    size_t cap, pos;    /* pos may pass cap: then the result is 0 */
};

static void put(struct out_buf *o, uint8_t b)
{
    if (o->pos < o->cap)
        o->p[o->pos] = b;
    o->pos++;
}

static void put_le(struct out_buf *o, uint32_t v, unsigned n_bytes)
{
    for (unsigned i = 0; i < n_bytes; i++)
        put(o, (uint8_t)(v >> (8 * i)));
}

size_t hv_zstd_encode_periodic(const uint8_t *page, size_t len, size_t period,
                               uint8_t *out, size_t out_cap)
{
    struct out_buf o = {.p = out, .cap = out_cap};

    if (period < 1 || period > HV_ZSTD_PERIODIC_MAX || len > HV_ZSTD_PERIODIC_MAX_PAGE ||
        len < period + MIN_MATCH)
        return 0;
    unsigned ll_bits, ml_bits, of_bits;
    uint32_t ll_extra, ml_extra, of_extra;
    unsigned ll = ll_code((uint32_t)period, &ll_bits, &ll_extra);
    unsigned ml = ml_code((uint32_t)(len - period), &ml_bits, &ml_extra);
    unsigned of = of_code((uint32_t)period, &of_bits, &of_extra);

    /* Frame header. */
    put_le(&o, 0xFD2FB528u, 4);
    if (len >= 256 && len <= 65791) {
        put(&o, 0x60);          /* 2-byte content size, single segment */
        put_le(&o, (uint32_t)len - 256, 2);
    } else {
        put(&o, 0xa0);          /* 4-byte content size, single segment */
        put_le(&o, (uint32_t)len, 4);
    }

    /* The block's size is known up front: literals header and literals,
     * count, modes, three RLE codes, and the bit stream. */
    unsigned stream_bits = ll_bits + ml_bits + of_bits + 1;  /* + end mark */
    size_t lit_header = period < 32 ? 1 : 2;
    size_t block = lit_header + period + 1 + 1 + 3 + (stream_bits + 7) / 8;
    g_assert(block <= HV_ZSTD_PERIODIC_BLOCK_MAX(period));
    if (block > len)
        return 0;   /* larger than the window: see the header */
    put_le(&o, (uint32_t)(block << 3) | (2u << 1) | 1u, 3);

    /* Literals: raw, the pattern once. */
    if (lit_header == 1) {
        put(&o, (uint8_t)(period << 3));
    } else {
        put(&o, (uint8_t)(1u << 2 | (period & 0xf) << 4));
        put(&o, (uint8_t)(period >> 4));
    }
    for (size_t i = 0; i < period; i++)
        put(&o, page[i]);

    /* Sequences: one, every table RLE. */
    put(&o, 1);
    put(&o, (1u << 6) | (1u << 4) | (1u << 2));
    put(&o, (uint8_t)ll);
    put(&o, (uint8_t)of);
    put(&o, (uint8_t)ml);
    uint64_t bits = ll_extra;  /* at most 8 + 16 + 8 + 1 bits */
    unsigned n = ll_bits;
    bits |= (uint64_t)ml_extra << n;
    n += ml_bits;
    bits |= (uint64_t)of_extra << n;
    n += of_bits;
    bits |= (uint64_t)1 << n;   /* end mark */
    n += 1;
    for (unsigned i = 0; i < n; i += 8)
        put(&o, (uint8_t)(bits >> i));
    return o.pos <= out_cap ? o.pos : 0;
}
