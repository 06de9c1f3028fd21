/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Readers on damaged input: truncations, flipped header/bitmap/descriptor/
 * record bytes, random garbage and a deterministic mutation loop.  A reader
 * must fail with a one-line HV_ERROR or return data; never crash (this also
 * runs under ASan+UBSan). */
#include <elf.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/hv_error.h"
#include "formats/reader.h"
#include "tests/unit/reader_fixtures.h"

enum outcome { OPEN_FAILED, VERIFY_FAILED, VERIFIED };

static char *scratch; /* one temp file reused for every variant */
static int scratch_fd;

static void assert_good_error(const GError *err)
{
    g_assert_nonnull(err);
    g_assert_true(err->domain == HV_ERROR);
    g_assert_cmpuint(strlen(err->message), >, 0);
    g_assert_null(strchr(err->message, '\n'));
}

/* Opens, inspects, verifies and reads bytes; returns how far it got. */
static enum outcome exercise(const uint8_t *data, size_t len)
{
    GError *err = NULL;

    /* Rewritten in place: g_file_set_contents() would fsync every variant. */
    g_assert_cmpint(ftruncate(scratch_fd, 0), ==, 0);
    g_assert_cmpint(pwrite(scratch_fd, data, len, 0), ==, (ssize_t)len);
    struct hv_vmcore *d = hv_vmcore_open(scratch, &err);
    if (!d) {
        assert_good_error(err);
        g_error_free(err);
        return OPEN_FAILED;
    }
    const struct hv_vmcore_facts *di = hv_vmcore_facts(d);
    g_assert_cmpuint(di->page_size, >=, 1024);
    for (size_t i = 0; i < di->n_notes; i++)
        g_assert_cmpuint(strlen(di->notes[i].name), <, sizeof(di->notes[i].name));
    size_t n;
    const struct hv_range *r = hv_vmcore_ranges(d, &n);
    for (size_t i = 1; i < n; i++)
        g_assert_cmpuint(r[i - 1].start + r[i - 1].size, <, r[i].start);
    /* A damaged size field can announce terabytes of zero tail: verify
     * must skip it arithmetically rather than read it page by page. */
    gboolean ok = hv_vmcore_verify(d, NULL, NULL, &err);
    if (!ok && err) {
        assert_good_error(err);
        g_clear_error(&err);
    }
    /* Reads outside the verify loop: far pfns must be ABSENT, not crash. */
    uint8_t *buf = g_malloc(di->page_size);
    g_assert_cmpint(hv_vmcore_read_page(d, G_MAXUINT64 / 2, buf, &err), ==, HV_READ_ABSENT);
    enum hv_read_status st = hv_vmcore_read_page(d, 0, buf, &err);
    if (st == HV_READ_ERROR) {
        assert_good_error(err);
        g_clear_error(&err);
    }
    g_free(buf);
    hv_vmcore_close(d);
    return ok ? VERIFIED : VERIFY_FAILED;
}

struct fixture {
    const char *name;
    GBytes *bytes;
    gboolean every_cut_fails; /* the last byte matters: any truncation is caught */
};

static struct fixture fixtures[8];
static size_t n_fixtures;

static void add_fixture(const char *name, GBytes *b, gboolean every_cut_fails)
{
    g_assert_cmpuint(n_fixtures, <, G_N_ELEMENTS(fixtures));
    fixtures[n_fixtures++] = (struct fixture){ name, b, every_cut_fails };
    gsize len;
    const uint8_t *p = g_bytes_get_data(b, &len);
    g_assert_cmpint(exercise(p, len), ==, VERIFIED);
}

static void make_fixtures(void)
{
    GBytes *hk = fx_kdump_handmade(6);
    add_fixture("elf-handmade", fx_elf_handmade(FALSE), TRUE);
    add_fixture("kdump-handmade", hk, TRUE);
    add_fixture("kdump-handmade-flat", fx_flatten(hk, 7), TRUE);
    add_fixture("elf-written", fx_written(&hv_elf_writer_ops, HV_CODEC_ZLIB, FALSE, FALSE), TRUE);
    add_fixture("kdump-zlib", fx_written(&hv_kdump_writer_ops, HV_CODEC_ZLIB, FALSE, FALSE), FALSE);
    add_fixture("kdump-zstd-flat", fx_written(&hv_kdump_writer_ops, HV_CODEC_ZSTD, TRUE, TRUE), TRUE);
    add_fixture("kdump-lzo", fx_written(&hv_kdump_writer_ops, HV_CODEC_LZO, FALSE, TRUE), FALSE);
    add_fixture("kdump-snappy", fx_written(&hv_kdump_writer_ops, HV_CODEC_SNAPPY, FALSE, FALSE), FALSE);
}

