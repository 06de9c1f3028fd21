/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/pagemap: one little-endian 64-bit entry per virtual page; bit 63
 * says "present in RAM", bit 62 "swapped out" (Documentation/admin-guide/mm/
 * pagemap.rst).  Reading those two bits needs the same ptrace access as
 * process_vm_readv; the PFN bits (which need CAP_SYS_ADMIN) are not used. */
#include "guest-mem/pagemap.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_SWAPPED (UINT64_C(1) << 62)
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

gboolean gm_pagemap_populated(int fd, uint64_t hva, size_t n_pages, size_t host_page_size,
                              uint8_t *populated)
{
    uint64_t entries[PM_CHUNK];
    uint64_t first = hva / host_page_size;

    for (size_t done = 0; done < n_pages;) {
        size_t n = MIN(n_pages - done, (size_t)PM_CHUNK);
        size_t want = n * sizeof entries[0];
        ssize_t r = pread(fd, entries, want, (off_t)((first + done) * sizeof entries[0]));
        if (r != (ssize_t)want)
            return FALSE;
        for (size_t i = 0; i < n; i++)
            populated[done + i] = (entries[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
        done += n;
    }
    return TRUE;
}
