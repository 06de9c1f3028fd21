/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cheap looks at a page's bytes that let a codec skip work: a page of
 * random-looking bytes will not shrink, and a page that repeats a short
 * pattern can be encoded directly.  Pure functions, no allocation. */
#ifndef HV_PAGE_PROBE_H
#define HV_PAGE_PROBE_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* TRUE when a sample of the page looks like uniformly random bytes
 * (compressed or encrypted data, key material).  Never TRUE for pages
 * shorter than 1 KiB. */
gboolean hv_page_looks_random(const uint8_t *page, size_t len);

/* The smallest period q in 1..max_period with page[i] == page[i + q] for
 * every i, or 0 when there is none (or len <= q).  Gives up (0) after a few
 * candidates that fail late, so its cost stays far below a compressor's. */
size_t hv_page_period(const uint8_t *page, size_t len, size_t max_period);

/* Writes the stream for a page with the given period (the codec's direct
 * encoder); 0 when it does not fit. */
typedef size_t (*hv_periodic_encoder)(const uint8_t *page, size_t len, size_t period,
                                      uint8_t *out, size_t out_cap);

/* The pages a codec need not search for matches: TRUE with *n = 0 for a
 * random-looking page (store it raw), TRUE with *n = the stream's length
 * for a page repeating a 2..max_period byte pattern that encode wrote to
 * out.  FALSE: compress the page as usual.  Single-byte pages are left to
 * the library, whose own form is smaller (zlib: a dynamic Huffman block
 * with a 1-bit code for its one copy; zstd: an RLE block), and which
 * dumper/page_compress.c calls once per byte value anyway. */
gboolean hv_page_shortcut(const uint8_t *page, size_t len, size_t max_period,
                          hv_periodic_encoder encode, uint8_t *out, size_t out_cap, size_t *n);

#endif
