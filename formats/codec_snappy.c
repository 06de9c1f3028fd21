/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Snappy pages (kdump flag 0x4), raw snappy format via the C API. */
#include <snappy-c.h>
#include <string.h>
#include "formats/codec.h"
#include "common/hv_error.h"

const struct hv_codec_ops hv_codec_snappy_ops;

/* snappy_compress() insists on a worst-case sized output, so smaller caller
 * buffers go through a scratch buffer (pages are at most 64 KiB). */
#define SCRATCH_IN (64 * 1024)

struct snappy_codec {
    struct hv_codec base;
    char *scratch;
};

static struct hv_codec *snappy_create(GError **err)
{
    (void)err;
    struct snappy_codec *s = g_new0(struct snappy_codec, 1);
    s->base.ops = &hv_codec_snappy_ops;
    s->scratch = g_malloc(snappy_max_compressed_length(SCRATCH_IN));
    return &s->base;
}

static size_t snappy_bound(struct hv_codec *c, size_t in_len)
{
    (void)c;
    return snappy_max_compressed_length(in_len);
}

static size_t snappy_compress_page(struct hv_codec *c, const void *in, size_t in_len,
                                   void *out, size_t out_cap)
{
    struct snappy_codec *s = (struct snappy_codec *)c;
    size_t olen = out_cap;

    if (out_cap >= snappy_max_compressed_length(in_len))
        return snappy_compress(in, in_len, out, &olen) == SNAPPY_OK ? olen : 0;
    if (in_len > SCRATCH_IN)
        return 0;
    olen = snappy_max_compressed_length(SCRATCH_IN);
    if (snappy_compress(in, in_len, s->scratch, &olen) != SNAPPY_OK || olen > out_cap)
        return 0;
    memcpy(out, s->scratch, olen);
    return olen;
}

static gboolean snappy_decompress(struct hv_codec *c, const void *in, size_t in_len,
                                  void *out, size_t out_len, GError **err)
{
    size_t ulen = 0;
    (void)c;
    if (snappy_uncompressed_length(in, in_len, &ulen) != SNAPPY_OK || ulen != out_len) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "snappy page does not decompress to %zu bytes", out_len);
        return FALSE;
    }
    if (snappy_uncompress(in, in_len, out, &ulen) != SNAPPY_OK || ulen != out_len) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT, "snappy page is corrupt");
        return FALSE;
    }
    return TRUE;
}

static void snappy_destroy(struct hv_codec *c)
{
    struct snappy_codec *s = (struct snappy_codec *)c;
    if (!s)
        return;
    g_free(s->scratch);
    g_free(s);
}

const struct hv_codec_ops hv_codec_snappy_ops = {
    .name = "snappy",
    .kdump_flag = HV_KDUMP_SNAPPY,
    .create = snappy_create,
    .bound = snappy_bound,
    .compress = snappy_compress_page,
    .decompress = snappy_decompress,
    .destroy = snappy_destroy,
};
