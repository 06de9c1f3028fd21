/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the VMCOREINFO note in guest memory laid out by hand, with the
 * text captured from a real Linux 6.1 guest and decoys around it. */
#include "guest-mem/vmcoreinfo_find.h"
#include "fake_source.h"
#include "common/hv_error.h"

#include <string.h>

static char *vmci_text(gsize *len)
{
    char *path = g_test_build_filename(G_TEST_DIST, "data", "vmcoreinfo-6.1-x86_64.txt", NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, len, NULL));
    g_free(path);
    return text;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An ELF note as the kernel writes it: header, "VMCOREINFO\0" padded to 12,
 * desc; descsz counts the text without a NUL. */
static void put_note(struct fake_source *f, uint64_t gpa, const char *desc, size_t len,
                     uint32_t namesz, uint32_t type)
{
    uint8_t *p = fake_at(f, gpa);
    put_le32(p, namesz);
    put_le32(p + 4, (uint32_t)len);
    put_le32(p + 8, type);
    memcpy(p + 12, "VMCOREINFO", 11);
    memcpy(p + 24, desc, len);
}

static void check_found(struct fake_source *f, const char *want, size_t want_len,
                        uint64_t want_gpa)
{
    GError *err = NULL;
    uint64_t gpa = 0;
    GBytes *b = gm_vmcoreinfo_find(&f->base, NULL, &gpa, &err);

    g_assert_no_error(err);
    g_assert_nonnull(b);
    g_assert_cmpuint(g_bytes_get_size(b), ==, want_len);
    g_assert_cmpmem(g_bytes_get_data(b, NULL), want_len, want, want_len);
    g_assert_cmphex(gpa, ==, want_gpa);
    g_bytes_unref(b);
}

static void test_page_aligned_with_decoys(void)
{
    gsize len;
    char *text = vmci_text(&len);
    struct fake_source *f = fake_source_new(1 << 20, 0x100000000ull, 4 << 20);

    /* Decoys: the raw text without a note header (the kernel's
     * vmcoreinfo_data page), a note with the wrong name size, one with the
     * wrong type, and a note whose text is not VMCOREINFO. */
    memcpy(fake_at(f, 0x3000), text, len);
    put_note(f, 0x5000, text, len, 12, 0);
    put_note(f, 0x6000, text, len, 11, 1);
    put_note(f, 0x7000, "CRASHTIME=1\n", 12, 11, 0);
    put_note(f, 0x100000000ull + 0x201000, text, len, 11, 0);
    check_found(f, text, len, 0x100000000ull + 0x201000);
    gm_source_close(&f->base);
    g_free(text);
}

static void test_prefers_complete(void)
{
    gsize len;
    char *text = vmci_text(&len);
    struct fake_source *f = fake_source_new(2 << 20, 0, 0);
    char *broken = g_strdup(text);

    /* First a note whose text has garbage in it, then the real one. */
    broken[40] = '\x01';
    put_note(f, 0x2000, broken, len, 11, 0);
    put_note(f, 0x9000, text, len, 11, 0);
    check_found(f, text, len, 0x9000);
    gm_source_close(&f->base);

    /* Only the damaged one: still better than nothing. */
    f = fake_source_new(2 << 20, 0, 0);
    put_note(f, 0x2000, broken, len, 11, 0);
    check_found(f, broken, len, 0x2000);
    gm_source_close(&f->base);
    g_free(broken);
    g_free(text);
}

static void test_unaligned_and_chunk_crossing(void)
{
    gsize len;
    char *text = vmci_text(&len);
    struct fake_source *f = fake_source_new(16 << 20, 0, 0);

    /* Not at a page start: found by the second, byte-wise pass. */
    put_note(f, 0x12344, text, len, 11, 0);
    check_found(f, text, len, 0x12344);
    gm_source_close(&f->base);

    /* A long text in the last page of the first 8 MiB read chunk. */
    GString *big = g_string_new(text);
    while (big->len < 6000)
        g_string_append(big, "NUMBER(padding)=1\n");
    f = fake_source_new(16 << 20, 0, 0);
    put_note(f, (8 << 20) - 4096, big->str, big->len, 11, 0);
    check_found(f, big->str, big->len, (8 << 20) - 4096);
    gm_source_close(&f->base);
    g_string_free(big, TRUE);
    g_free(text);
}

static void test_absent(void)
{
    struct fake_source *f = fake_source_new(1 << 20, 0, 0);
    GError *err = NULL;

    memcpy(fake_at(f, 0x4000), "VMCOREINFO", 10);
    g_assert_null(gm_vmcoreinfo_find(&f->base, NULL, NULL, &err));
    g_assert_no_error(err);
    gm_source_close(&f->base);
}

