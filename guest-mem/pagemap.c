/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/pagemap: one little-endian 64-bit entry per virtual page; bit 63
 * says "present in RAM", bit 62 "swapped out" (Documentation/admin-guide/mm/
 * pagemap.rst).  Reading those two bits needs the same ptrace access as
 * process_vm_readv; the PFN bits (which need CAP_SYS_ADMIN) are not used. */
#include "guest-mem/pagemap.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_SWAPPED (UINT64_C(1) << 62)
#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define HUGE_SIZE (2u << 20)
/* Entries read per pread(): 4 KiB of stack. */
#define PM_CHUNK 512

int gm_pagemap_open(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    return open(path, O_RDONLY | O_CLOEXEC);
}

gboolean gm_pagemap_range_is_anon_private(pid_t pid, uint64_t hva, uint64_t len)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    uint64_t covered = hva, end_want = hva + len;
    gboolean ok = TRUE;

    if (!f)
        return FALSE;
    /* /proc/PID/maps is sorted by address: walk the mappings that overlap
     * the range, requiring them to be contiguous, private and nameless. */
    while (ok && covered < end_want && fgets(line, sizeof line, f)) {
        uint64_t start, end;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %n",
                   &start, &end, perms, &name_at) < 3)
            continue;
        if (end <= covered)
            continue;
        if (start > covered || perms[3] != 'p' || (name_at > 0 && line[name_at] != '\n' &&
                                                   line[name_at] != '\0'))
            ok = FALSE;
        else
            covered = end;
    }
    fclose(f);
    return ok && covered >= end_want;
}

/* Our own pagemap entry for the page at p (0 on failure). */
static uint64_t own_entry(int fd, const volatile uint8_t *p, size_t ps)
{
    uint64_t e = 0;
    if (pread(fd, &e, sizeof e, (off_t)((uintptr_t)p / ps * sizeof e)) != (ssize_t)sizeof e)
        return 0;
    return e;
}

void gm_pagemap_learn_zero_pfns(struct gm_zero_pfns *z)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    *z = (struct gm_zero_pfns){0};
    if (fd < 0)
        return;
    /* Room for one 2 MiB-aligned huge page plus two small pages apart. */
    size_t len = 2 * HUGE_SIZE + 2 * ps;
    uint8_t *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        close(fd);
        return;
    }
    /* Two small pages read apart: a read fault maps the shared zero page
     * into both.  Some kernels (configurations that forbid the zero page)
     * give each read fault a page of its own; then their frames differ and
     * nothing is learned: a frame of ours, freed on munmap and reused for
     * guest data, must never count as zero. */
    volatile uint8_t *small = m + len - ps, *other = m + len - 2 * ps;
    madvise((void *)other, 2 * ps, MADV_NOHUGEPAGE);
    (void)*small;
    (void)*other;
    uint64_t e = own_entry(fd, small, ps), e2 = own_entry(fd, other, ps);
    if ((e & PM_PRESENT) && (e & PM_PFN_MASK) && (e2 & PM_PRESENT) &&
        (e2 & PM_PFN_MASK) == (e & PM_PFN_MASK)) {
        z->valid = TRUE;
        z->pfn = e & PM_PFN_MASK;
        volatile uint8_t *huge = (uint8_t *)(((uintptr_t)m + HUGE_SIZE - 1) &
                                             ~(uintptr_t)(HUGE_SIZE - 1));
        madvise((void *)huge, HUGE_SIZE, MADV_HUGEPAGE);
        (void)*huge; /* the huge zero page, where THP and its use_zero_page are on */
        uint64_t h0 = own_entry(fd, huge, ps), h1 = own_entry(fd, huge + ps, ps);
        uint64_t p0 = h0 & PM_PFN_MASK, p1 = h1 & PM_PFN_MASK;
        if ((h0 & PM_PRESENT) && (h1 & PM_PRESENT) && p0 != z->pfn && p1 == p0 + 1) {
            z->huge_first = p0;
            z->huge_count = HUGE_SIZE / ps;
        }
    }
    munmap(m, len);
    close(fd);
}

static gboolean is_zero_pfn(const struct gm_zero_pfns *z, uint64_t pfn)
{
    return pfn == z->pfn || (pfn >= z->huge_first && pfn - z->huge_first < z->huge_count);
}

gboolean gm_pagemap_populated(int fd, uint64_t hva, size_t n_pages, size_t host_page_size,
                              const struct gm_zero_pfns *z, uint8_t *populated)
{
    gboolean pfns = z && z->valid;
    uint64_t entries[PM_CHUNK];
    uint64_t first = hva / host_page_size;

    for (size_t done = 0; done < n_pages;) {
        size_t n = MIN(n_pages - done, (size_t)PM_CHUNK);
        size_t want = n * sizeof entries[0];
        ssize_t r = pread(fd, entries, want, (off_t)((first + done) * sizeof entries[0]));
        if (r != (ssize_t)want)
            return FALSE;
        for (size_t i = 0; i < n; i++) {
            uint64_t e = entries[i];
            populated[done + i] = (e & (PM_PRESENT | PM_SWAPPED)) != 0 &&
                                  !(pfns && (e & PM_PRESENT) && is_zero_pfn(z, e & PM_PFN_MASK));
        }
        done += n;
    }
    return TRUE;
}
