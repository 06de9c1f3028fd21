/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Raw image sources: FILE@GPA parsing, validation, map and read. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hv_error.h"
#include "guest-mem/source.h"

#define PS 4096u

static char *tmpdir;

/* A file of n pages; byte i of page p is (p + tag) ^ i. */
static char *make_image(const char *name, size_t pages, int tag)
{
    char *p = g_build_filename(tmpdir, name, NULL);
    gsize len = pages * PS;
    guint8 *buf = g_malloc(len ? len : 1);
    for (gsize i = 0; i < len; i++)
        buf[i] = (guint8)(((i / PS) + (gsize)tag) ^ i);
    g_assert_true(g_file_set_contents(p, (char *)buf, (gssize)len, NULL));
    g_free(buf);
    return p;
}

/* Opens one spec and expects failure whose message contains want. */
static void expect_fail(const char *spec, gint code, const char *want)
{
    GError *err = NULL;
    const char *specs[] = {spec};
    g_assert_null(gm_source_image_open(specs, 1, PS, &err));
    g_assert_error(err, HV_ERROR, code);
    if (!strstr(err->message, want))
        g_error("message '%s' lacks '%s'", err->message, want);
    g_error_free(err);
}

static void test_parse_errors(void)
{
    char *a = make_image("a.img", 2, 0);
    char *odd = g_build_filename(tmpdir, "odd.img", NULL);
    char *empty = g_build_filename(tmpdir, "empty.img", NULL);
    g_assert_true(g_file_set_contents(odd, "12345", 5, NULL));
    g_assert_true(g_file_set_contents(empty, "", 0, NULL));
    char *s;

    expect_fail(a, HV_ERROR_INVALID, "expected FILE@GPA");
    s = g_strdup_printf("%s@", a);
    expect_fail(s, HV_ERROR_INVALID, "bad guest-physical address");
    g_free(s);
    s = g_strdup_printf("%s@0xzz", a);
    expect_fail(s, HV_ERROR_INVALID, "bad guest-physical address");
    g_free(s);
    s = g_strdup_printf("%s@12Q", a);
    expect_fail(s, HV_ERROR_INVALID, "bad guest-physical address");
    g_free(s);
    s = g_strdup_printf("%s@-4096", a);
    expect_fail(s, HV_ERROR_INVALID, "bad guest-physical address");
    g_free(s);
    s = g_strdup_printf("%s@0x1001", a);
    expect_fail(s, HV_ERROR_INVALID, "not 4096-byte page aligned");
    g_free(s);
    s = g_strdup_printf("%s/missing.img@0", tmpdir);
    expect_fail(s, HV_ERROR_IO, "No such file");
    g_free(s);
    s = g_strdup_printf("%s@0", odd);
    expect_fail(s, HV_ERROR_INVALID, "not a multiple of the page size");
    g_free(s);
    s = g_strdup_printf("%s@0", empty);
    expect_fail(s, HV_ERROR_INVALID, "empty");
    g_free(s);
    g_free(a);
    g_free(odd);
    g_free(empty);
}

static void test_overlap(void)
{
    char *a = make_image("ov-a.img", 4, 0);
    char *b = make_image("ov-b.img", 4, 1);
    char *sa = g_strdup_printf("%s@0x2000", a); /* [2, 6) pages */
    char *sb = g_strdup_printf("%s@16K", b);    /* [4, 8) pages */
    const char *specs[] = {sa, sb};
    GError *err = NULL;
    g_assert_null(gm_source_image_open(specs, 2, PS, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "overlap"));
    g_assert_nonnull(strstr(err->message, "ov-a.img"));
    g_assert_nonnull(strstr(err->message, "ov-b.img"));
    g_error_free(err);
    g_free(sa);
    g_free(sb);
    g_free(a);
    g_free(b);
}