static void test_truncate(void)
{
    for (size_t f = 0; f < n_fixtures; f++) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(fixtures[f].bytes, &len);
        size_t step = MAX(1, len / 300);
        for (size_t cut = 0; cut < len; cut += cut < 1200 ? 7 : step) {
            enum outcome o = exercise(p, cut);
            if (fixtures[f].every_cut_fails && o == VERIFIED)
                g_error("%s truncated to %zu bytes verified", fixtures[f].name, cut);
        }
        /* Cuts just short of the end: the last page's data goes missing. */
        for (size_t k = 1; k < 64 && k < len; k++) {
            enum outcome o = exercise(p, len - k);
            if (fixtures[f].every_cut_fails && o == VERIFIED)
                g_error("%s minus %zu bytes verified", fixtures[f].name, k);
        }
    }
}

/* Every byte of the first blocks (headers, sub-header, bitmaps, descriptors,
 * ELF program headers, flat records) set to a few telling values. */
static void test_flip_structures(void)
{
    static const uint8_t vals[] = { 0x00, 0xff, 0x80 };
    for (size_t f = 0; f < n_fixtures; f++) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(fixtures[f].bytes, &len);
        uint8_t *m = g_memdup2(p, len);
        size_t limit = MIN(len, 6 * FX_PS);
        /* Dense over the first 512 bytes, sparser further on. */
        for (size_t i = 0; i < limit; i += i < 512 ? 1 : 41) {
            for (size_t v = 0; v < G_N_ELEMENTS(vals); v++) {
                if (p[i] == vals[v])
                    continue;
                m[i] = vals[v];
                exercise(m, len);
                m[i] = p[i];
            }
        }
        g_free(m);
    }
}

static void test_garbage(void)
{
    GRand *rnd = g_rand_new_with_seed(0x5eed);
    static const char *const prefixes[] = { "", "\177ELF\2\1\1", "KDUMP   ", "makedumpfile" };
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)g_rand_int_range(rnd, 0, 3 * FX_PS + 200);
        uint8_t *m = g_malloc(len + 64);
        for (size_t k = 0; k < len; k++)
            m[k] = (uint8_t)g_rand_int(rnd);
        const char *pre = prefixes[i % G_N_ELEMENTS(prefixes)];
        memcpy(m, pre, MIN(strlen(pre), len));
        if (i % 4 == 3 && len >= 32) { /* a valid flat header, garbage records */
            memset(m + 12, 0, 20);
            m[23] = 1;
            m[31] = 1;
        }
        exercise(m, len);
        g_free(m);
    }
    g_rand_free(rnd);
}

/* Deterministic mutation fuzzing: a few random edits per variant, biased to
 * the structure at the front of the file. */
static void test_mutations(void)
{
    GRand *rnd = g_rand_new_with_seed(20240601);
    const int rounds = 3000;
    int verified = 0;

    for (int i = 0; i < rounds; i++) {
        const struct fixture *fx = &fixtures[(size_t)i % n_fixtures];
        gsize len;
        const uint8_t *p = g_bytes_get_data(fx->bytes, &len);
        uint8_t *m = g_memdup2(p, len);
        int edits = g_rand_int_range(rnd, 1, 6);
        for (int e = 0; e < edits; e++) {
            size_t span = g_rand_boolean(rnd) ? MIN(len, 5 * FX_PS) : len;
            size_t at = (size_t)g_rand_int_range(rnd, 0, (gint32)span);
            switch (g_rand_int_range(rnd, 0, 4)) {
            case 0:
                m[at] ^= (uint8_t)(1u << g_rand_int_range(rnd, 0, 8));
                break;
            case 1:
                m[at] = (uint8_t)g_rand_int(rnd);
                break;
            case 2: { /* an interesting 64-bit value */
                static const uint64_t vals[] = { 0, 1, G_MAXUINT64, G_MAXINT64,
                                                 0x8000000000000000ull, 4096, 0xffffffff };
                uint64_t v = vals[g_rand_int_range(rnd, 0, G_N_ELEMENTS(vals))];
                memcpy(m + at, &v, MIN(8, len - at));
                break;
            }
            default: /* cut */
                len = at;
                break;
            }
            if (len == 0)
                break;
        }
        verified += exercise(m, len) == VERIFIED;
        g_free(m);
    }
    /* Some edits hit page data or padding only; most must be caught or
     * harmless.  Mostly this loop exists to not crash. */
    g_assert_cmpint(verified, <, rounds);
    g_rand_free(rnd);
}

