/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds the dump metadata from guest memory: VMCOREINFO (given or found by
 * scanning), then the facts it points at.  Every step after VMCOREINFO is
 * optional: a missing piece leaves that part of the meta empty and a
 * warning, never fails the dump. */
#include "dumper/engine/guest_meta.h"
#include "common/hv_error.h"
#include "formats/vmcoreinfo.h"
#include "guest-mem/arch_x86_64.h"
#include "guest-mem/kernel_memmap.h"
#include "guest-mem/phys_read.h"
#include "guest-mem/vmcoreinfo_find.h"

#include <string.h>

void hv_guest_meta_init(struct hv_guest_meta *gm, uint32_t page_size)
{
    memset(gm, 0, sizeof *gm);
    gm->cpus = g_array_new(FALSE, TRUE, sizeof(struct hv_cpu_state));
    gm->meta.page_size = page_size;
}

static void add_warning(struct hv_guest_meta *gm, const char *msg)
{
    char *w = gm->warning ? g_strdup_printf("%s; %s", gm->warning, msg) : g_strdup(msg);
    g_free(gm->warning);
    gm->warning = w;
}

/* utsname: SYMBOL(init_uts_ns) + OFFSET(uts_namespace.name), six 65-byte
 * fields, read at the kernel-image address's physical location. */
static gboolean read_utsname(struct hv_guest_meta *gm, struct gm_source *src,
                             const uint8_t *vi, size_t vl, GError **err)
{
    uint64_t sym, off;
    char raw[6 * HV_UTS_LEN];
    struct hv_utsname *u = &gm->meta.uts;
    char *fields[6] = { u->sysname, u->nodename, u->release,
                        u->version, u->machine, u->domainname };

    if (!hv_vmcoreinfo_symbol(vi, vl, "init_uts_ns", &sym) ||
        !hv_vmcoreinfo_decimal(vi, vl, "OFFSET(uts_namespace.name)", &off)) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "VMCOREINFO lacks SYMBOL(init_uts_ns) or OFFSET(uts_namespace.name)");
        return FALSE;
    }
    uint64_t pa = gm_x86_64_kimage_to_phys(sym + off, gm->meta.phys_base);
    if (!gm_read_phys(src, pa, raw, sizeof raw, err))
        return FALSE;
    for (int i = 0; i < 6; i++) {
        memcpy(fields[i], raw + i * HV_UTS_LEN, HV_UTS_LEN);
        fields[i][HV_UTS_LEN - 1] = '\0';
    }
    return TRUE;
}

static gboolean find_vaddrs(struct hv_guest_meta *gm, struct gm_source *src,
                            const uint8_t *vi, size_t vl, GError **err)
{
    uint64_t top, mem_section, stext, l5 = 0;
    struct gm_x86_64_mmu mmu;
    struct hv_dump_meta *m = &gm->meta;

    if (!hv_vmcoreinfo_symbol(vi, vl, "init_top_pgt", &top) ||
        !hv_vmcoreinfo_symbol(vi, vl, "mem_section", &mem_section) ||
        !hv_vmcoreinfo_symbol(vi, vl, "_stext", &stext)) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "VMCOREINFO lacks SYMBOL(init_top_pgt), SYMBOL(mem_section) or SYMBOL(_stext)");
        return FALSE;
    }
    /* Older kernels do not print it: they only know 4 levels. */
    hv_vmcoreinfo_number(vi, vl, "pgtable_l5_enabled", &l5);
    gm_x86_64_mmu_init(&mmu, src, top, m->phys_base, l5 != 0);
    if (!gm_x86_64_direct_map_base(&mmu, mem_section, &m->direct_map_base, err) ||
        !gm_x86_64_kernel_text(&mmu, stext, &m->ktext_vaddr, &m->ktext_paddr,
                               &m->ktext_size, err))
        return FALSE;
    m->have_vaddrs = TRUE;
    return TRUE;
}

/* End of the kernel's memory map (SPARSEMEM_EXTREME), needs the direct-map
 * base.  Unknown (0) when VMCOREINFO lacks a value or the walk doubts. */
