/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the guest kernel's memory map (its struct page array) ends, found
 * by walking the kernel's SPARSEMEM_EXTREME section table in guest memory.
 *
 * Why: kdump readers such as makedumpfile size their bitmaps from the pfns
 * the kernel itself manages.  QEMU also exposes non-RAM blocks (the BIOS
 * ROM at 0xfffc0000, VGA VRAM) far above the kernel's highest RAM; a kdump
 * header covering them disagrees with the kernel's view and makedumpfile
 * then misreads the file.  Callers clip kdump outputs to this end.
 *
 * The facts used (Linux include/linux/mmzone.h, kernel/crash_core.c):
 * SYMBOL(mem_section) is the value of the kernel's `struct mem_section
 * **mem_section`, a direct-map address of an array of LENGTH(mem_section)
 * root pointers; each non-NULL root points to page_size / SIZE(mem_section)
 * struct mem_section entries; section nr = root * per_root + index; a
 * section is present when bit 0 (SECTION_MARKED_PRESENT) of its
 * section_mem_map word (at OFFSET(mem_section.section_mem_map)) is set; it
 * covers 2^(SECTION_SIZE_BITS - page shift) pfns.  This file does not parse
 * VMCOREINFO: the caller passes those values. */
#ifndef GM_KERNEL_MEMMAP_H
#define GM_KERNEL_MEMMAP_H

#include <glib.h>
#include <stdint.h>
#include "guest-mem/source.h"

struct gm_memmap_params {
    uint64_t mem_section;      /* SYMBOL(mem_section): direct-map address of the roots */
    uint64_t n_roots;          /* LENGTH(mem_section) */
    uint64_t section_size;     /* SIZE(mem_section) */
    uint64_t map_offset;       /* OFFSET(mem_section.section_mem_map) */
    uint64_t section_size_bits;/* NUMBER(SECTION_SIZE_BITS) */
    uint64_t direct_map_base;  /* physical = direct-map address - this */
};

/* One past the highest pfn of a present section, or 0 when unknown: any
 * value out of range, an unreadable root or no present section at all.
 * Never an error: a wrong answer would drop RAM from a dump, so doubt
 * means 0 (callers then clip nothing). */
uint64_t gm_kernel_memmap_end_pfn(struct gm_source *src, const struct gm_memmap_params *p);

#endif
