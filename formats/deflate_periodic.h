/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A zlib stream for a page that repeats a short pattern, written directly
 * instead of searched for: the pattern as literals, then copies of it. */
#ifndef HV_DEFLATE_PERIODIC_H
#define HV_DEFLATE_PERIODIC_H

#include <stddef.h>
#include <stdint.h>

/* Largest pattern this encoder is worth using for: its literals are coded
 * with the fixed Huffman table (8-9 bits each), which a general compressor
 * beats on long text patterns. */
#define HV_DEFLATE_PERIODIC_MAX 256

/* Encodes page (len bytes, page[i] == page[i + period] for every i, as
 * hv_page_period() finds; 1 <= period <= HV_DEFLATE_PERIODIC_MAX) as an RFC
 * 1950 zlib stream holding one fixed-Huffman deflate block.  Returns the
 * stream's length, or 0 when it would not fit in out_cap or period is out
 * of range; out is not written past out_cap. */
size_t hv_zlib_encode_periodic(const uint8_t *page, size_t len, size_t period,
                               uint8_t *out, size_t out_cap);

#endif
