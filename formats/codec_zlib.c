/* SPDX-License-Identifier: GPL-2.0-or-later */
/* zlib pages (kdump flag 0x1): an RFC 1950 stream, which is what makedumpfile
 * and crash feed to uncompress().  libdeflate makes the same format faster
 * than zlib itself; level 1 because dump time matters more than size. */
#include <libdeflate.h>
#include "formats/codec.h"
#include "formats/deflate_periodic.h"
#include "common/hv_error.h"
#include "formats/page_probe.h"

const struct hv_codec_ops hv_codec_zlib_ops;

struct zlib_codec {
    struct hv_codec base;
    struct libdeflate_compressor *comp;
    struct libdeflate_decompressor *decomp;
};

static void zlib_destroy(struct hv_codec *c)
{
    struct zlib_codec *z = (struct zlib_codec *)c;
    if (!z)
        return;
    libdeflate_free_compressor(z->comp);
    libdeflate_free_decompressor(z->decomp);
    g_free(z);
}

static struct hv_codec *zlib_create(GError **err)
{
    struct zlib_codec *z = g_new0(struct zlib_codec, 1);

    z->base.ops = &hv_codec_zlib_ops;
    z->comp = libdeflate_alloc_compressor(1);
    z->decomp = libdeflate_alloc_decompressor();
    if (!z->comp || !z->decomp) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "cannot allocate a libdeflate (zlib) context");
        zlib_destroy(&z->base);
        return NULL;
    }
    return &z->base;
}

static size_t zlib_bound(struct hv_codec *c, size_t in_len)
{
    return libdeflate_zlib_compress_bound(((struct zlib_codec *)c)->comp, in_len);
}

/* Two kinds of page skip the search for matches, which costs deflate about
 * as much on them as on text.  Random-looking pages (hv_page_looks_random)
 * would not shrink: stored raw.  Pages repeating a pattern of at most 256
 * bytes (memset patterns, poison, arrays of one value) are written as the
 * pattern plus copies of it, ~10x faster than libdeflate finds them and
 * within a byte of its size on the test guest's marker pages (78 bytes
 * against 77-78). */
static size_t zlib_compress(struct hv_codec *c, const void *in, size_t in_len,
                            void *out, size_t out_cap)
{
    size_t n;
    if (hv_page_shortcut(in, in_len, HV_DEFLATE_PERIODIC_MAX, hv_zlib_encode_periodic, out,
                         out_cap, &n))
        return n;
    /* 0 when it does not fit: exactly our contract. */
    return libdeflate_zlib_compress(((struct zlib_codec *)c)->comp, in, in_len,
                                    out, out_cap);
}

static gboolean zlib_decompress(struct hv_codec *c, const void *in, size_t in_len,
                                void *out, size_t out_len, GError **err)
{
    size_t got = 0;
    enum libdeflate_result r = libdeflate_zlib_decompress(
        ((struct zlib_codec *)c)->decomp, in, in_len, out, out_len, &got);
    if (r != LIBDEFLATE_SUCCESS || got != out_len) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "zlib page does not decompress to %zu bytes (libdeflate result %d, got %zu)",
                    out_len, (int)r, got);
        return FALSE;
    }
    return TRUE;
}

const struct hv_codec_ops hv_codec_zlib_ops = {
    .name = "zlib",
    .kdump_flag = HV_KDUMP_ZLIB,
    .create = zlib_create,
    .bound = zlib_bound,
    .compress = zlib_compress,
    .decompress = zlib_decompress,
    .destroy = zlib_destroy,
};
