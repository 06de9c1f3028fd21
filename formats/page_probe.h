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

#endif
