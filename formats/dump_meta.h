/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Everything a writer needs besides the pages themselves.  The dumper fills
 * it; the writers only read it.  Strings are owned by whoever filled it. */
#ifndef HV_DUMP_META_H
#define HV_DUMP_META_H

#include <glib.h>
#include <stdint.h>
#include "common/cpu_state.h"

#define HV_UTS_LEN 65 /* struct new_utsname field size, incl. NUL */

struct hv_utsname {
    char sysname[HV_UTS_LEN];
    char nodename[HV_UTS_LEN];
    char release[HV_UTS_LEN];
    char version[HV_UTS_LEN];
    char machine[HV_UTS_LEN];
    char domainname[HV_UTS_LEN];
};

struct hv_dump_meta {
    uint32_t page_size;          /* guest page size, 4096 on x86_64 */
    const uint8_t *vmcoreinfo;   /* VMCOREINFO text (not the ELF note), or NULL */
    size_t vmcoreinfo_len;
    const struct hv_cpu_state *cpus; /* may be NULL when n_cpus == 0 */
    size_t n_cpus;
    struct hv_utsname uts;       /* zeroed when unknown */
    int64_t timestamp_sec;       /* when the guest was stopped */
    int64_t timestamp_usec;
    uint64_t phys_base;          /* NUMBER(phys_base) from VMCOREINFO, else 0 */

    /* Kexec-style ELF virtual addresses; valid only when have_vaddrs. */
    gboolean have_vaddrs;
    uint64_t direct_map_base;    /* p_vaddr = direct_map_base + p_paddr */
    uint64_t ktext_vaddr;        /* kernel text PT_LOAD: [ktext_vaddr, +ktext_size) */
    uint64_t ktext_paddr;
    uint64_t ktext_size;

    /* One past the highest pfn of the guest kernel's memory map (its
     * highest present memory section), 0 = unknown.  kdump outputs describe
     * only pages below it: readers such as makedumpfile size their bitmaps
     * from the kernel's view and misread a header whose max_mapnr also
     * covers non-RAM blocks QEMU exposes (BIOS ROM, VGA VRAM).  ELF outputs
     * ignore it. */
    uint64_t kernel_end_pfn;

    gboolean live;               /* TRUE: guest ran while dumped, not consistent */
    /* TRUE: the VMCOREINFO came from guest memory but could not be
     * confirmed against the guest's own data (it may be a forgery: the
     * guest owns its memory).  Recorded as vmcoreinfo=untrusted. */
    gboolean vmcoreinfo_untrusted;
    /* Pages the source could not provide and that were excluded on purpose
     * (a filtered kdump input): dump_level carries them over to kdump out. */
    int dump_level_in;
};

#endif
