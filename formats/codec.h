/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Page compressors.  One object per worker thread, created once and reused
 * for every page; the caller owns the output buffer, sized with bound().
 * No allocation happens in compress()/decompress(). */
#ifndef HV_CODEC_H
#define HV_CODEC_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* kdump page_desc.flags / header status values (diskdump_mod.h). */
#define HV_KDUMP_ZLIB   0x01u
#define HV_KDUMP_LZO    0x02u
#define HV_KDUMP_SNAPPY 0x04u
#define HV_KDUMP_ZSTD   0x20u

enum hv_codec_id { HV_CODEC_ZLIB, HV_CODEC_LZO, HV_CODEC_SNAPPY, HV_CODEC_ZSTD };

struct hv_codec;

struct hv_codec_ops {
    const char *name;       /* "zlib", "lzo", "snappy", "zstd" */
    uint32_t kdump_flag;    /* HV_KDUMP_* */
    struct hv_codec *(*create)(GError **err);
    size_t (*bound)(struct hv_codec *c, size_t in_len);
    /* Returns compressed size, or 0 when the page is to be stored raw: the
     * output would not fit in out_cap, or the codec judged from a sample
     * that it would not shrink (zlib, zstd: hv_page_looks_random()).  Never fails
     * otherwise. */
    size_t (*compress)(struct hv_codec *c, const void *in, size_t in_len,
                       void *out, size_t out_cap);
    /* Decompresses exactly out_len bytes; FALSE with a message otherwise. */
    gboolean (*decompress)(struct hv_codec *c, const void *in, size_t in_len,
                           void *out, size_t out_len, GError **err);
    void (*destroy)(struct hv_codec *c);
};

struct hv_codec {
    const struct hv_codec_ops *ops;
};

const struct hv_codec_ops *hv_codec_by_id(enum hv_codec_id id);
/* By kdump flag (exactly one bit of the HV_KDUMP_* set), NULL if unknown. */
const struct hv_codec_ops *hv_codec_by_kdump_flag(uint32_t flag);

#endif
