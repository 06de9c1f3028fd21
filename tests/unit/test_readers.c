/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Readers on hand-built files and on files the real writers produced. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "formats/bytesrc.h"
#include "common/hv_error.h"
#include "formats/reader.h"
#include "tests/unit/reader_fixtures.h"

static void put_be64(GByteArray *b, int64_t v)
{
    uint8_t p[8];
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
        p[i] = (uint8_t)v;
    g_byte_array_append(b, p, 8);
}

static GByteArray *flat_start(void)
{
    GByteArray *b = g_byte_array_new();
    uint8_t hdr[4096] = { 0 };
    memcpy(hdr, "makedumpfile", 12);
    hdr[23] = 1;
    hdr[31] = 1;
    g_byte_array_append(b, hdr, sizeof(hdr));
    return b;
}

static void flat_rec(GByteArray *b, int64_t off, int64_t size, uint8_t fill)
{
    put_be64(b, off);
    put_be64(b, size);
    for (int64_t i = 0; i < size; i++)
        g_byte_array_append(b, &fill, 1);
}

static struct hv_bytesrc *open_bytes(GBytes *bytes, GError **err)
{
    char *path = fx_temp_file(bytes);
    struct hv_bytesrc *s = hv_bytesrc_open(path, err);
    unlink(path);
    g_free(path);
    return s;
}

static struct hv_vmcore *open_dump(GBytes *bytes, GError **err)
{
    char *path = fx_temp_file(bytes);
    struct hv_vmcore *d = hv_vmcore_open(path, err);
    unlink(path);
    g_free(path);
    return d;
}

