/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mem_section walk over hand-built guest memory: a direct map at phys
 * 0, a root array, root pages of 16-byte struct mem_section (256 per 4 KiB
 * root, as on x86_64), present and absent sections, and garbage. */
#include "guest-mem/kernel_memmap.h"
#include "fake_source.h"

#define DM 0xffff888000000000ull /* direct-map base */
#define ROOTS 0x10000ull         /* phys of the root array */
#define ROOT_PAGE(i) (0x20000ull + (uint64_t)(i) * 0x1000)
#define SEC_SIZE 16
#define PER_ROOT (4096 / SEC_SIZE)
#define SHIFT (27 - 12)          /* pfns per section: 2^15 */

static struct gm_memmap_params params(uint64_t n_roots)
{
    return (struct gm_memmap_params){
        .mem_section = DM + ROOTS, .n_roots = n_roots, .section_size = SEC_SIZE,
        .map_offset = 0, .section_size_bits = 27, .direct_map_base = DM,
    };
}

static void set_root(struct fake_source *f, unsigned r)
{
    fake_put_u64(f, ROOTS + r * 8ull, DM + ROOT_PAGE(r));
}

/* Marks section nr present with a plausible encoded mem_map value. */
static void set_present(struct fake_source *f, uint64_t nr, uint64_t flags)
{
    uint64_t r = nr / PER_ROOT, i = nr % PER_ROOT;
    fake_put_u64(f, ROOT_PAGE(r) + i * SEC_SIZE, 0xffffea0000000000ull | flags);
}

static void test_one_root(void)
{
    struct fake_source *f = fake_source_new(1 << 20, 0, 0);
    struct gm_memmap_params p = params(4);

    set_root(f, 0);
    for (unsigned s = 0; s < 4; s++) /* 512 MiB guest: sections 0..3 */
        set_present(f, s, 0x7);
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 0x20000);
    /* A hole at the top: section 3 only flagged "has mem map", not present. */
    set_present(f, 3, 0x2);
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 3ull << SHIFT);
    gm_source_close(&f->base);
}

static void test_several_roots(void)
{
    struct fake_source *f = fake_source_new(1 << 20, 0, 0);
    struct gm_memmap_params p = params(8);

    set_root(f, 0);
    set_present(f, 0, 1);
    set_root(f, 2);           /* root 1 NULL: a hole of 32 GiB */
    set_present(f, 2 * PER_ROOT + 5, 1);
    set_root(f, 5);           /* non-NULL but empty: skipped */
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==,
                    (2ull * PER_ROOT + 6) << SHIFT);
    /* Only roots below LENGTH(mem_section) count. */
    set_present(f, 5 * PER_ROOT + 1, 1);
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==,
                    (5ull * PER_ROOT + 2) << SHIFT);
    p.n_roots = 5;
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==,
                    (2ull * PER_ROOT + 6) << SHIFT);
    gm_source_close(&f->base);
}

static void test_map_offset(void)
{
    struct fake_source *f = fake_source_new(1 << 20, 0, 0);
    struct gm_memmap_params p = params(2);

    p.section_size = 32;
    p.map_offset = 8;
    set_root(f, 1);
    /* 128 sections per root; section 1*128+9's map word at +8. */
    fake_put_u64(f, ROOT_PAGE(1) + 9 * 32 + 8, 1);
    fake_put_u64(f, ROOT_PAGE(1) + 20 * 32, 1); /* offset 0: not the map word */
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==, (128ull + 10) << SHIFT);
    gm_source_close(&f->base);
}

static void test_unknown(void)
{
    struct fake_source *f = fake_source_new(1 << 20, 0, 0);
    struct gm_memmap_params p = params(4);

    /* Nothing present. */
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 0);
    set_root(f, 0);
    set_present(f, 0, 1);
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 1ull << SHIFT);

    /* A root pointing outside guest RAM, or below the direct map. */
    fake_put_u64(f, ROOTS + 3 * 8, DM + 0x40000000ull);
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 0);
    fake_put_u64(f, ROOTS + 3 * 8, 0x1234);
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 0);
    fake_put_u64(f, ROOTS + 3 * 8, 0);
    g_assert_cmphex(gm_kernel_memmap_end_pfn(&f->base, &p), ==, 1ull << SHIFT);

    /* Root array outside RAM. */
    struct gm_memmap_params q = p;
    q.mem_section = DM + 0x80000000ull;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    /* Insane values from a corrupt VMCOREINFO. */
    q = p; q.section_size = 24;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    q = p; q.section_size = 8192;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    q = p; q.map_offset = 16;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    q = p; q.section_size_bits = 64;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    q = p; q.n_roots = 0;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    q = p; q.n_roots = 1ull << 40;
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    q = p; q.mem_section = 0x1000; /* not a direct-map address */
    g_assert_cmpuint(gm_kernel_memmap_end_pfn(&f->base, &q), ==, 0);
    gm_source_close(&f->base);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernel_memmap/one_root", test_one_root);
    g_test_add_func("/kernel_memmap/several_roots", test_several_roots);
    g_test_add_func("/kernel_memmap/map_offset", test_map_offset);
    g_test_add_func("/kernel_memmap/unknown", test_unknown);
    return g_test_run();
}