static void test_note_check(void)
{
    uint8_t n[64] = { 11, 0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0 };
    gboolean complete;
    size_t off;

    memcpy(n + 12, "VMCOREINFO", 11);
    memcpy(n + 24, "OSRELEASE=6.1\n", 14);
    g_assert_cmpuint(gm_vmcoreinfo_note_check(n, sizeof n, &complete, &off), ==, 14);
    g_assert_true(complete);
    g_assert_cmpuint(off, ==, 24);
    /* Cut short: recognised, not complete. */
    g_assert_cmpuint(gm_vmcoreinfo_note_check(n, 36, &complete, &off), ==, 14);
    g_assert_false(complete);
    /* Text not starting with OSRELEASE=. */
    n[24] = 'X';
    g_assert_cmpuint(gm_vmcoreinfo_note_check(n, sizeof n, &complete, &off), ==, 0);
}

/* Only notes whose OSRELEASE is the one the test calls real. */
static gboolean only_real(void *ud, const uint8_t *text, size_t len)
{
    (void)ud;
    return len > 15 && memcmp(text, "OSRELEASE=real\n", 15) == 0;
}

/* Fakes sprayed below the kernel's note: the first complete one used to
 * win.  With a check, the real one does; without one that passes, the
 * best candidate comes back marked untrusted. */
static void test_fakes_before_the_real_one(void)
{
    struct fake_source *f = fake_source_new(4 << 20, 0, 0);
    const char *fake = "OSRELEASE=6.6.6-evil\nPAGESIZE=8192\n";
    const char *real = "OSRELEASE=real\nPAGESIZE=4096\n";
    for (uint64_t gpa = 0x1000; gpa < 0x100000; gpa += 0x2000)
        put_note(f, gpa, fake, strlen(fake), 11, 0);
    put_note(f, 0x300000, real, strlen(real), 11, 0);
    struct gm_vmcoreinfo_scan scan = { .accept = only_real };
    GError *err = NULL;
    uint64_t gpa = 0;
    GBytes *b = gm_vmcoreinfo_find(&f->base, &scan, &gpa, &err);
    g_assert_no_error(err);
    g_assert_cmphex(gpa, ==, 0x300000);
    g_assert_false(scan.untrusted);
    g_bytes_unref(b);
    /* The real one gone: a fake is all there is, and it is said so. */
    memset(fake_at(f, 0x300000), 0, 4096);
    b = gm_vmcoreinfo_find(&f->base, &scan, &gpa, &err);
    g_assert_no_error(err);
    g_assert_nonnull(b);
    g_assert_true(scan.untrusted);
    g_bytes_unref(b);
    gm_source_close(&f->base);
}

/* 16 MiB full of near-miss notes: one at every page start claiming 60,000
 * bytes of text (so each costs a long check and, at a chunk's end, a read
 * of its own), never complete.  Bounded work, marked cut short, quick. */
static void test_near_miss_flood(void)
{
    struct fake_source *f = fake_source_new(16 << 20, 0, 0);
    size_t desc = 60000;
    char *text = g_malloc(4096 - 24);
    memcpy(text, "OSRELEASE=", 10);
    memset(text + 10, 'a', 4096 - 24 - 10);
    for (uint64_t gpa = 0; gpa < (16u << 20); gpa += 4096) {
        put_note(f, gpa, text, 4096 - 24, 11, 0);
        put_le32(fake_at(f, gpa + 4), (uint32_t)desc);  /* claims more than it has */
    }
    struct gm_vmcoreinfo_scan scan = { 0 };
    GError *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    GBytes *b = gm_vmcoreinfo_find(&f->base, &scan, NULL, &err);
    gint64 took = g_get_monotonic_time() - t0;
    g_assert_no_error(err);
    g_assert_true(scan.cut_short);
    g_assert_cmpint(took, <, 3 * G_USEC_PER_SEC);
    if (b)
        g_bytes_unref(b);
    g_free(text);
    gm_source_close(&f->base);
}

static void test_cancelled(void)
{
    struct fake_source *f = fake_source_new(16 << 20, 0, 0);
    volatile gint cancel = 1;
    struct gm_vmcoreinfo_scan scan = { .cancel = &cancel };
    GError *err = NULL;
    g_assert_null(gm_vmcoreinfo_find(&f->base, &scan, NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CANCELLED);
    g_clear_error(&err);
    gm_source_close(&f->base);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmcoreinfo_find/page_aligned_decoys", test_page_aligned_with_decoys);
    g_test_add_func("/vmcoreinfo_find/prefers_complete", test_prefers_complete);
    g_test_add_func("/vmcoreinfo_find/unaligned_chunk_crossing", test_unaligned_and_chunk_crossing);
    g_test_add_func("/vmcoreinfo_find/absent", test_absent);
    g_test_add_func("/vmcoreinfo_find/note_check", test_note_check);
    g_test_add_func("/vmcoreinfo_find/fakes-before-the-real-one", test_fakes_before_the_real_one);
    g_test_add_func("/vmcoreinfo_find/near-miss-flood", test_near_miss_flood);
    g_test_add_func("/vmcoreinfo_find/cancelled", test_cancelled);
    return g_test_run();
}
