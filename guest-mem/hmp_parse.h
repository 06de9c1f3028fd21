/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for the text QEMU's human monitor prints: `info mtree -f`,
 * `gpa2hva`, `info registers -a`.  Pure functions over strings, unit-tested
 * against outputs captured from a real QEMU (tests/unit/data/). */
#ifndef GM_HMP_PARSE_H
#define GM_HMP_PARSE_H

#include <glib.h>
#include <stdint.h>
#include "common/cpu_state.h"

/* One guest-RAM range of the FlatView of address space "memory". */
struct hmp_ram_range {
    uint64_t gpa;     /* start */
    uint64_t size;    /* bytes */
    uint64_t offset;  /* offset inside the memory region (RAM block) */
    char *name;       /* memory region name, e.g. "pc.ram" */
    gboolean readonly;/* printed as "rom" */
    uint64_t hva;     /* host address, filled later by the caller (gpa2hva) */
};

/* The ranges QEMU's dump-guest-memory would dump: RAM regions, read-only
 * ones included ("rom": RAM mapped read-only, e.g. BIOS and PAM shadows);
 * not I/O, not ROM devices ("romd"), not RAM devices ("ramd"), not
 * non-volatile RAM ("nv-ram").  Returns a GArray of struct hmp_ram_range
 * (elements freed with the array), sorted by gpa as QEMU prints them. */
GArray *hmp_parse_mtree_ram(const char *text, GError **err);

/* Merges neighbours contiguous both in gpa and in hva, as QEMU's dump does
 * (guest_phys_blocks); call after filling hva. */
void hmp_ram_ranges_merge(GArray *ranges);

/* "Host virtual address for 0x100000 (pc.ram) is 0x7f9debf00000". */
gboolean hmp_parse_gpa2hva(const char *text, uint64_t *hva, GError **err);

/* `info registers -a` for x86_64: one struct hv_cpu_state (arch
 * HV_ARCH_X86_64) per "CPU#N" section.  kernel_gs_base is not printed by QEMU and stays 0. */
GArray *hmp_parse_registers_x86_64(const char *text, GError **err);

#endif