static uint64_t find_kernel_end_pfn(struct gm_source *src, const struct hv_dump_meta *m,
                                    const uint8_t *vi, size_t vl)
{
    struct gm_memmap_params p = {.direct_map_base = m->direct_map_base};

    if (!m->have_vaddrs ||
        !hv_vmcoreinfo_symbol(vi, vl, "mem_section", &p.mem_section) ||
        !hv_vmcoreinfo_decimal(vi, vl, "LENGTH(mem_section)", &p.n_roots) ||
        !hv_vmcoreinfo_decimal(vi, vl, "SIZE(mem_section)", &p.section_size) ||
        !hv_vmcoreinfo_decimal(vi, vl, "OFFSET(mem_section.section_mem_map)", &p.map_offset) ||
        !hv_vmcoreinfo_number(vi, vl, "SECTION_SIZE_BITS", &p.section_size_bits))
        return 0;
    return gm_kernel_memmap_end_pfn(src, &p);
}

/* A candidate VMCOREINFO from guest memory is believed when what it says
 * about the guest can be checked and holds: its PAGESIZE is the source's,
 * and its OSRELEASE is what the kernel's own utsname (at SYMBOL(init_uts_ns)
 * through phys_base) says.  A note sprayed into a page somewhere seldom
 * gets both right; the kernel's always does. */
struct candidate_check {
    struct gm_source *src;
    uint32_t page_size;
};

static gboolean believable(void *ud, const uint8_t *vi, size_t vl)
{
    const struct candidate_check *cc = ud;
    uint64_t v, sym, off, phys_base = 0;
    if (!hv_vmcoreinfo_decimal(vi, vl, "PAGESIZE", &v) || v != cc->page_size)
        return FALSE;
    hv_vmcoreinfo_number(vi, vl, "phys_base", &phys_base);
    char *release = hv_vmcoreinfo_get(vi, vl, "OSRELEASE");
    char uts_release[HV_UTS_LEN];
    gboolean ok = release && *release &&
                  hv_vmcoreinfo_symbol(vi, vl, "init_uts_ns", &sym) &&
                  hv_vmcoreinfo_decimal(vi, vl, "OFFSET(uts_namespace.name)", &off) &&
                  off < 4096 &&
                  gm_read_phys(cc->src,
                               gm_x86_64_kimage_to_phys(sym + off + 2 * HV_UTS_LEN, phys_base),
                               uts_release, sizeof uts_release, NULL);
    if (ok) {
        uts_release[HV_UTS_LEN - 1] = '\0';
        ok = strcmp(uts_release, release) == 0;
    }
    g_free(release);
    return ok;
}

/* The guest's memory map may end below RAM QEMU has: then it is no reason
 * to leave that RAM out.  On x86 QEMU puts only RAM above 4 GiB, and the
 * block at 0 is RAM: the kernel's map must reach the end of both.  (A
 * guest once said SECTION_SIZE_BITS=12 and got a dump of 1 page in 4,096.) */
static gboolean memmap_covers_ram(const struct gm_source *src, uint64_t end_pfn)
{
    uint64_t end = end_pfn * (uint64_t)src->page_size;
    for (size_t i = 0; i < src->n_blocks; i++) {
        const struct gm_block *b = &src->blocks[i];
        gboolean ram = b->gpa == 0 || b->gpa >= (UINT64_C(4) << 30);
        if (ram && b->gpa + b->size > end)
            return FALSE;
    }
    return TRUE;
}

