/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump info FILE [--json]: what a vmcore holds.  Everything comes from the
 * reader; the only work done here is counting all-zero pages, which needs
 * every page read. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "common/text_safe.h"
#include "formats/codec.h"
#include "formats/format_table.h"
#include "formats/reader.h"
#include "formats/vmcoreinfo.h"

struct info_facts {
    const char *path;
    const struct hv_vmcore_facts *di;
    size_t n_ranges;
    uint64_t zero_pages;
    char *osrelease, *pagesize, *crashtime; /* from VMCOREINFO, or NULL */
};

/* The codec of the first compressing format (table order: zlib, lzo,
 * snappy, zstd) whose kdump flag is among bits, "none" when there is none. */
static const char *compression_name(uint32_t bits)
{
    size_t n;
    const struct hv_format *f = hv_format_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (!f[i].writer->compresses)
            continue;
        const struct hv_codec_ops *c = hv_codec_by_id(f[i].codec);
        if (bits & c->kdump_flag)
            return c->name;
    }
    return "none";
}

static gboolean count_zero_pages(struct hv_vmcore *d, struct info_facts *f, GError **err)
{
    const struct hv_range *r = hv_vmcore_ranges(d, &f->n_ranges);
    const uint64_t ps = f->di->page_size;
    uint64_t *buf = g_malloc(ps);
    gboolean ok = TRUE;

    for (size_t i = 0; ok && i < f->n_ranges; i++) {
        const uint64_t end = (r[i].start + r[i].size) / ps;
        for (uint64_t pfn = r[i].start / ps; pfn < end; pfn++) {
            /* Pages no file data backs are zero by definition: count them
             * without reading (a damaged p_memsz can make terabytes). */
            uint64_t next = MIN(hv_vmcore_next_data_pfn(d, pfn), end);
            if (next > pfn) {
                f->zero_pages += next - pfn;
                pfn = next - 1;
                continue;
            }
            enum hv_read_status st = hv_vmcore_read_page(d, pfn, buf, err);
            if (st == HV_READ_ERROR) {
                ok = FALSE;
                break;
            }
            if (st != HV_READ_OK)
                continue;
            uint64_t acc = 0;
            for (uint64_t w = 0; w < ps / 8; w++)
                acc |= buf[w];
            f->zero_pages += acc == 0;
        }
    }
    g_free(buf);
    return ok;
}

static void json_str_or_null(JsonBuilder *b, const char *member, const char *s)
{
    json_builder_set_member_name(b, member);
    if (s) {
        /* Strings from the file are the guest's: valid UTF-8 without
         * control characters (g_utf8_make_valid let 0x1f through). */
        g_autofree char *valid = hv_text_safe(s, -1, 4096);
        json_builder_add_string_value(b, valid);
    }
    else
        json_builder_add_null_value(b);
}

static void json_int(JsonBuilder *b, const char *member, gint64 v)
{
    json_builder_set_member_name(b, member);
    json_builder_add_int_value(b, v);
}

static void print_json(const struct info_facts *f)
{
    const struct hv_vmcore_facts *di = f->di;
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_str_or_null(b, "file", f->path);
    json_str_or_null(b, "format", di->format == HV_FORMAT_ELF ? "elf" : "kdump");
    json_str_or_null(b, "container", di->flattened ? "flattened" : "plain");
    json_str_or_null(b, "compression", compression_name(di->compression));
    json_int(b, "header_version", di->header_version);
    json_int(b, "page_size", di->page_size);
    json_builder_set_member_name(b, "pages");
    json_builder_begin_object(b);
    json_int(b, "total", (gint64)di->pages_present);
    json_int(b, "dumped", (gint64)di->pages_dumped);
    json_int(b, "excluded", (gint64)(di->pages_present - di->pages_dumped));
    json_int(b, "zero", (gint64)f->zero_pages);
    json_builder_end_object(b);
    json_int(b, "max_pfn", (gint64)di->max_pfn);
    json_int(b, "ranges", (gint64)f->n_ranges);
    json_builder_set_member_name(b, "notes");
    json_builder_begin_array(b);
    for (size_t i = 0; i < di->n_notes; i++) {
        json_builder_begin_object(b);
        json_str_or_null(b, "name", di->notes[i].name);
        json_int(b, "type", di->notes[i].type);
        json_int(b, "size", di->notes[i].desc_size);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_int(b, "cpus", (gint64)di->n_cpus);
    json_int(b, "phys_base", (gint64)di->phys_base);
    json_int(b, "dump_level", di->dump_level);
    json_builder_set_member_name(b, "has_vaddrs");
    json_builder_add_boolean_value(b, di->has_vaddrs);
    json_builder_set_member_name(b, "utsname");
    json_builder_begin_object(b);
    json_str_or_null(b, "sysname", di->uts.sysname);
    json_str_or_null(b, "nodename", di->uts.nodename);
    json_str_or_null(b, "release", di->uts.release);
    json_str_or_null(b, "version", di->uts.version);
    json_str_or_null(b, "machine", di->uts.machine);
    json_str_or_null(b, "domainname", di->uts.domainname);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_int(b, "sec", di->timestamp_sec);
    json_int(b, "usec", di->timestamp_usec);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "vmcoreinfo");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "present");
    json_builder_add_boolean_value(b, di->vmcoreinfo != NULL);
    json_str_or_null(b, "osrelease", f->osrelease);
    json_builder_set_member_name(b, "page_size");
    if (f->pagesize)
        json_builder_add_int_value(b, g_ascii_strtoll(f->pagesize, NULL, 10));
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "crashtime");
    if (f->crashtime)
        json_builder_add_int_value(b, g_ascii_strtoll(f->crashtime, NULL, 10));
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "hvdump_note");
    if (di->have_hvdump) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "live");
        json_builder_add_boolean_value(b, di->live);
        json_builder_set_member_name(b, "vmcoreinfo_untrusted");
        json_builder_add_boolean_value(b, di->vmcoreinfo_untrusted);
        json_str_or_null(b, "producer", di->producer);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

