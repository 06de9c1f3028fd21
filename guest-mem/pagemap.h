/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which pages of another process's private anonymous memory were ever
 * populated, from /proc/PID/pagemap.  QEMU's guest RAM is such memory by
 * default, and a guest page QEMU never touched (or the balloon gave back)
 * is neither present nor swapped: it reads as zeros.  Knowing that up front
 * saves copying it with process_vm_readv only to find it is zero; in a
 * lightly used guest that is most of RAM. */
#ifndef GM_PAGEMAP_H
#define GM_PAGEMAP_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The file descriptor of /proc/PID/pagemap, or -1 when it cannot be opened
 * (the caller then reads every page). */
int gm_pagemap_open(pid_t pid);

/* TRUE when [hva, hva+len) lies entirely in private anonymous mappings of
 * pid (no file behind them, per /proc/PID/maps).  Only there does "not
 * present, not swapped" mean zero: a shared or file mapping may have the
 * page in the page cache without it being mapped in pid. */
gboolean gm_pagemap_range_is_anon_private(pid_t pid, uint64_t hva, uint64_t len);

/* A page that was only ever read is mapped to the kernel's shared zero page
 * (or, in a transparent-huge-page area, the huge zero page): present, but
 * zero all the same.  That is every untouched page once anything has read
 * all of guest RAM, e.g. an earlier dump.  Their frame numbers are learned
 * by reading fresh anonymous memory of our own; pagemap shows frame numbers
 * only to CAP_SYS_ADMIN, so without it valid stays FALSE. */
struct gm_zero_pfns {
    gboolean valid;
    uint64_t pfn;                    /* the 4 KiB zero page */
    uint64_t huge_first, huge_count; /* the huge zero page, count 0 if none */
};
void gm_pagemap_learn_zero_pfns(struct gm_zero_pfns *z);

/* Fills populated[i] (TRUE/FALSE) for the n_pages pages of host_page_size
 * bytes starting at hva, from the pagemap fd: FALSE for a page that is
 * neither present nor swapped, or is mapped to a zero page of z (NULL or
 * not valid: not checked).  FALSE when the entries cannot be read (the
 * caller then reads every page).  No allocation. */
gboolean gm_pagemap_populated(int fd, uint64_t hva, size_t n_pages, size_t host_page_size,
                              const struct gm_zero_pfns *z, uint8_t *populated);

#endif
