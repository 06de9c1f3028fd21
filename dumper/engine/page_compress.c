/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/engine/page_compress.h"

#include <string.h>

/* A single-byte page compresses to ~20 bytes with zlib and zstd, ~200 with
 * snappy (a copy is at most 64 bytes long); anything bigger is not cached. */
#define UNIFORM_MAX 256
#define NOT_CACHED 0xffffu

struct hv_page_compressor {
    const struct hv_codec_ops *ops;
    struct hv_codec *codec;
    size_t out_cap;
    uint16_t uniform_len[256];              /* NOT_CACHED until seen */
    uint8_t uniform[256][UNIFORM_MAX];
};

struct hv_page_compressor *hv_page_compressor_new(const struct hv_codec_ops *ops,
                                                  size_t out_cap, GError **err)
{
    struct hv_page_compressor *pc = g_new(struct hv_page_compressor, 1);
    pc->ops = ops;
    pc->out_cap = out_cap;
    for (size_t i = 0; i < G_N_ELEMENTS(pc->uniform_len); i++)
        pc->uniform_len[i] = NOT_CACHED;
    if (!(pc->codec = ops->create(err))) {
        g_free(pc);
        return NULL;
    }
    return pc;
}

void hv_page_compressor_free(struct hv_page_compressor *pc)
{
    if (!pc)
        return;
    pc->ops->destroy(pc->codec);
    g_free(pc);
}

gboolean hv_page_is_uniform(const uint8_t *page, size_t page_size)
{
    if (page_size < 8)
        return page_size == 0 || memcmp(page, page + 1, page_size - 1) == 0;
    /* Most pages differ within the first word: settle those cheaply.  Then
     * page[i] == page[i + 8] everywhere extends the first word's byte to
     * the whole page. */
    for (size_t i = 1; i < 8; i++)
        if (page[i] != page[0])
            return FALSE;
    return memcmp(page, page + 8, page_size - 8) == 0;
}

size_t hv_page_compress(struct hv_page_compressor *pc, const uint8_t *page, size_t page_size,
                        uint8_t *dst)
{
    if (!hv_page_is_uniform(page, page_size))
        return pc->ops->compress(pc->codec, page, page_size, dst, pc->out_cap);
    uint8_t b = page[0];
    size_t n = pc->uniform_len[b];
    if (n != NOT_CACHED) {
        memcpy(dst, pc->uniform[b], n);
        return n;
    }
    n = pc->ops->compress(pc->codec, page, page_size, dst, pc->out_cap);
    /* Cache only what a later page could use whole (0 = raw is cached too). */
    if (n <= UNIFORM_MAX) {
        memcpy(pc->uniform[b], dst, n);
        pc->uniform_len[b] = (uint16_t)n;
    }
    return n;
}
