/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walks x86_64 4- and 5-level page tables in guest memory.  Each level takes
 * 9 bits of the address; bit 7 (PS) in a PUD or PMD entry ends the walk at a
 * 1 GiB or 2 MiB page. */
#include "guest-mem/arch_x86_64.h"
#include "guest-mem/phys_read.h"
#include "common/hv_error.h"

#define PTE_PRESENT 0x1ull
#define PTE_PS 0x80ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 12..51 */
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

void gm_x86_64_mmu_init(struct gm_x86_64_mmu *m, struct gm_source *src,
                        uint64_t init_top_pgt, uint64_t phys_base, gboolean l5)
{
    m->src = src;
    m->root = gm_x86_64_kimage_to_phys(init_top_pgt, phys_base);
    m->levels = l5 ? 5 : 4;
}

static gboolean canonical(uint64_t v, int levels)
{
    int bits = levels == 5 ? 57 : 48;
    uint64_t top = v >> (bits - 1);
    uint64_t ones = (1ull << (64 - bits + 1)) - 1;
    return top == 0 || top == ones;
}

gboolean gm_x86_64_translate(const struct gm_x86_64_mmu *m, uint64_t vaddr,
                             uint64_t *paddr, uint64_t *leaf_size, GError **err)
{
    uint64_t table = m->root;

    if (!canonical(vaddr, m->levels)) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "0x%" G_GINT64_MODIFIER "x is not a canonical address", vaddr);
        return FALSE;
    }
    for (int level = m->levels; level >= 1; level--) {
        int shift = 12 + 9 * (level - 1);
        uint64_t idx = (vaddr >> shift) & 0x1ff, e;

        if (!gm_read_phys_u64(m->src, table + idx * 8, &e, err)) {
            g_prefix_error(err, "page-table walk for 0x%" G_GINT64_MODIFIER "x: ", vaddr);
            return FALSE;
        }
        if (!(e & PTE_PRESENT)) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "0x%" G_GINT64_MODIFIER "x is not mapped in the guest's page tables",
                        vaddr);
            return FALSE;
        }
        /* PS means a leaf only at the PUD (level 3) and PMD (level 2). */
        if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
            uint64_t size = 1ull << shift;
            uint64_t base = e & PTE_ADDR_MASK & ~(size - 1);
            *paddr = base | (vaddr & (size - 1));
            if (leaf_size)
                *leaf_size = size;
            return TRUE;
        }
        table = e & PTE_ADDR_MASK;
    }
    g_assert_not_reached();
}

gboolean gm_x86_64_direct_map_base(const struct gm_x86_64_mmu *m, uint64_t dm_addr,
                                   uint64_t *base, GError **err)
{
    uint64_t pa;

    if (!gm_x86_64_translate(m, dm_addr, &pa, NULL, err))
        return FALSE;
    uint64_t b = dm_addr - pa;
    if (b % SZ_1G != 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "direct-map base 0x%" G_GINT64_MODIFIER "x derived from 0x%"
                    G_GINT64_MODIFIER "x is not 1 GiB aligned", b, dm_addr);
        return FALSE;
    }
    *base = b;
    return TRUE;
}

gboolean gm_x86_64_kernel_text(const struct gm_x86_64_mmu *m, uint64_t stext,
                               uint64_t *vaddr, uint64_t *paddr, uint64_t *size,
                               GError **err)
{
    uint64_t v0 = stext & ~(SZ_2M - 1), p0, len = 0;

    if (!gm_x86_64_translate(m, v0, &p0, NULL, err)) {
        g_prefix_error(err, "kernel text: ");
        return FALSE;
    }
    while (len < SZ_1G) {
        uint64_t pa;
        if (!gm_x86_64_translate(m, v0 + len, &pa, NULL, NULL) || pa != p0 + len ||
            !gm_phys_present(m->src, pa, SZ_2M))
            break;
        len += SZ_2M;
    }
    if (len == 0) {
        /* The first 2 MiB is not all in RAM: still give the mapped page. */
        len = m->src->page_size;
    }
    *vaddr = v0;
    *paddr = p0;
    *size = len;
    return TRUE;
}
