/* SPDX-License-Identifier: GPL-2.0-or-later */
/* formats/format_table.c: every name selects its own row (writer, codec,
 * extension as hvdump has always used them), aliases select their row,
 * unknown names fail with a message listing the valid ones, and the names
 * join the way the help text and that message print them. */
#include <glib.h>
#include "common/hv_error.h"
#include "formats/format_table.h"

static const struct {
    const char *name;
    const struct hv_writer_ops *writer;
    enum hv_codec_id codec;
    const char *ext;
} expected[] = {
    {"elf", &hv_elf_writer_ops, HV_CODEC_ZSTD, "elf"},
    {"kdump-zlib", &hv_kdump_writer_ops, HV_CODEC_ZLIB, "kdump"},
    {"kdump-lzo", &hv_kdump_writer_ops, HV_CODEC_LZO, "kdump"},
    {"kdump-snappy", &hv_kdump_writer_ops, HV_CODEC_SNAPPY, "kdump"},
    {"kdump-zstd", &hv_kdump_writer_ops, HV_CODEC_ZSTD, "kdump"},
};

static void every_name_finds_its_row(void)
{
    size_t n;
    const struct hv_format *t = hv_format_table(&n);
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(expected));
    for (size_t i = 0; i < n; i++) {
        GError *err = NULL;
        const struct hv_format *f = hv_format_find(expected[i].name, &err);
        g_assert_no_error(err);
        g_assert_true(f == &t[i]);
        g_assert_cmpstr(f->name, ==, expected[i].name);
        g_assert_true(f->writer == expected[i].writer);
        g_assert_cmpint(f->codec, ==, expected[i].codec);
        g_assert_cmpstr(f->ext, ==, expected[i].ext);
        /* The codec is one the writer can use: kdump rows name a codec that
         * has a kdump flag. */
        if (f->writer->compresses)
            g_assert_cmpuint(hv_codec_by_id(f->codec)->kdump_flag, !=, 0);

        const struct hv_writer_ops *w = NULL;
        enum hv_codec_id c = (enum hv_codec_id)-1;
        g_assert_true(hv_format_parse(expected[i].name, &w, &c, &err));
        g_assert_no_error(err);
        g_assert_true(w == expected[i].writer);
        g_assert_cmpint(c, ==, expected[i].codec);
    }
}

static void aliases(void)
{
    static const char *const alias_list[] = {"zst", "kdump-zst", NULL};
    const struct hv_format row = {"kdump-zstd", &hv_kdump_writer_ops, HV_CODEC_ZSTD, "kdump",
                                  alias_list};
    g_assert_true(hv_format_matches(&row, "kdump-zstd"));
    g_assert_true(hv_format_matches(&row, "zst"));
    g_assert_true(hv_format_matches(&row, "kdump-zst"));
    g_assert_false(hv_format_matches(&row, "ZST"));
    g_assert_false(hv_format_matches(&row, "kdump"));
    g_assert_false(hv_format_matches(&row, NULL));

    /* The real rows: no alias equals any name, so no name is ambiguous. */
    size_t n;
    const struct hv_format *t = hv_format_table(&n);
    for (size_t i = 0; i < n; i++)
        for (const char *const *a = t[i].aliases; a && *a; a++)
            for (size_t j = 0; j < n; j++)
                g_assert_cmpstr(*a, !=, t[j].name);
}

static void unknown_names_fail(void)
{
    static const char *const bad[] = {"", "ELF", "kdump", "kdump-bzip", "kdump-zstd ", "zstd"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *err = NULL;
        g_assert_null(hv_format_find(bad[i], &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_autofree char *want = g_strdup_printf(
            "unknown format '%s' (elf, kdump-zlib, kdump-lzo, kdump-snappy, kdump-zstd)", bad[i]);
        g_assert_cmpstr(err->message, ==, want);
        g_clear_error(&err);
    }
    GError *err = NULL;
    const struct hv_writer_ops *w = NULL;
    enum hv_codec_id c = HV_CODEC_ZLIB;
    g_assert_false(hv_format_parse(NULL, &w, &c, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "unknown format '' (elf, kdump-zlib, kdump-lzo, kdump-snappy, kdump-zstd)");
    g_clear_error(&err);
    g_assert_null(hv_format_find("nope", NULL)); /* err is optional */
}

static void names_joined(void)
{
    g_autofree char *or = hv_format_names(" or ");
    g_assert_cmpstr(or, ==, "elf, kdump-zlib, kdump-lzo, kdump-snappy or kdump-zstd");
    g_autofree char *comma = hv_format_names(", ");
    g_assert_cmpstr(comma, ==, "elf, kdump-zlib, kdump-lzo, kdump-snappy, kdump-zstd");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/format_table/every-name-finds-its-row", every_name_finds_its_row);
    g_test_add_func("/format_table/aliases", aliases);
    g_test_add_func("/format_table/unknown-names-fail", unknown_names_fail);
    g_test_add_func("/format_table/names-joined", names_joined);
    return g_test_run();
}
