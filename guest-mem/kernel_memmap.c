/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walks the guest kernel's mem_section roots to find the end of its memory
 * map; see kernel_memmap.h for the layout and why it matters.  Reads a few
 * pages once per dump (the root array and each non-NULL root), so plain
 * gm_read_phys calls with a temporary buffer are fine. */
#include "guest-mem/kernel_memmap.h"
#include "guest-mem/phys_read.h"

#include <string.h>

/* Bounds that no real x86_64 kernel exceeds: 5-level paging gives
 * 2^(52-27) sections / 256 per root = 131072 roots. */
#define MAX_ROOTS (1u << 20)
#define MAX_PFN (1ull << 40) /* 52-bit physical addresses, 4 KiB pages */

static gboolean is_pow2(uint64_t v)
{
    return v && (v & (v - 1)) == 0;
}

static unsigned page_shift(uint32_t page_size)
{
    unsigned s = 0;
    while ((1ull << s) < page_size)
        s++;
    return s;
}

static gboolean params_sane(const struct gm_memmap_params *p, uint32_t page_size)
{
    unsigned ps = page_shift(page_size);
    return is_pow2(page_size) && p->mem_section >= p->direct_map_base &&
           p->n_roots > 0 && p->n_roots <= MAX_ROOTS &&
           is_pow2(p->section_size) && p->section_size >= 8 &&
           p->section_size <= page_size &&
           p->map_offset % 8 == 0 && p->map_offset + 8 <= p->section_size &&
           p->section_size_bits >= ps && p->section_size_bits < 52;
}

static uint64_t get_u64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i]; /* guest is little-endian */
    return v;
}

/* Highest present section index within one root page, or -1. */
static int64_t last_present(const uint8_t *page, const struct gm_memmap_params *p,
                            uint64_t per_root)
{
    for (uint64_t i = per_root; i-- > 0;) {
        uint64_t map = get_u64(page + i * p->section_size + p->map_offset);
        if (map & 1) /* SECTION_MARKED_PRESENT */
            return (int64_t)i;
    }
    return -1;
}

uint64_t gm_kernel_memmap_end_pfn(struct gm_source *src, const struct gm_memmap_params *p)
{
    const uint32_t ps = src->page_size;
    if (!params_sane(p, ps))
        return 0;
    const uint64_t per_root = ps / p->section_size;
    const unsigned shift = (unsigned)p->section_size_bits - page_shift(ps);
    size_t roots_len = (size_t)p->n_roots * 8;
    uint8_t *roots = g_malloc(roots_len);
    uint8_t *page = g_malloc(ps);
    uint64_t end = 0;

    /* The root array itself unreadable: unknown. */
    if (!gm_read_phys(src, p->mem_section - p->direct_map_base, roots, roots_len, NULL))
        goto out;
    /* The highest root with a present section decides: scan from the top. */
    for (uint64_t r = p->n_roots; r-- > 0;) {
        uint64_t root = get_u64(roots + r * 8);
        if (!root)
            continue;
        if (root < p->direct_map_base ||
            !gm_read_phys(src, root - p->direct_map_base, page, ps, NULL))
            goto out; /* a root that points nowhere: garbage */
        int64_t last = last_present(page, p, per_root);
        if (last < 0)
            continue;
        uint64_t nr = r * per_root + (uint64_t)last;
        if (nr + 1 > (MAX_PFN >> shift))
            goto out; /* beyond any physical address: garbage */
        end = (nr + 1) << shift;
        break;
    }
out:
    g_free(page);
    g_free(roots);
    return end;
}
