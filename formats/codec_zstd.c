/* SPDX-License-Identifier: GPL-2.0-or-later */
/* zstd pages (kdump flag 0x20), level 1, one frame per page with the content
 * size recorded (makedumpfile decompresses with ZSTD_decompressDCtx). */
#include <zstd.h>
#include "formats/codec.h"
#include "common/hv_error.h"
#include "formats/page_probe.h"
#include "formats/zstd_periodic.h"

struct zstd_codec {
    struct hv_codec base;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
};

const struct hv_codec_ops hv_codec_zstd_ops;

static void zstd_destroy(struct hv_codec *c)
{
    struct zstd_codec *z = (struct zstd_codec *)c;
    if (!z)
        return;
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    g_free(z);
}

static struct hv_codec *zstd_create(GError **err)
{
    struct zstd_codec *z = g_new0(struct zstd_codec, 1);

    z->base.ops = &hv_codec_zstd_ops;
    z->cctx = ZSTD_createCCtx();
    z->dctx = ZSTD_createDCtx();
    if (!z->cctx || !z->dctx ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, 1))) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "cannot set up a zstd context");
        zstd_destroy(&z->base);
        return NULL;
    }
    return &z->base;
}

static size_t zstd_bound(struct hv_codec *c, size_t in_len)
{
    (void)c;
    return ZSTD_compressBound(in_len);
}

static size_t zstd_compress(struct hv_codec *c, const void *in, size_t in_len,
                            void *out, size_t out_cap)
{
    struct zstd_codec *z = (struct zstd_codec *)c;
    /* zstd gives up on random bytes faster than deflate, still ~4 us a page
     * where the sample takes ~0.3: a sixth of its time on the test guest.
     * A page repeating a 2-256 byte pattern becomes one sequence written
     * directly (formats/zstd_periodic.c), ~10x faster than zstd finds it
     * and within a byte of its size (56 bytes against 55 on the test
     * guest's marker pages). */
    size_t n;
    if (hv_page_shortcut(in, in_len, HV_ZSTD_PERIODIC_MAX, hv_zstd_encode_periodic, out,
                         out_cap, &n))
        return n;
    size_t r = ZSTD_compress2(z->cctx, out, out_cap, in, in_len);
    /* dstSize_tooSmall (or anything else) means: store the page raw. */
    return ZSTD_isError(r) ? 0 : r;
}

static gboolean zstd_decompress(struct hv_codec *c, const void *in, size_t in_len,
                                void *out, size_t out_len, GError **err)
{
    struct zstd_codec *z = (struct zstd_codec *)c;
    size_t r = ZSTD_decompressDCtx(z->dctx, out, out_len, in, in_len);
    if (ZSTD_isError(r) || r != out_len) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "zstd page does not decompress to %zu bytes (%s)", out_len,
                    ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short");
        return FALSE;
    }
    return TRUE;
}

const struct hv_codec_ops hv_codec_zstd_ops = {
    .name = "zstd",
    .kdump_flag = HV_KDUMP_ZSTD,
    .create = zstd_create,
    .bound = zstd_bound,
    .compress = zstd_compress,
    .decompress = zstd_decompress,
    .destroy = zstd_destroy,
};
