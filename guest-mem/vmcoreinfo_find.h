/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the guest kernel's VMCOREINFO ELF note from outside, by scanning
 * guest-physical memory.  (Inside the guest /sys/kernel/vmcoreinfo gives its
 * address; QEMU's -device vmcoreinfo learns it too, but only QEMU can read
 * that.) */
#ifndef GM_VMCOREINFO_FIND_H
#define GM_VMCOREINFO_FIND_H

#include <glib.h>
#include <stdint.h>
#include "guest-mem/source.h"

/* Checks one candidate note at buf[0..len): namesz 11, type 0, name
 * "VMCOREINFO", desc text starting "OSRELEASE=".  Returns the desc length
 * (> 0) or 0 when it is not such a note; *complete says whether the desc
 * fits in len and is clean text ending in '\n'.  Pure, for unit tests. */
size_t gm_vmcoreinfo_note_check(const uint8_t *buf, size_t len, gboolean *complete,
                                size_t *desc_off);

/* How the scan treats what it finds; every field may be zero. */
struct gm_vmcoreinfo_scan {
    /* Guest memory is the guest's: any page can hold a note that looks
     * like the kernel's.  accept() says whether a complete candidate (its
     * desc text) is believable; a refused one is remembered only as the
     * fallback, and the scan goes on.  NULL: the first complete note. */
    gboolean (*accept)(void *ud, const uint8_t *text, size_t len);
    void *ud;
    volatile gint *cancel;    /* checked between chunks (8 MiB) */
    /* Out: the note found was refused by accept() (the best there was),
     * or the scan stopped early (too many candidates, or too much work
     * spent on them). */
    gboolean untrusted, cut_short;
};

/* Scans guest memory: page starts first (where the kernel puts its note),
 * then every 4-byte offset if that found nothing.  The work spent on
 * candidates is bounded (at most 256 of them fully checked, and their
 * bytes at most a quarter of the memory scanned plus 64 MiB), so a guest
 * full of near-miss notes costs a scan about what an honest one does.
 * Returns the desc text (without trailing NULs) or NULL when no note was
 * found (err unset) or reading failed or the scan was cancelled (err set:
 * HV_ERROR_CANCELLED).  *gpa_out, if not NULL, receives the note's
 * guest-physical address.  opt may be NULL. */
GBytes *gm_vmcoreinfo_find(struct gm_source *src, struct gm_vmcoreinfo_scan *opt,
                           uint64_t *gpa_out, GError **err);

#endif
