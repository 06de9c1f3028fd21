/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the VMCOREINFO note in guest memory laid out by hand, with the
 * text captured from a real Linux 6.1 guest and decoys around it. */
#include "guest-mem/vmcoreinfo_find.h"
#include "fake_source.h"

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
    GBytes *b = gm_vmcoreinfo_find(&f->base, &gpa, &err);

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
    g_assert_null(gm_vmcoreinfo_find(&f->base, NULL, &err));
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmcoreinfo_find/page_aligned_decoys", test_page_aligned_with_decoys);
    g_test_add_func("/vmcoreinfo_find/prefers_complete", test_prefers_complete);
    g_test_add_func("/vmcoreinfo_find/unaligned_chunk_crossing", test_unaligned_and_chunk_crossing);
    g_test_add_func("/vmcoreinfo_find/absent", test_absent);
    g_test_add_func("/vmcoreinfo_find/note_check", test_note_check);
    return g_test_run();
}
