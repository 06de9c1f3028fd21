/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output formats, in one table: every place that names them (format
 * parsing, hvdumpd's file extension, help texts, the "unknown format"
 * message) reads it, so a format is added or renamed here alone.  The
 * names are `virsh dump --memory-only --format` names plus kdump-zstd.
 *
 *   const struct hv_format *f = hv_format_find(name, err);
 *   if (!f) return FALSE;                 // HV_ERROR_INVALID, lists the names
 *   ... f->writer, f->codec, f->ext ...
 *
 *   g_autofree char *names = hv_format_names(" or ");  // for a help text
 */
#ifndef HV_FORMAT_TABLE_H
#define HV_FORMAT_TABLE_H

#include <glib.h>
#include <stddef.h>
#include "formats/codec.h"
#include "formats/writer.h"

struct hv_format {
    const char *name;                   /* "kdump-zstd": what --format and format= take */
    const struct hv_writer_ops *writer; /* &hv_elf_writer_ops or &hv_kdump_writer_ops */
    /* Page compression.  Used only where writer->compresses (kdump); ELF
     * stores pages raw and its row holds HV_CODEC_ZSTD only as a valid id. */
    enum hv_codec_id codec;
    const char *ext;                    /* file name extension, no dot: "elf", "kdump" */
    /* Other names that select this row, NULL-terminated; NULL for none.  No
     * format has one today; an alias must not equal any row's name. */
    const char *const *aliases;
};

/* Every format, in the order help texts list them; *n is set to the count. */
const struct hv_format *hv_format_table(size_t *n);
/* TRUE when name is f's name or one of its aliases (exact, case-sensitive). */
gboolean hv_format_matches(const struct hv_format *f, const char *name);
/* The row name selects, or NULL with HV_ERROR_INVALID "unknown format 'NAME'
 * (elf, kdump-zlib, ...)" (name may be NULL: reported as ''). */
const struct hv_format *hv_format_find(const char *name, GError **err);
/* The table's names in order, ", " between them and last_sep before the
 * last one: hv_format_names(" or ") = "elf, kdump-zlib, ... or kdump-zstd".
 * g_free() the result. */
char *hv_format_names(const char *last_sep);
/* hv_format_find() for callers that want the writer and codec only.
 * Errors: HV_ERROR_INVALID for an unknown name. */
gboolean hv_format_parse(const char *name, const struct hv_writer_ops **wops,
                         enum hv_codec_id *codec, GError **err);

#endif
