/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A zstd frame for a page that repeats a short pattern, written directly
 * instead of searched for: the pattern as raw literals, then one match. */
#ifndef HV_ZSTD_PERIODIC_H
#define HV_ZSTD_PERIODIC_H

#include <stddef.h>
#include <stdint.h>

/* Largest pattern worth it: literals are stored raw (8 bits each), which
 * zstd's own Huffman-coded literals beat on long text patterns. */
#define HV_ZSTD_PERIODIC_MAX 256
/* Largest page: one block of at most 128 KiB. */
#define HV_ZSTD_PERIODIC_MAX_PAGE (128u << 10)

/* Encodes page (len bytes, page[i] == page[i + period] for every i, as
 * hv_page_period() finds; 1 <= period <= HV_ZSTD_PERIODIC_MAX, period + 3
 * <= len <= HV_ZSTD_PERIODIC_MAX_PAGE) as one RFC 8878 frame with its
 * content size, one compressed block, one sequence.  Returns the frame's
 * length, or 0 when it would not fit in out_cap or the arguments are out
 * of range; out is not written past out_cap. */
size_t hv_zstd_encode_periodic(const uint8_t *page, size_t len, size_t period,
                               uint8_t *out, size_t out_cap);

#endif
