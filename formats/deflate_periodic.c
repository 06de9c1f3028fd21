/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deflate (RFC 1951) facts used here: bits are packed from the least
 * significant end of each byte; Huffman codes go most significant bit
 * first, extra bits least significant first.  The fixed table (block type
 * 1, section 3.2.6) codes literals 0-143 in 8 bits from 0x30, 144-255 in 9
 * bits from 0x190, symbols 256-279 in 7 bits from 0, 280-287 in 8 bits from
 * 0xc0, and distance codes in 5 bits.  Copies may overlap their source,
 * which is what makes a copy at distance `period` repeat the pattern. */
#include "formats/deflate_periodic.h"

#include <libdeflate.h>

#define END_OF_BLOCK 256
#define MIN_MATCH 3
#define MAX_MATCH 258

static const uint16_t length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[16] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
};
static const uint8_t dist_extra[16] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
};

struct bit_writer {
    uint8_t *out;
    size_t cap, pos;        /* pos may pass cap: then the result is 0 */
    uint64_t bits;
    unsigned n_bits;
};

static void put_bits(struct bit_writer *w, uint32_t value, unsigned count)
{
    w->bits |= (uint64_t)value << w->n_bits;
    w->n_bits += count;
    while (w->n_bits >= 8) {
        if (w->pos < w->cap)
            w->out[w->pos] = (uint8_t)w->bits;
        w->pos++;
        w->bits >>= 8;
        w->n_bits -= 8;
    }
}

static void put_code(struct bit_writer *w, uint32_t code, unsigned count)
{
    uint32_t reversed = 0;
    for (unsigned i = 0; i < count; i++)
        reversed |= ((code >> i) & 1u) << (count - 1 - i);
    put_bits(w, reversed, count);
}

static void put_literal(struct bit_writer *w, uint8_t v)
{
    if (v < 144)
        put_code(w, 0x30u + v, 8);
    else
        put_code(w, 0x190u + (v - 144u), 9);
}

static void put_symbol(struct bit_writer *w, unsigned sym)
{
    if (sym < 280)
        put_code(w, sym - 256u, 7);
    else
        put_code(w, 0xc0u + (sym - 280u), 8);
}

static void put_copy(struct bit_writer *w, unsigned length, unsigned distance)
{
    unsigned l = 28;
    while (length_base[l] > length)
        l--;
    put_symbol(w, 257 + l);
    put_bits(w, length - length_base[l], length_extra[l]);
    unsigned d = 15;
    while (dist_base[d] > distance)
        d--;
    put_code(w, d, 5);
    put_bits(w, distance - dist_base[d], dist_extra[d]);
}

static void put_byte(struct bit_writer *w, uint8_t b)
{
    put_bits(w, b, 8);
}

size_t hv_zlib_encode_periodic(const uint8_t *page, size_t len, size_t period,
                               uint8_t *out, size_t out_cap)
{
    struct bit_writer w = {.out = out, .cap = out_cap};

    if (period < 1 || period > HV_DEFLATE_PERIODIC_MAX || period > len)
        return 0;
    /* zlib header: deflate with a 32 KiB window, "fastest" level, no
     * dictionary; 0x7801 is a multiple of 31 as the check bits require. */
    put_byte(&w, 0x78);
    put_byte(&w, 0x01);
    put_bits(&w, 1, 1);         /* BFINAL */
    put_bits(&w, 1, 2);         /* BTYPE 01: fixed Huffman codes */
    for (size_t i = 0; i < period; i++)
        put_literal(&w, page[i]);
    size_t pos = period;
    while (len - pos >= MIN_MATCH) {
        size_t left = len - pos;
        size_t copy = left < MAX_MATCH ? left : MAX_MATCH;
        /* Never leave 1 or 2 bytes, which no copy can cover. */
        if (left > MAX_MATCH && left - MAX_MATCH < MIN_MATCH)
            copy = left - MIN_MATCH;
        put_copy(&w, (unsigned)copy, (unsigned)period);
        pos += copy;
    }
    while (pos < len)           /* fewer than 3 bytes after the pattern */
        put_literal(&w, page[pos++]);
    put_symbol(&w, END_OF_BLOCK);
    if (w.n_bits)
        put_bits(&w, 0, 8 - w.n_bits);
    uint32_t adler = libdeflate_adler32(1, page, len);
    for (int shift = 24; shift >= 0; shift -= 8)
        put_byte(&w, (uint8_t)(adler >> shift));
    return w.pos <= out_cap ? w.pos : 0;
}