gboolean hv_guest_meta_fill(struct hv_guest_meta *gm, struct gm_source *src,
                            GBytes *vmcoreinfo, GError **err)
{
    GError *lerr = NULL;
    uint64_t v;
    struct hv_dump_meta *m = &gm->meta;

    g_clear_pointer(&gm->vmcoreinfo, g_bytes_unref);
    if (vmcoreinfo) {
        gm->vmcoreinfo = g_bytes_ref(vmcoreinfo);
    } else {
        struct candidate_check cc = { src, m->page_size };
        struct gm_vmcoreinfo_scan scan = { .accept = believable, .ud = &cc,
                                           .cancel = gm->cancel };
        gm->vmcoreinfo = gm_vmcoreinfo_find(src, &scan, NULL, &lerr);
        if (lerr) {
            g_propagate_prefixed_error(err, lerr, "searching VMCOREINFO: ");
            return FALSE;
        }
        if (scan.cut_short)
            add_warning(gm, "the VMCOREINFO search met too many look-alike notes and "
                            "stopped early");
        if (gm->vmcoreinfo && scan.untrusted) {
            gsize n;
            const uint8_t *t = g_bytes_get_data(gm->vmcoreinfo, &n);
            if (hv_vmcoreinfo_decimal(t, n, "PAGESIZE", &v) && v != m->page_size) {
                /* It contradicts the source: no metadata beats wrong metadata. */
                add_warning(gm, "the only VMCOREINFO found in guest memory gives another "
                                "page size: ignored, the dump lacks kernel metadata");
                g_clear_pointer(&gm->vmcoreinfo, g_bytes_unref);
            } else {
                add_warning(gm, "the VMCOREINFO found in guest memory does not match the "
                                "guest's utsname: used, but it may be forged "
                                "(recorded as vmcoreinfo=untrusted)");
                m->vmcoreinfo_untrusted = TRUE;
            }
        }
    }
    if (!gm->vmcoreinfo) {
        if (!m->vmcoreinfo_untrusted && !gm->warning)
            add_warning(gm, "VMCOREINFO not found in guest memory; the dump lacks "
                            "kernel metadata (use --vmcoreinfo FILE)");
        m->vmcoreinfo_untrusted = FALSE;
        return TRUE;
    }

    gsize vl;
    const uint8_t *vi = g_bytes_get_data(gm->vmcoreinfo, &vl);
    m->vmcoreinfo = vi;
    m->vmcoreinfo_len = vl;
    if (hv_vmcoreinfo_number(vi, vl, "phys_base", &v))
        m->phys_base = v;
    if (hv_vmcoreinfo_decimal(vi, vl, "PAGESIZE", &v) && v != m->page_size) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "guest page size %" G_GUINT64_FORMAT " (VMCOREINFO PAGESIZE) "
                    "differs from the source's %u", v, m->page_size);
        return FALSE;
    }
    if (!read_utsname(gm, src, vi, vl, &lerr)) {
        char *w = g_strdup_printf("guest utsname unknown: %s", lerr->message);
        add_warning(gm, w);
        g_free(w);
        g_clear_error(&lerr);
    }
    if (!find_vaddrs(gm, src, vi, vl, &lerr)) {
        char *w = g_strdup_printf("ELF virtual addresses unknown: %s", lerr->message);
        add_warning(gm, w);
        g_free(w);
        g_clear_error(&lerr);
    }
    m->kernel_end_pfn = find_kernel_end_pfn(src, m, vi, vl);
    if (m->kernel_end_pfn && !memmap_covers_ram(src, m->kernel_end_pfn)) {
        char *w = g_strdup_printf("the guest's memory map ends at 0x%" G_GINT64_MODIFIER "x, "
                                  "below RAM QEMU has: dumping all of QEMU's RAM",
                                  m->kernel_end_pfn * (uint64_t)src->page_size);
        add_warning(gm, w);
        g_free(w);
        m->kernel_end_pfn = 0;
    }
    return TRUE;
}

void hv_guest_meta_set_cpus(struct hv_guest_meta *gm,
                            const struct hv_cpu_state *cpus, size_t n)
{
    g_array_set_size(gm->cpus, 0);
    if (n)
        g_array_append_vals(gm->cpus, cpus, (guint)n);
    gm->meta.cpus = n ? &g_array_index(gm->cpus, struct hv_cpu_state, 0) : NULL;
    gm->meta.n_cpus = n;
}

void hv_guest_meta_clear(struct hv_guest_meta *gm)
{
    if (gm->cpus)
        g_array_unref(gm->cpus);
    g_clear_pointer(&gm->vmcoreinfo, g_bytes_unref);
    g_free(gm->warning);
    memset(gm, 0, sizeof *gm);
}
