/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Page-table walks over tables built by hand: 4 and 5 levels, 1 GiB, 2 MiB
 * and 4 KiB leaves, holes, and the two facts the dumper derives (direct-map
 * base, kernel text range).  Checked against a real Linux 6.1 guest during
 * development: the direct-map base found from SYMBOL(mem_section) equalled
 * the value of the kernel's page_offset_base variable (0xffff88b2c0000000),
 * and the text range covered _text.._end rounded up to 2 MiB. */
#include "guest-mem/arch_x86_64.h"
#include "common/hv_error.h"
#include "fake_source.h"

#define P 0x1ull           /* present */
#define RW 0x2ull
#define PS 0x80ull
#define M2 (2ull << 20)
#define G1 (1ull << 30)

#define ROOT4 0x1000ull    /* PGD of the 4-level tables */
#define ROOT5 0x10000ull   /* PML5 of the 5-level tables */
#define PUD_DM 0x2000ull   /* direct map: one 1 GiB leaf */
#define PUD_K 0x3000ull    /* kernel image */
#define PMD_K 0x4000ull
#define PT_K 0x5000ull
#define P4D_DM 0x11000ull
#define P4D_K 0x12000ull

static const uint64_t dm4 = 0xffff888000000000ull; /* PGD index 273 */
static const uint64_t dm5 = 0xff11000000000000ull; /* PML5 index 273 */
static const uint64_t ktext = 0xffffffff81000000ull;

static void put_entry(struct fake_source *f, uint64_t table, unsigned idx, uint64_t e)
{
    fake_put_u64(f, table + idx * 8ull, e);
}

static struct fake_source *build(void)
{
    struct fake_source *f = fake_source_new(32 << 20, 0, 0);

    put_entry(f, ROOT4, 273, PUD_DM | P | RW);
    put_entry(f, PUD_DM, 0, 0 | P | RW | PS);            /* 1 GiB at phys 0 */
    put_entry(f, ROOT4, 511, PUD_K | P | RW);
    put_entry(f, PUD_K, 510, PMD_K | P | RW);             /* 0xffffffff80000000 */
    for (unsigned i = 0; i < 4; i++)                       /* 8 MiB of text */
        put_entry(f, PMD_K, 8 + i, (0x1000000ull + i * M2) | P | PS);
    put_entry(f, PMD_K, 12, 0x8000000ull | P | PS);        /* not contiguous */
    put_entry(f, PMD_K, 20, PT_K | P | RW);
    put_entry(f, PT_K, 3, 0x7000ull | P);                  /* one 4 KiB page */

    /* 5 levels: the same lower tables under a PML5 and two P4Ds. */
    put_entry(f, ROOT5, 273, P4D_DM | P | RW);
    put_entry(f, P4D_DM, 0, PUD_DM | P | RW);
    put_entry(f, ROOT5, 511, P4D_K | P | RW);
    put_entry(f, P4D_K, 511, PUD_K | P | RW);
    return f;
}

