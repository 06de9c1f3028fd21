/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Codec lookup.  Each codec lives in its own codec_*.c file. */
#include "formats/codec.h"

extern const struct hv_codec_ops hv_codec_zlib_ops;
extern const struct hv_codec_ops hv_codec_lzo_ops;
extern const struct hv_codec_ops hv_codec_snappy_ops;
extern const struct hv_codec_ops hv_codec_zstd_ops;

const struct hv_codec_ops *hv_codec_by_id(enum hv_codec_id id)
{
    switch (id) {
    case HV_CODEC_ZLIB:   return &hv_codec_zlib_ops;
    case HV_CODEC_LZO:    return &hv_codec_lzo_ops;
    case HV_CODEC_SNAPPY: return &hv_codec_snappy_ops;
    case HV_CODEC_ZSTD:   return &hv_codec_zstd_ops;
    }
    return NULL;
}

const struct hv_codec_ops *hv_codec_by_kdump_flag(uint32_t flag)
{
    switch (flag) {
    case HV_KDUMP_ZLIB:   return &hv_codec_zlib_ops;
    case HV_KDUMP_LZO:    return &hv_codec_lzo_ops;
    case HV_KDUMP_SNAPPY: return &hv_codec_snappy_ops;
    case HV_KDUMP_ZSTD:   return &hv_codec_zstd_ops;
    default:              return NULL;
    }
}
