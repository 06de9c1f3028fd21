/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest facts a dump carries, read from the guest's memory: VMCOREINFO,
 * utsname (init_uts_ns), phys_base, the direct-map base and kernel text
 * range (for kexec-style ELF addresses).  CPU state is added by the caller. */
#ifndef HV_GUEST_META_H
#define HV_GUEST_META_H

#include <glib.h>
#include "formats/dump_meta.h"
#include "guest-mem/source.h"

struct hv_guest_meta {
    struct hv_dump_meta meta;  /* points into the members below */
    GBytes *vmcoreinfo;        /* VMCOREINFO text or NULL */
    GArray *cpus;              /* struct hv_cpu_state; may be empty */
    char *warning;             /* set when something could not be found */
    /* Set by the caller before hv_guest_meta_fill(): the scan of guest
     * memory for VMCOREINFO stops with HV_ERROR_CANCELLED when it is set. */
    volatile gint *cancel;
};

void hv_guest_meta_init(struct hv_guest_meta *gm, uint32_t page_size);
/* vmcoreinfo: text given by the user (--vmcoreinfo), or NULL to search the
 * guest's memory for the kernel's VMCOREINFO note.  Missing VMCOREINFO is
 * not an error: gm->warning says so and the meta stays minimal.  Nor is
 * one found in guest memory that cannot be confirmed (its utsname and page
 * size checked against the guest's own data): it is used, marked
 * meta.vmcoreinfo_untrusted, with a warning; one that contradicts the
 * source (page size) is dropped, with a warning.  The guest's memory map
 * may clip kdump output only where QEMU's RAM agrees with it.  Errors:
 * HV_ERROR_UNSUPPORTED (a --vmcoreinfo text with another page size),
 * HV_ERROR_CANCELLED, or the source's read errors. */
gboolean hv_guest_meta_fill(struct hv_guest_meta *gm, struct gm_source *src,
                            GBytes *vmcoreinfo, GError **err);
/* Copies cpus into gm->cpus and points meta at them. */
void hv_guest_meta_set_cpus(struct hv_guest_meta *gm,
                            const struct hv_cpu_state *cpus, size_t n);
void hv_guest_meta_clear(struct hv_guest_meta *gm);

#endif