static void test_translate(void)
{
    struct fake_source *f = build();
    struct gm_x86_64_mmu m;
    uint64_t pa, leaf;
    GError *err = NULL;

    /* init_top_pgt as a kernel-image address, phys_base 0x1000000 below. */
    gm_x86_64_mmu_init(&m, &f->base, 0xffffffff80000000ull + ROOT4 + 0x1000000ull,
                       (uint64_t)-0x1000000, FALSE);
    g_assert_cmphex(m.root, ==, ROOT4);
    g_assert_cmpint(m.levels, ==, 4);

    g_assert_true(gm_x86_64_translate(&m, dm4 + 0x12345678, &pa, &leaf, &err));
    g_assert_cmphex(pa, ==, 0x12345678);
    g_assert_cmphex(leaf, ==, G1);
    g_assert_true(gm_x86_64_translate(&m, ktext + M2 + 0x1234, &pa, &leaf, &err));
    g_assert_cmphex(pa, ==, 0x1000000ull + M2 + 0x1234);
    g_assert_cmphex(leaf, ==, M2);
    g_assert_true(gm_x86_64_translate(&m, 0xffffffff80000000ull + 20 * M2 + 0x3abc,
                                      &pa, &leaf, &err));
    g_assert_cmphex(pa, ==, 0x7abc);
    g_assert_cmphex(leaf, ==, 4096);
    g_assert_no_error(err);

    /* Holes at each level, and a non-canonical address. */
    g_assert_false(gm_x86_64_translate(&m, 0xffffffff80000000ull + 21 * M2, &pa, NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
    g_assert_false(gm_x86_64_translate(&m, 0xffffffff80000000ull + 20 * M2 + 4 * 4096,
                                       &pa, NULL, &err));
    g_clear_error(&err);
    g_assert_false(gm_x86_64_translate(&m, 0xffff900000000000ull, &pa, NULL, &err));
    g_clear_error(&err);
    g_assert_false(gm_x86_64_translate(&m, 0x0000800000000000ull, &pa, NULL, &err));
    g_assert_nonnull(strstr(err->message, "canonical"));
    g_clear_error(&err);
    gm_source_close(&f->base);
}

static void test_five_levels(void)
{
    struct fake_source *f = build();
    struct gm_x86_64_mmu m;
    uint64_t pa, base;
    GError *err = NULL;

    gm_x86_64_mmu_init(&m, &f->base, 0xffffffff80000000ull + ROOT5, 0, TRUE);
    g_assert_cmpint(m.levels, ==, 5);
    g_assert_true(gm_x86_64_translate(&m, ktext + 0x10, &pa, NULL, &err));
    g_assert_cmphex(pa, ==, 0x1000010);
    g_assert_true(gm_x86_64_direct_map_base(&m, dm5 + 0x345000, &base, &err));
    g_assert_cmphex(base, ==, dm5);
    /* The 4-level direct-map address means something else under 5 levels
     * (PML5 slot 511, then an empty P4D slot). */
    g_assert_false(gm_x86_64_translate(&m, dm4, &pa, NULL, &err));
    g_clear_error(&err);
    gm_source_close(&f->base);
}

static void test_direct_map_and_text(void)
{
    struct fake_source *f = build();
    struct gm_x86_64_mmu m;
    uint64_t base, v, p, size;
    GError *err = NULL;

    gm_x86_64_mmu_init(&m, &f->base, 0xffffffff80000000ull + ROOT4, 0, FALSE);
    g_assert_true(gm_x86_64_direct_map_base(&m, dm4 + 0x345000, &base, &err));
    g_assert_no_error(err);
    g_assert_cmphex(base, ==, dm4);
    /* An address whose offset to its physical page is not 1 GiB aligned is
     * not a direct-map address. */
    g_assert_false(gm_x86_64_direct_map_base(&m, 0xffffffff80000000ull + 20 * M2 + 0x3000,
                                             &base, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);

    /* _stext a little past the 2 MiB boundary; 8 MiB contiguous, then a
     * mapping elsewhere, which ends the range. */
    g_assert_true(gm_x86_64_kernel_text(&m, ktext + 0x1000, &v, &p, &size, &err));
    g_assert_no_error(err);
    g_assert_cmphex(v, ==, ktext);
    g_assert_cmphex(p, ==, 0x1000000);
    g_assert_cmphex(size, ==, 4 * M2);

    g_assert_false(gm_x86_64_kernel_text(&m, 0xffffffffa0000000ull, &v, &p, &size, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
    gm_source_close(&f->base);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/arch_x86_64/translate", test_translate);
    g_test_add_func("/arch_x86_64/five_levels", test_five_levels);
    g_test_add_func("/arch_x86_64/direct_map_and_text", test_direct_map_and_text);
    return g_test_run();
}
