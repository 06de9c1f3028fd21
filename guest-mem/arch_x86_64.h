/* SPDX-License-Identifier: GPL-2.0-or-later */
/* x86_64 guest kernel address facts, found by walking the guest's own page
 * tables through a source: virtual-to-physical translation, the direct-map
 * base (randomized by KASLR) and the kernel text mapping.  Callers pass the
 * values they took from VMCOREINFO; this file does not parse it. */
#ifndef GM_ARCH_X86_64_H
#define GM_ARCH_X86_64_H

#include <glib.h>
#include <stdint.h>
#include "guest-mem/source.h"

#define GM_X86_64_KIMAGE_BASE 0xffffffff80000000ull /* __START_KERNEL_map */

struct gm_x86_64_mmu {
    struct gm_source *src;
    uint64_t root;  /* physical address of the top-level table */
    int levels;     /* 4 or 5 */
};

/* Physical address of a kernel-image virtual address. */
static inline uint64_t gm_x86_64_kimage_to_phys(uint64_t vaddr, uint64_t phys_base)
{
    return vaddr - GM_X86_64_KIMAGE_BASE + phys_base; /* mod 2^64 */
}

/* Root = SYMBOL(init_top_pgt) as a kernel-image address. */
void gm_x86_64_mmu_init(struct gm_x86_64_mmu *m, struct gm_source *src,
                        uint64_t init_top_pgt, uint64_t phys_base, gboolean l5);

/* Translates vaddr.  *leaf_size (optional) gets 4 KiB, 2 MiB or 1 GiB.
 * Not mapped / non-canonical / table outside RAM: FALSE, HV_ERROR_GUEST. */
gboolean gm_x86_64_translate(const struct gm_x86_64_mmu *m, uint64_t vaddr,
                             uint64_t *paddr, uint64_t *leaf_size, GError **err);

/* Direct-map base from one known direct-map address (VMCOREINFO's
 * SYMBOL(mem_section) is the value of the kernel's mem_section pointer, which
 * points into the direct map): base = addr - translate(addr).  Checked to
 * be 1 GiB aligned, as KASLR places it. */
gboolean gm_x86_64_direct_map_base(const struct gm_x86_64_mmu *m, uint64_t dm_addr,
                                   uint64_t *base, GError **err);

/* Kernel text mapping as one linear range: from stext rounded down to 2 MiB,
 * in 2 MiB steps while the mapping stays physically contiguous (at most
 * 1 GiB).  Gives the virtual start, physical start and size. */
gboolean gm_x86_64_kernel_text(const struct gm_x86_64_mmu *m, uint64_t stext,
                               uint64_t *vaddr, uint64_t *paddr, uint64_t *size,
                               GError **err);

#endif
