/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes the seed corpora of the dump-file fuzzers: tiny valid vmcores made
 * by hand and by our writers (tests/unit/reader_fixtures.c), plain and
 * flattened, plus a note blob.  Usage: gen-fuzz-seeds CORPUS_DIR
 * (creates CORPUS_DIR/fuzz_reader, fuzz_flat, fuzz_notes). */
#include "formats/notes.h"
#include "tests/unit/reader_fixtures.h"

#include <stdio.h>

static void put(const char *dir, const char *target, const char *name, GBytes *b)
{
    char *d = g_build_filename(dir, target, NULL);
    char *path = g_build_filename(d, name, NULL);
    GError *err = NULL;
    gsize len;
    const void *p = g_bytes_get_data(b, &len);

    g_mkdir_with_parents(d, 0755);
    if (!g_file_set_contents(path, p, (gssize)len, &err)) {
        fprintf(stderr, "gen-fuzz-seeds: %s\n", err->message);
        exit(1);
    }
    printf("%s %zu\n", path, (size_t)len);
    g_free(path);
    g_free(d);
}

/* flat: also a flattened copy (a few suffice: the flat layer is the same
 * whatever it carries, and the corpus should stay small). */
static void put_dump(const char *dir, const char *name, GBytes *plain, gboolean flat)
{
    put(dir, "fuzz_reader", name, plain);
    if (flat) {
        char *fname = g_strconcat(name, ".flat", NULL);
        GBytes *f = fx_flatten(plain, 1);
        put(dir, "fuzz_reader", fname, f);
        put(dir, "fuzz_flat", fname, f);
        g_bytes_unref(f);
        g_free(fname);
    }
    g_bytes_unref(plain);
}

int main(int argc, char **argv)
{
    static const struct { enum hv_codec_id id; const char *name; } codecs[] = {
        { HV_CODEC_ZLIB, "kdump-zlib" }, { HV_CODEC_LZO, "kdump-lzo" },
        { HV_CODEC_SNAPPY, "kdump-snappy" }, { HV_CODEC_ZSTD, "kdump-zstd" },
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    put_dump(argv[1], "elf-hand", fx_elf_handmade(FALSE), TRUE);
    put_dump(argv[1], "elf-hand-xnum", fx_elf_handmade(TRUE), FALSE);
    put_dump(argv[1], "kdump-hand-v5", fx_kdump_handmade(5), FALSE);
    put_dump(argv[1], "kdump-hand-v6", fx_kdump_handmade(6), TRUE);
    for (size_t i = 0; i < G_N_ELEMENTS(codecs); i++)
        put_dump(argv[1], codecs[i].name,
                 fx_written(&hv_kdump_writer_ops, codecs[i].id, FALSE, FALSE),
                 codecs[i].id == HV_CODEC_ZSTD);

    size_t len;
    uint8_t *notes = hv_notes_build(fx_meta(), &len);
    GBytes *b = g_bytes_new_take(notes, len);
    put(argv[1], "fuzz_notes", "notes-2cpu", b);
    g_bytes_unref(b);
    return 0;
}