/* One row of the text view: guest strings (utsname, VMCOREINFO values,
 * note names) go through hv_text_safe(), so a guest cannot put escape
 * sequences or forged lines on the operator's terminal. */
static void G_GNUC_PRINTF(2, 3) row(const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *safe = hv_text_safe(text, -1, 4096);
    printf("%-14s %s\n", label, safe);
}

static void print_text(const struct info_facts *f)
{
    const struct hv_vmcore_facts *di = f->di;

    row("file:", "%s", f->path);
    if (di->format == HV_FORMAT_KDUMP)
        row("format:", "kdump (header version %d)", di->header_version);
    else
        row("format:", "elf%s", di->has_vaddrs ? " (with virtual addresses)" : "");
    row("container:", "%s", di->flattened ? "flattened" : "plain");
    row("compression:", "%s", compression_name(di->compression));
    row("page size:", "%" PRIu32, di->page_size);
    row("pages:", "%" PRIu64 " total, %" PRIu64 " dumped, %" PRIu64 " excluded, %"
           PRIu64 " zero", di->pages_present, di->pages_dumped,
           di->pages_present - di->pages_dumped, f->zero_pages);
    row("ranges:", "%zu (max pfn 0x%" PRIx64 ")", f->n_ranges, di->max_pfn);
    row("cpus:", "%zu", di->n_cpus);
    if (di->format == HV_FORMAT_KDUMP) {
        row("phys_base:", "0x%" PRIx64, di->phys_base);
        row("dump level:", "%d", di->dump_level);
        if (di->uts.sysname[0] || di->uts.release[0])
            row("utsname:", "%s %s %s %s %s", di->uts.sysname,
                   di->uts.nodename, di->uts.release, di->uts.version, di->uts.machine);
        else
            row("utsname:", "(empty)");
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(di->timestamp_sec);
        g_autofree char *ts = t ? g_date_time_format_iso8601(t) : NULL;
        row("timestamp:", "%s (%" PRId64 ".%06" PRId64 ")", ts ? ts : "?",
            di->timestamp_sec, di->timestamp_usec);
    }
    if (di->vmcoreinfo)
        row("vmcoreinfo:", "OSRELEASE=%s PAGESIZE=%s%s%s",
               f->osrelease ? f->osrelease : "?", f->pagesize ? f->pagesize : "?",
               f->crashtime ? " CRASHTIME=" : "", f->crashtime ? f->crashtime : "");
    else
        row("vmcoreinfo:", "absent");
    if (di->have_hvdump)
        row("hvdump note:", "%s%s%s%s", di->live ? "live (guest ran while dumped)"
               : "consistent (guest paused)", di->producer ? ", " : "",
               di->producer ? di->producer : "",
               di->vmcoreinfo_untrusted ? "; VMCOREINFO not confirmed (may be forged)" : "");
    row("notes:", "%zu", di->n_notes);
    for (size_t i = 0; i < di->n_notes; i++) {
        g_autofree char *name = hv_text_safe(di->notes[i].name, -1, 64);
        printf("  %-12s type 0x%-6" PRIx32 " %" PRIu32 " bytes\n", name,
               di->notes[i].type, di->notes[i].desc_size);
    }
}

int hv_cli_info(int argc, char **argv)
{
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE - describe a vmcore");
    g_autoptr(GError) err = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        hv_cli_error("info", "%s", err->message);
        return HV_EXIT_USAGE;
    }
    if (argc != 2) {
        hv_cli_error("info", argc < 2 ? "missing FILE" : "expected exactly one FILE");
        return HV_EXIT_USAGE;
    }
    struct info_facts f = { .path = argv[1] };
    struct hv_vmcore *d = hv_vmcore_open(f.path, &err);
    if (!d) {
        hv_cli_error("info", "%s: %s", f.path, err->message);
        return HV_EXIT_FAILURE;
    }
    f.di = hv_vmcore_facts(d);
    int rc = HV_EXIT_OK;
    if (!count_zero_pages(d, &f, &err)) {
        hv_cli_error("info", "%s: %s", f.path, err->message);
        rc = HV_EXIT_FAILURE;
    } else {
        if (f.di->vmcoreinfo) {
            f.osrelease = hv_vmcoreinfo_get(f.di->vmcoreinfo, f.di->vmcoreinfo_len, "OSRELEASE");
            f.pagesize = hv_vmcoreinfo_get(f.di->vmcoreinfo, f.di->vmcoreinfo_len, "PAGESIZE");
            f.crashtime = hv_vmcoreinfo_get(f.di->vmcoreinfo, f.di->vmcoreinfo_len, "CRASHTIME");
        }
        if (json)
            print_json(&f);
        else
            print_text(&f);
    }
    g_free(f.osrelease);
    g_free(f.pagesize);
    g_free(f.crashtime);
    hv_vmcore_close(d);
    return rc;
}
