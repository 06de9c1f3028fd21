/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LZO pages (kdump flag 0x2): lzo1x_1, as makedumpfile -l writes them. */
#include <lzo/lzo1x.h>
#include <string.h>
#include "formats/codec.h"
#include "common/hv_error.h"

struct lzo_codec {
    struct hv_codec base;
    void *wrkmem;     /* LZO1X_1_MEM_COMPRESS bytes, allocated once */
    uint8_t *scratch; /* worst-case output for inputs up to SCRATCH_IN */
};

/* lzo1x_1 has no output limit, so when the caller's buffer is smaller than
 * the worst case (e.g. "only if smaller than a page") we compress into a
 * scratch buffer first.  Pages are at most 64 KiB. */
#define SCRATCH_IN (64 * 1024)

const struct hv_codec_ops hv_codec_lzo_ops;

static size_t lzo_bound(struct hv_codec *c, size_t in_len)
{
    (void)c;
    /* Worst-case expansion documented by LZO for lzo1x. */
    return in_len + in_len / 16 + 64 + 3;
}

static struct hv_codec *lzo_create(GError **err)
{
    static gsize inited;

    /* lzo_init() only checks the library's ABI; doing it once is enough. */
    if (g_once_init_enter(&inited)) {
        gsize ok = lzo_init() == LZO_E_OK ? 1 : 2;
        g_once_init_leave(&inited, ok);
    }
    if (inited != 1) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "lzo_init() failed");
        return NULL;
    }
    struct lzo_codec *l = g_new0(struct lzo_codec, 1);
    l->base.ops = &hv_codec_lzo_ops;
    l->wrkmem = g_malloc(LZO1X_1_MEM_COMPRESS);
    l->scratch = g_malloc(lzo_bound(&l->base, SCRATCH_IN));
    return &l->base;
}

static size_t lzo_compress(struct hv_codec *c, const void *in, size_t in_len,
                           void *out, size_t out_cap)
{
    struct lzo_codec *l = (struct lzo_codec *)c;
    lzo_uint olen = 0;

    if (out_cap >= lzo_bound(c, in_len)) {
        if (lzo1x_1_compress(in, in_len, out, &olen, l->wrkmem) != LZO_E_OK)
            return 0;
        return olen;
    }
    if (in_len > SCRATCH_IN ||
        lzo1x_1_compress(in, in_len, l->scratch, &olen, l->wrkmem) != LZO_E_OK ||
        olen > out_cap)
        return 0;
    memcpy(out, l->scratch, olen);
    return olen;
}

static gboolean lzo_decompress(struct hv_codec *c, const void *in, size_t in_len,
                               void *out, size_t out_len, GError **err)
{
    lzo_uint olen = out_len;
    (void)c;
    int r = lzo1x_decompress_safe(in, in_len, out, &olen, NULL);
    if (r != LZO_E_OK || olen != out_len) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "lzo page does not decompress to %zu bytes (lzo error %d, got %zu)",
                    out_len, r, (size_t)olen);
        return FALSE;
    }
    return TRUE;
}

static void lzo_destroy(struct hv_codec *c)
{
    struct lzo_codec *l = (struct lzo_codec *)c;
    if (!l)
        return;
    g_free(l->wrkmem);
    g_free(l->scratch);
    g_free(l);
}

const struct hv_codec_ops hv_codec_lzo_ops = {
    .name = "lzo",
    .kdump_flag = HV_KDUMP_LZO,
    .create = lzo_create,
    .bound = lzo_bound,
    .compress = lzo_compress,
    .decompress = lzo_decompress,
    .destroy = lzo_destroy,
};