static void test_sorted_map_read(void)
{
    char *lo = make_image("lo.img", 3, 0);
    char *hi = make_image("hi.img", 2, 7);
    /* Given high first; '@' in a directory name must not confuse parsing. */
    char *shi = g_strdup_printf("%s@1M", hi);
    char *slo = g_strdup_printf("%s@0", lo);
    const char *specs[] = {shi, slo};
    GError *err = NULL;
    struct gm_source *s = gm_source_image_open(specs, 2, PS, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(s->n_blocks, ==, 2);
    g_assert_cmpuint(s->blocks[0].gpa, ==, 0);
    g_assert_cmpuint(s->blocks[0].size, ==, 3 * PS);
    g_assert_cmpuint(s->blocks[1].gpa, ==, 1 << 20);
    g_assert_cmpuint(s->blocks[1].size, ==, 2 * PS);
    g_assert_true(s->ops->thread_safe);

    const uint8_t *m = s->ops->map(s, (1 << 20) + PS, 1);
    g_assert_nonnull(m);
    g_assert_cmpuint(m[5], ==, (uint8_t)((1 + 7) ^ (PS + 5)));
    g_assert_null(s->ops->map(s, (1 << 20) + PS, 2)); /* runs past the block */
    g_assert_null(s->ops->map(s, 3 * PS, 1));          /* in the hole */

    uint8_t buf[2 * PS];
    enum gm_page_state state[2] = {GM_PAGE_ZERO, GM_PAGE_ABSENT};
    g_assert_true(s->ops->read(s, PS, 2, buf, state, &err));
    g_assert_no_error(err);
    g_assert_cmpint(state[0], ==, GM_PAGE_READ);
    g_assert_cmpint(state[1], ==, GM_PAGE_READ);
    g_assert_cmpuint(buf[PS + 3], ==, (uint8_t)(2 ^ (2 * PS + 3)));
    g_assert_false(s->ops->read(s, 3 * PS, 1, buf, NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INTERNAL);
    g_clear_error(&err);
    gm_source_close(s);
    g_free(shi);
    g_free(slo);
    g_free(lo);
    g_free(hi);
}

static void test_at_in_name(void)
{
    char *sub = g_build_filename(tmpdir, "dir@1", NULL);
    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    char *img = g_build_filename(sub, "ram.img", NULL);
    g_assert_true(g_file_set_contents(img, "", 0, NULL));
    guint8 page[PS] = {1};
    g_assert_true(g_file_set_contents(img, (char *)page, PS, NULL));
    char *spec = g_strdup_printf("%s@0x10000", img);
    const char *specs[] = {spec};
    GError *err = NULL;
    struct gm_source *s = gm_source_image_open(specs, 1, PS, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(s->blocks[0].gpa, ==, 0x10000);
    gm_source_close(s);
    g_free(spec);
    g_free(img);
    g_free(sub);
}

/* Resident KiB of the mapping that starts at addr, from /proc/self/smaps. */
static long mapping_rss_kib(const void *addr)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents("/proc/self/smaps", &text, NULL, NULL));
    char *want = g_strdup_printf("\n%lx-", (unsigned long)(uintptr_t)addr);
    char *at = strstr(text, want);
    long kib = -1;
    if (at) {
        char *rss = strstr(at, "\nRss:");
        g_assert_nonnull(rss);
        kib = strtol(rss + 5, NULL, 10);
    }
    g_free(want);
    g_free(text);
    return kib;
}

/* unmap() must drop touched pages from RSS (otherwise RSS grows with the
 * image) while a later map() of the range still reads the right bytes. */
static void test_unmap_drops_rss(void)
{
    const size_t pages = 64;
    char *img = make_image("rss.img", pages, 3);
    char *spec = g_strdup_printf("%s@0", img);
    const char *specs[] = {spec};
    GError *err = NULL;
    struct gm_source *s = gm_source_image_open(specs, 1, PS, &err);
    g_assert_no_error(err);
    g_assert_nonnull(s->ops->unmap);
    const volatile uint8_t *m = s->ops->map(s, 0, pages);
    g_assert_nonnull((const void *)m);
    unsigned sum = 0;
    for (size_t i = 0; i < pages * PS; i += PS)
        sum += m[i];
    (void)sum;
    /* valgrind maps files itself, so /proc/self/smaps does not show our
     * mapping where we look; the bytes are still checked below. */
    gboolean smaps = !g_getenv("HVDUMP_UNDER_VALGRIND");
    if (smaps)
        g_assert_cmpint(mapping_rss_kib((const void *)m), >=, (long)(pages * PS / 1024));
    s->ops->unmap(s, 0, pages);
    if (smaps)
        g_assert_cmpint(mapping_rss_kib((const void *)m), ==, 0);
    const uint8_t *again = s->ops->map(s, 5 * PS, 1);
    g_assert_nonnull(again);
    g_assert_cmpuint(again[9], ==, (uint8_t)((5 + 3) ^ (5 * PS + 9)));
    gm_source_close(s);
    g_free(spec);
    g_free(img);
}

/* read() copies without touching the mapping: single pages here and there
 * (as the output fetches raw pages again) must not leave the pages around
 * them mapped by fault-around, so RSS stays flat however much is read. */
static void test_read_leaves_nothing_mapped(void)
{
    const size_t pages = 256;
    char *img = make_image("read.img", pages, 5);
    char *spec = g_strdup_printf("%s@0", img);
    const char *specs[] = {spec};
    GError *err = NULL;
    struct gm_source *s = gm_source_image_open(specs, 1, PS, &err);
    g_assert_no_error(err);
    const uint8_t *m = s->ops->map(s, 0, pages);   /* where the mapping is */
    uint8_t page[PS];
    enum gm_page_state state = GM_PAGE_ABSENT;
    for (size_t i = 0; i < pages; i += 7) {
        g_assert_true(s->ops->read(s, (uint64_t)i * PS, 1, page, &state, &err));
        g_assert_cmpint(state, ==, GM_PAGE_READ);
        for (size_t b = 0; b < PS; b += 511)
            g_assert_cmpuint(page[b], ==, (uint8_t)((i + 5) ^ (i * PS + b)));
    }
    g_assert_false(s->ops->read(s, (uint64_t)(pages - 1) * PS, 2, page, NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INTERNAL);
    g_clear_error(&err);
    if (!g_getenv("HVDUMP_UNDER_VALGRIND"))
        g_assert_cmpint(mapping_rss_kib(m), ==, 0);
    gm_source_close(s);
    g_free(spec);
    g_free(img);
}

/* gm_source_block_at() on hand-made blocks: inside, at the edges, in the
 * gaps, before and after, and with no blocks at all. */
static void test_block_at(void)
{
    struct gm_block blocks[3] = {
        { 0x0, 0xa0000 }, { 0x100000, 0x100000 }, { 0xfffc0000, 0x40000 },
    };
    struct gm_source s = { .blocks = blocks, .n_blocks = 3, .page_size = PS };

    g_assert_true(gm_source_block_at(&s, 0) == &blocks[0]);
    g_assert_true(gm_source_block_at(&s, 0x9ffff) == &blocks[0]);
    g_assert_null(gm_source_block_at(&s, 0xa0000));
    g_assert_null(gm_source_block_at(&s, 0xfffff));
    g_assert_true(gm_source_block_at(&s, 0x100000) == &blocks[1]);
    g_assert_true(gm_source_block_at(&s, 0x1fffff) == &blocks[1]);
    g_assert_null(gm_source_block_at(&s, 0x200000));
    g_assert_true(gm_source_block_at(&s, 0xffffffff) == &blocks[2]);
    g_assert_null(gm_source_block_at(&s, 0x100000000ull));
    g_assert_null(gm_source_block_at(&s, UINT64_MAX));
    s.n_blocks = 0;
    g_assert_null(gm_source_block_at(&s, 0));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("hvdump-image-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/source_image/parse-errors", test_parse_errors);
    g_test_add_func("/source_image/block-at", test_block_at);
    g_test_add_func("/source_image/overlap", test_overlap);
    g_test_add_func("/source_image/sorted-map-read", test_sorted_map_read);
    g_test_add_func("/source_image/at-in-name", test_at_in_name);
    g_test_add_func("/source_image/unmap-drops-rss", test_unmap_drops_rss);
    g_test_add_func("/source_image/read-leaves-nothing-mapped", test_read_leaves_nothing_mapped);
    int rc = g_test_run();
    char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        g_printerr("could not remove %s\n", tmpdir);
    g_free(cmd);
    g_free(tmpdir);
    return rc;
}
