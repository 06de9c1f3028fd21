/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One worker's page compressor: the codec, plus a cache for pages filled
 * with a single byte value.  Such pages are common beyond zero (poisoned
 * free pages, 0xff-filled bitmaps and buffers) and compress to the same few
 * bytes every time: the codec runs once per value, later pages copy the
 * result.  The bytes are exactly what the codec would have produced. */
#ifndef HV_PAGE_COMPRESS_H
#define HV_PAGE_COMPRESS_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include "formats/codec.h"

struct hv_page_compressor;

/* out_cap: the capacity of every dst given to hv_page_compress (at least
 * ops->bound(page)).  Allocates everything it will ever need here. */
struct hv_page_compressor *hv_page_compressor_new(const struct hv_codec_ops *ops,
                                                  size_t out_cap, GError **err);
void hv_page_compressor_free(struct hv_page_compressor *pc);

/* Compresses one page into dst; returns its size, or 0 when the page is to
 * be stored raw (the codec's contract).  No allocation. */
size_t hv_page_compress(struct hv_page_compressor *pc, const uint8_t *page, size_t page_size,
                        uint8_t *dst);

/* TRUE when every byte of page equals page[0]. */
gboolean hv_page_is_uniform(const uint8_t *page, size_t page_size);

#endif
