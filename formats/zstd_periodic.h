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
/* Largest block the encoder writes for a pattern of period bytes: literals
 * header (<= 2), the literals, sequence count, modes and three codes (5),
 * and at most 33 bits of bit stream (5 bytes).  Pages at least this long
 * always encode (given room in out). */
#define HV_ZSTD_PERIODIC_BLOCK_MAX(period) ((size_t)(period) + 12)

/* Encodes page (len bytes, page[i] == page[i + period] for every i, as
 * hv_page_period() finds; 1 <= period <= HV_ZSTD_PERIODIC_MAX, period + 3
 * <= len <= HV_ZSTD_PERIODIC_MAX_PAGE) as one RFC 8878 frame with its
 * content size, one compressed block, one sequence.  Returns the frame's
 * length, or 0 when it would not fit in out_cap, the arguments are out of
 * range, or the block would be larger than the page (tiny pages: at most
 * HV_ZSTD_PERIODIC_BLOCK_MAX(period) - 1 bytes); out is not written past
 * out_cap.
 *
 * Why the last case: a single-segment frame's window is its content size,
 * and a block may not exceed the window (RFC 8878 3.1.1.2.3).  libzstd
 * releases from Debian's 1.5.4+dfsg2-5+deb12u1 on enforce it ("Src size is
 * incorrect"); older ones decoded such frames anyway. */
size_t hv_zstd_encode_periodic(const uint8_t *page, size_t len, size_t period,
                               uint8_t *out, size_t out_cap);

#endif