/* The hand-made ELF with the load at paddr 0 (filesz 0x2000) given memsz
 * bytes of memory (tests/fuzz/crashes/reader-verify-hang-1 was 16 TiB). */
static GBytes *elf_with_memsz(uint64_t memsz)
{
    GBytes *b = fx_elf_handmade(FALSE);
    gsize len;
    uint8_t *m = g_bytes_unref_to_data(b, &len);
    Elf64_Ehdr eh;
    gboolean found = FALSE;

    memcpy(&eh, m, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, m + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_LOAD && ph.p_paddr == 0) {
            g_assert_cmpuint(ph.p_filesz, ==, 0x2000);
            ph.p_memsz = memsz;
            memcpy(m + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
            found = TRUE;
        }
    }
    g_assert_true(found);
    return g_bytes_new_take(m, len);
}

static uint64_t count_done;

static void store_done(uint64_t done, uint64_t total, void *ud)
{
    (void)total;
    (void)ud;
    count_done = done;
}

/* A zero tail of 2^32 pages past p_filesz: verify counts it without reading
 * it (it used to read every page: hours), and the API tells where the file
 * data is. */
static void test_huge_zero_tail(void)
{
    const uint64_t tib16 = 16ull << 40;
    GBytes *b = elf_with_memsz(tib16);
    gsize len;
    const uint8_t *p = g_bytes_get_data(b, &len);
    GError *err = NULL;

    g_assert_cmpint(ftruncate(scratch_fd, 0), ==, 0);
    g_assert_cmpint(pwrite(scratch_fd, p, len, 0), ==, (ssize_t)len);
    struct hv_vmcore *d = hv_vmcore_open(scratch, &err);
    g_assert_no_error(err);
    const struct hv_vmcore_facts *di = hv_vmcore_facts(d);
    g_assert_cmpuint(di->pages_present, ==, tib16 / FX_PS);
    g_assert_cmpuint(hv_vmcore_next_data_pfn(d, 0), ==, 0);
    g_assert_cmpuint(hv_vmcore_next_data_pfn(d, 1), ==, 1);
    g_assert_cmpuint(hv_vmcore_next_data_pfn(d, 2), ==, 0x10); /* 0x10000 load */
    g_assert_cmpuint(hv_vmcore_next_data_pfn(d, 0x11), ==, 0x11);
    g_assert_cmpuint(hv_vmcore_next_data_pfn(d, 0x12), ==, G_MAXUINT64);
    count_done = 0;
    g_assert_true(hv_vmcore_verify(d, store_done, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(count_done, ==, tib16 / FX_PS);
    /* A skipped page does read as zeros. */
    uint8_t *pg = g_malloc(FX_PS);
    uint64_t far = tib16 / FX_PS - 1;
    g_assert_cmpint(hv_vmcore_read_page(d, far, pg, &err), ==, HV_READ_OK);
    for (size_t i = 0; i < FX_PS; i++)
        g_assert_cmpuint(pg[i], ==, 0);
    g_free(pg);
    hv_vmcore_close(d);
    g_bytes_unref(b);

    /* Beyond 52 bits of physical address space: corrupt, not RAM. */
    b = elf_with_memsz(1ull << 53);
    p = g_bytes_get_data(b, &len);
    g_assert_cmpint(ftruncate(scratch_fd, 0), ==, 0);
    g_assert_cmpint(pwrite(scratch_fd, p, len, 0), ==, (ssize_t)len);
    g_assert_null(hv_vmcore_open(scratch, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, "implausibly large"));
    g_clear_error(&err);
    g_bytes_unref(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* In memory: thousands of variants should not touch the disk. */
    scratch_fd = memfd_create("hvdump-corrupt", MFD_CLOEXEC);
    g_assert_cmpint(scratch_fd, >=, 0);
    scratch = g_strdup_printf("/proc/self/fd/%d", scratch_fd);
    make_fixtures();
    g_test_add_func("/readers-corrupt/truncate", test_truncate);
    g_test_add_func("/readers-corrupt/flip-structures", test_flip_structures);
    g_test_add_func("/readers-corrupt/garbage", test_garbage);
    g_test_add_func("/readers-corrupt/mutations", test_mutations);
    g_test_add_func("/readers-corrupt/huge-zero-tail", test_huge_zero_tail);
    int rc = g_test_run();
    close(scratch_fd);
    g_free(scratch);
    for (size_t f = 0; f < n_fixtures; f++)
        g_bytes_unref(fixtures[f].bytes);
    return rc;
}
