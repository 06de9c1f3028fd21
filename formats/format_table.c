/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/format_table.h"
#include "common/hv_error.h"

#include <string.h>

static const struct hv_format formats[] = {
    {"elf", &hv_elf_writer_ops, HV_CODEC_ZSTD, "elf", NULL},
    {"kdump-zlib", &hv_kdump_writer_ops, HV_CODEC_ZLIB, "kdump", NULL},
    {"kdump-lzo", &hv_kdump_writer_ops, HV_CODEC_LZO, "kdump", NULL},
    {"kdump-snappy", &hv_kdump_writer_ops, HV_CODEC_SNAPPY, "kdump", NULL},
    {"kdump-zstd", &hv_kdump_writer_ops, HV_CODEC_ZSTD, "kdump", NULL},
};

const struct hv_format *hv_format_table(size_t *n)
{
    *n = G_N_ELEMENTS(formats);
    return formats;
}

gboolean hv_format_matches(const struct hv_format *f, const char *name)
{
    if (!name)
        return FALSE;
    if (strcmp(name, f->name) == 0)
        return TRUE;
    for (const char *const *a = f->aliases; a && *a; a++)
        if (strcmp(name, *a) == 0)
            return TRUE;
    return FALSE;
}

const struct hv_format *hv_format_find(const char *name, GError **err)
{
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++)
        if (hv_format_matches(&formats[i], name))
            return &formats[i];
    g_autofree char *names = hv_format_names(", ");
    g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "unknown format '%s' (%s)",
                name ? name : "", names);
    return NULL;
}

char *hv_format_names(const char *last_sep)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        if (i > 0)
            g_string_append(s, i + 1 == G_N_ELEMENTS(formats) ? last_sep : ", ");
        g_string_append(s, formats[i].name);
    }
    return g_string_free(s, FALSE);
}

gboolean hv_format_parse(const char *name, const struct hv_writer_ops **wops,
                         enum hv_codec_id *codec, GError **err)
{
    const struct hv_format *f = hv_format_find(name, err);
    if (!f)
        return FALSE;
    *wops = f->writer;
    *codec = f->codec;
    return TRUE;
}
