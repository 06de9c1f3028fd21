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

/* Scans guest memory.  Returns the desc text (without trailing NULs) or NULL
 * when no note was found (err unset) or reading failed (err set).  *gpa_out,
 * if not NULL, receives the note's guest-physical address. */
GBytes *gm_vmcoreinfo_find(struct gm_source *src, uint64_t *gpa_out, GError **err);

#endif