static void test_bytesrc_plain(void)
{
    GBytes *b = g_bytes_new("0123456789", 10);
    GError *err = NULL;
    char buf[8];
    struct hv_bytesrc *s = open_bytes(b, &err);

    g_assert_no_error(err);
    g_assert_false(s->flattened);
    g_assert_cmpuint(s->size, ==, 10);
    g_assert_true(s->read_at(s, 3, buf, 4, &err));
    g_assert_cmpmem(buf, 4, "3456", 4);
    g_assert_false(s->read_at(s, 8, buf, 3, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_clear_error(&err);
    s->close(s);
    g_bytes_unref(b);
}

static void test_bytesrc_flat_overrides(void)
{
    GByteArray *b = flat_start();
    GError *err = NULL;
    uint8_t buf[130];

    flat_rec(b, 0, 20, 1);
    flat_rec(b, 10, 5, 2);
    flat_rec(b, 12, 18, 3);
    flat_rec(b, 100, 30, 4);
    flat_rec(b, 50, 5, 5);
    flat_rec(b, 0, 0, 9); /* empty records are legal and change nothing */
    flat_rec(b, 110, 5, 6);
    flat_rec(b, -1, -1, 0);
    GBytes *bytes = g_byte_array_free_to_bytes(b);
    struct hv_bytesrc *s = open_bytes(bytes, &err);
    g_assert_no_error(err);
    g_assert_true(s->flattened);
    g_assert_cmpuint(s->size, ==, 130);
    g_assert_true(s->read_at(s, 0, buf, 130, &err));
    for (int i = 0; i < 130; i++) {
        uint8_t want = i < 10 ? 1 : i < 12 ? 2 : i < 30 ? 3 : i < 50 ? 0 : i < 55 ? 5
                     : i < 100 ? 0 : (i >= 110 && i < 115) ? 6 : 4;
        g_assert_cmpuint(buf[i], ==, want);
    }
    /* A read that starts inside a gap and ends inside a piece. */
    g_assert_true(s->read_at(s, 40, buf, 12, &err));
    g_assert_cmpuint(buf[0], ==, 0);
    g_assert_cmpuint(buf[11], ==, 5);
    g_assert_false(s->read_at(s, 129, buf, 2, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_clear_error(&err);
    s->close(s);
    g_bytes_unref(bytes);
}

static void expect_flat_error(GByteArray *b, const char *needle)
{
    GError *err = NULL;
    GBytes *bytes = g_byte_array_free_to_bytes(b);
    struct hv_bytesrc *s = open_bytes(bytes, &err);
    g_assert_null(s);
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, needle));
    g_error_free(err);
    g_bytes_unref(bytes);
}

static void test_bytesrc_flat_errors(void)
{
    GByteArray *b = flat_start();
    flat_rec(b, 0, 10, 1);
    expect_flat_error(b, "no end record");

    b = flat_start();
    flat_rec(b, 0, 10, 1);
    g_byte_array_set_size(b, b->len - 3);
    expect_flat_error(b, "truncated");

    b = flat_start();
    flat_rec(b, -5, 1, 1);
    flat_rec(b, -1, -1, 0);
    expect_flat_error(b, "bad offset");

    b = flat_start();
    flat_rec(b, G_MAXINT64 - 2, 8, 1);
    flat_rec(b, -1, -1, 0);
    expect_flat_error(b, "bad offset");
}

static void assert_page(struct hv_vmcore *d, uint64_t pfn, enum hv_read_status want,
                        int fill)
{
    uint8_t buf[FX_PS], exp[FX_PS];
    GError *err = NULL;

    memset(buf, 0x77, sizeof(buf));
    g_assert_cmpint(hv_vmcore_read_page(d, pfn, buf, &err), ==, want);
    g_assert_no_error(err);
    memset(exp, fill, sizeof(exp));
    g_assert_cmpmem(buf, FX_PS, exp, FX_PS);
}

static void store_done(uint64_t done, uint64_t total, void *ud)
{
    (void)total;
    *(uint64_t *)ud = done;
}

static void verify_ok(struct hv_vmcore *d, uint64_t want_pages)
{
    uint64_t done = G_MAXUINT64;
    GError *err = NULL;
    g_assert_true(hv_vmcore_verify(d, store_done, &done, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(done, ==, want_pages);
}

static void test_elf_handmade(gconstpointer xnum)
{
    GBytes *b = fx_elf_handmade(GPOINTER_TO_INT(xnum));
    GError *err = NULL;
    struct hv_vmcore *d = open_dump(b, &err);
    size_t n;

    g_assert_no_error(err);
    const struct hv_vmcore_facts *di = hv_vmcore_facts(d);
    g_assert_cmpint(di->format, ==, HV_FORMAT_ELF);
    g_assert_false(di->flattened);
    g_assert_cmpuint(di->page_size, ==, FX_PS);
    g_assert_true(di->has_vaddrs);
    g_assert_cmpuint(di->n_cpus, ==, 2);
    g_assert_cmpint(di->cpus[1].arch, ==, HV_ARCH_X86_64);
    g_assert_cmpuint(di->cpus[1].u.x86_64.rip, ==, fx_meta()->cpus[1].u.x86_64.rip);
    g_assert_cmpuint(di->cpus[1].u.x86_64.cr[3], ==, fx_meta()->cpus[1].u.x86_64.cr[3]);
    g_assert_cmpmem(di->vmcoreinfo, di->vmcoreinfo_len, fx_meta()->vmcoreinfo,
                    fx_meta()->vmcoreinfo_len);
    g_assert_true(di->have_hvdump);
    g_assert_true(di->live);
    g_assert_cmpuint(di->n_notes, ==, 6); /* 2 CORE, 2 QEMU, VMCOREINFO, HVDUMP */
    g_assert_cmpstr(di->notes[0].name, ==, "CORE");
    g_assert_cmpuint(di->notes[0].desc_size, ==, 336);
    g_assert_cmpstr(di->notes[5].name, ==, "HVDUMP");

    /* The kernel-text alias is not a range; the short load's tail is. */
    const struct hv_range *r = hv_vmcore_ranges(d, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(r[0].start, ==, 0);
    g_assert_cmpuint(r[0].size, ==, 0x3000);
    g_assert_cmpuint(r[1].start, ==, 0x10000);
    g_assert_cmpuint(r[1].size, ==, 0x2000);
    g_assert_cmpuint(di->pages_present, ==, 5);
    g_assert_cmpuint(di->max_pfn, ==, 0x12);
    assert_page(d, 0, HV_READ_OK, 0x10);
    assert_page(d, 1, HV_READ_OK, 0x11);
    assert_page(d, 2, HV_READ_OK, 0);
    assert_page(d, 3, HV_READ_ABSENT, 0);
    assert_page(d, 0x10, HV_READ_OK, 0x12);
    assert_page(d, 0x11, HV_READ_OK, 0x13);
    assert_page(d, 0x12, HV_READ_ABSENT, 0);
    assert_page(d, G_MAXUINT64, HV_READ_ABSENT, 0);
    verify_ok(d, 5);
    hv_vmcore_close(d);
    g_bytes_unref(b);
}

static void check_kdump_handmade(GBytes *b, int version, gboolean flat)
{
    GError *err = NULL;
    struct hv_vmcore *d = open_dump(b, &err);
    size_t n;

    g_assert_no_error(err);
    const struct hv_vmcore_facts *di = hv_vmcore_facts(d);
    g_assert_cmpint(di->format, ==, HV_FORMAT_KDUMP);
    g_assert_cmpint(di->flattened, ==, flat);
    g_assert_cmpint(di->header_version, ==, version);
    g_assert_cmpuint(di->compression, ==, 1);
    g_assert_cmpuint(di->max_pfn, ==, 40);
    g_assert_cmpuint(di->pages_present, ==, 16);
    g_assert_cmpuint(di->pages_dumped, ==, 5);
    g_assert_cmpuint(di->phys_base, ==, 0x2000000);
    g_assert_cmpint(di->dump_level, ==, 1);
    g_assert_cmpstr(di->uts.release, ==, "6.1.0-hand");
    g_assert_cmpint(di->timestamp_sec, ==, 1700000001);
    g_assert_nonnull(di->vmcoreinfo);
    g_assert_true(g_str_has_prefix((const char *)di->vmcoreinfo, "OSRELEASE=6.1.0-hand\n"));
    const struct hv_range *r = hv_vmcore_ranges(d, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(r[0].start, ==, 0);
    g_assert_cmpuint(r[0].size, ==, 8 * FX_PS);
    g_assert_cmpuint(r[1].start, ==, 32 * FX_PS);
    g_assert_cmpuint(r[1].size, ==, 8 * FX_PS);
    assert_page(d, 0, HV_READ_OK, 0x11);
    assert_page(d, 1, HV_READ_OK, 0x22);
    assert_page(d, 2, HV_READ_OK, 0x11);
    assert_page(d, 3, HV_READ_ABSENT, 0);
    assert_page(d, 33, HV_READ_OK, 0x33);
    assert_page(d, 34, HV_READ_ABSENT, 0);
    assert_page(d, 39, HV_READ_OK, 0x44);
    assert_page(d, 40, HV_READ_ABSENT, 0);
    verify_ok(d, 5);
    hv_vmcore_close(d);
}

static void test_kdump_handmade(gconstpointer version)
{
    GBytes *b = fx_kdump_handmade(GPOINTER_TO_INT(version));
    check_kdump_handmade(b, GPOINTER_TO_INT(version), FALSE);
    for (guint32 seed = 1; seed <= 3; seed++) {
        GBytes *f = fx_flatten(b, seed);
        check_kdump_handmade(f, GPOINTER_TO_INT(version), TRUE);
        g_bytes_unref(f);
    }
    g_bytes_unref(b);
}

struct rt_case {
    const char *name;
    gboolean elf;
    enum hv_codec_id codec;
    gboolean flat;
    gboolean keep_zero;
};

static const struct rt_case rt_cases[] = {
    { "elf", TRUE, HV_CODEC_ZLIB, FALSE, FALSE },
    { "kdump-zlib", FALSE, HV_CODEC_ZLIB, FALSE, FALSE },
    { "kdump-lzo", FALSE, HV_CODEC_LZO, FALSE, FALSE },
    { "kdump-snappy", FALSE, HV_CODEC_SNAPPY, FALSE, FALSE },
    { "kdump-zstd", FALSE, HV_CODEC_ZSTD, FALSE, FALSE },
    { "kdump-zlib-flat", FALSE, HV_CODEC_ZLIB, TRUE, FALSE },
    { "kdump-zstd-keepzero", FALSE, HV_CODEC_ZSTD, FALSE, TRUE },
    { "kdump-lzo-flat-keepzero", FALSE, HV_CODEC_LZO, TRUE, TRUE },
};

static void test_roundtrip(gconstpointer data)
{
    const struct rt_case *c = data;
    GBytes *b = fx_written(c->elf ? &hv_elf_writer_ops : &hv_kdump_writer_ops,
                           c->codec, c->flat, c->keep_zero);
    GError *err = NULL;
    struct hv_vmcore *d = open_dump(b, &err);
    const struct hv_dump_meta *m = fx_meta();
    size_t n;

    g_assert_no_error(err);
    const struct hv_vmcore_facts *di = hv_vmcore_facts(d);
    g_assert_cmpint(di->format, ==, c->elf ? HV_FORMAT_ELF : HV_FORMAT_KDUMP);
    g_assert_cmpint(di->flattened, ==, c->flat);
    g_assert_cmpuint(di->page_size, ==, FX_PS);
    g_assert_cmpuint(di->n_cpus, ==, 2);
    g_assert_cmpuint(di->cpus[0].u.x86_64.rip, ==, m->cpus[0].u.x86_64.rip);
    g_assert_cmpuint(di->cpus[1].u.x86_64.rsp, ==, m->cpus[1].u.x86_64.rsp);
    g_assert_cmpuint(di->cpus[1].u.x86_64.cr[3], ==, m->cpus[1].u.x86_64.cr[3]);
    g_assert_cmpmem(di->vmcoreinfo, di->vmcoreinfo_len, m->vmcoreinfo, m->vmcoreinfo_len);
    g_assert_true(di->have_hvdump);
    g_assert_true(di->live);
    if (c->elf) {
        g_assert_true(di->has_vaddrs);
        g_assert_cmpuint(di->compression, ==, 0);
    } else {
        g_assert_cmpuint(di->compression, ==, hv_codec_by_id(c->codec)->kdump_flag);
        g_assert_cmpstr(di->uts.release, ==, m->uts.release);
        g_assert_cmpstr(di->uts.machine, ==, "x86_64");
        g_assert_cmpint(di->timestamp_sec, ==, m->timestamp_sec);
        g_assert_cmpuint(di->phys_base, ==, m->phys_base);
    }

    const struct hv_range *r = hv_vmcore_ranges(d, &n);
    g_assert_cmpuint(n, ==, fx_n_ranges);
    uint64_t total = 0, zero = 0;
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpuint(r[i].start, ==, fx_ranges[i].start);
        g_assert_cmpuint(r[i].size, ==, fx_ranges[i].size);
        for (uint64_t pfn = r[i].start / FX_PS; pfn < (r[i].start + r[i].size) / FX_PS; pfn++) {
            uint8_t buf[FX_PS], exp[FX_PS];
            gboolean excluded = !c->elf && !c->keep_zero && fx_page_kind(pfn) == FX_ZERO;
            fx_page(pfn, exp);
            memset(buf, 0x77, sizeof(buf));
            g_assert_cmpint(hv_vmcore_read_page(d, pfn, buf, &err), ==,
                            excluded ? HV_READ_ABSENT : HV_READ_OK);
            g_assert_no_error(err);
            g_assert_cmpmem(buf, FX_PS, exp, FX_PS);
            total++;
            zero += fx_page_kind(pfn) == FX_ZERO;
        }
    }
    g_assert_cmpuint(di->pages_present, ==, total);
    uint64_t dumped = (c->elf || c->keep_zero) ? total : total - zero;
    g_assert_cmpuint(di->pages_dumped, ==, dumped);
    assert_page(d, 16, HV_READ_ABSENT, 0);
    assert_page(d, 1u << 20, HV_READ_ABSENT, 0);
    verify_ok(d, dumped);
    hv_vmcore_close(d);
    g_bytes_unref(b);
}

static void test_not_a_dump(void)
{
    GError *err = NULL;
    GBytes *b = g_bytes_new("hello, world", 12);
    g_assert_null(open_dump(b, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_clear_error(&err);
    g_bytes_unref(b);
    b = g_bytes_new("", 0);
    g_assert_null(open_dump(b, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_clear_error(&err);
    g_bytes_unref(b);
    g_assert_null(hv_vmcore_open("/nonexistent/hvdump-test", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_IO);
    g_clear_error(&err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/readers/bytesrc/plain", test_bytesrc_plain);
    g_test_add_func("/readers/bytesrc/flat-overrides", test_bytesrc_flat_overrides);
    g_test_add_func("/readers/bytesrc/flat-errors", test_bytesrc_flat_errors);
    g_test_add_data_func("/readers/elf/handmade", GINT_TO_POINTER(0), test_elf_handmade);
    g_test_add_data_func("/readers/elf/handmade-xnum", GINT_TO_POINTER(1), test_elf_handmade);
    g_test_add_data_func("/readers/kdump/handmade-v5", GINT_TO_POINTER(5), test_kdump_handmade);
    g_test_add_data_func("/readers/kdump/handmade-v6", GINT_TO_POINTER(6), test_kdump_handmade);
    for (size_t i = 0; i < G_N_ELEMENTS(rt_cases); i++) {
        char *path = g_strdup_printf("/readers/roundtrip/%s", rt_cases[i].name);
        g_test_add_data_func(path, &rt_cases[i], test_roundtrip);
        g_free(path);
    }
    g_test_add_func("/readers/not-a-dump", test_not_a_dump);
    return g_test_run();
}
