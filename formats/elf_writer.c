/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ELF64 vmcore writer (ET_CORE, x86_64), kexec style: one PT_NOTE, then an
 * optional kernel-text PT_LOAD, then one PT_LOAD per RAM range.  Everything
 * goes out strictly in file order so the output may be a pipe: headers,
 * notes, explicit padding, then page data range after range. */
#include <elf.h>
#include <string.h>
#include "common/hv_error.h"
#include "formats/notes.h"
#include "formats/writer.h"
#include "formats/writer_common.h"

struct hv_writer {
    struct hv_sink *sink;
    uint32_t page_size;
    const struct hv_range *ranges; /* copied */
    size_t n_ranges;
    uint64_t *range_off;           /* file offset of each range's data */
    uint64_t pos;                  /* next file offset to write */
    uint64_t end;                  /* file size once complete */
    size_t cur;                    /* range the next page belongs to */
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* Range index containing paddr, or -1. */
static long find_range(const struct hv_range *r, size_t n, uint64_t paddr)
{
    for (size_t i = 0; i < n; i++)
        if (paddr >= r[i].start && paddr - r[i].start < r[i].size)
            return (long)i;
    return -1;
}

static void fill_load(Elf64_Phdr *ph, uint64_t off, uint64_t vaddr,
                      uint64_t paddr, uint64_t size)
{
    ph->p_type = PT_LOAD;
    ph->p_flags = PF_R | PF_W | PF_X;
    ph->p_offset = off;
    ph->p_vaddr = vaddr;
    ph->p_paddr = paddr;
    ph->p_filesz = size;
    ph->p_memsz = size;
    ph->p_align = 0; /* as QEMU and the kernel's vmcore: no alignment claim */
}

static struct hv_writer *elf_create(struct hv_sink *sink,
                                    const struct hv_range *ranges, size_t n_ranges,
                                    const struct hv_dump_meta *meta,
                                    const struct hv_writer_config *cfg,
                                    GError **err)
{
    (void)cfg;
    if (!hv_writer_check_inputs(ranges, n_ranges, meta, err))
        return NULL;

    long ktext_range = -1;
    if (meta->have_vaddrs && meta->ktext_size > 0)
        ktext_range = find_range(ranges, n_ranges, meta->ktext_paddr);
    size_t phnum = 1 + (ktext_range >= 0) + n_ranges;
    gboolean xnum = phnum >= PN_XNUM;

    size_t notes_len;
    uint8_t *notes = hv_notes_build(meta, &notes_len);
    uint64_t phoff = sizeof(Elf64_Ehdr);
    uint64_t shoff = phoff + phnum * sizeof(Elf64_Phdr);
    uint64_t notes_off = shoff + (xnum ? sizeof(Elf64_Shdr) : 0);
    uint64_t data_off = align_up(notes_off + notes_len, meta->page_size);

    struct hv_writer *w = g_new0(struct hv_writer, 1);
    w->sink = sink;
    w->page_size = meta->page_size;
    w->ranges = g_memdup2(ranges, n_ranges * sizeof(*ranges));
    w->n_ranges = n_ranges;
    w->range_off = g_new(uint64_t, n_ranges ? n_ranges : 1);
    w->pos = 0;
    uint64_t off = data_off;
    for (size_t i = 0; i < n_ranges; i++) {
        w->range_off[i] = off;
        off += ranges[i].size;
    }
    w->end = off;

    /* Everything before the page data, padding included, in one buffer. */
    uint8_t *head = g_malloc0(data_off);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)head;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh->e_type = ET_CORE;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = phoff;
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = xnum ? PN_XNUM : (Elf64_Half)phnum;
    if (xnum) {
        /* The real count lives in section header 0 (ELF extended numbering). */
        Elf64_Shdr *sh = (Elf64_Shdr *)(head + shoff);
        sh->sh_info = (Elf64_Word)phnum;
        eh->e_shoff = shoff;
        eh->e_shentsize = sizeof(Elf64_Shdr);
        eh->e_shnum = 1;
        eh->e_shstrndx = SHN_UNDEF;
    }

    Elf64_Phdr *ph = (Elf64_Phdr *)(head + phoff);
    ph->p_type = PT_NOTE;
    ph->p_offset = notes_off;
    ph->p_filesz = notes_len;
    ph->p_memsz = notes_len;
    ph++;
    if (ktext_range >= 0) {
        const struct hv_range *r = &ranges[ktext_range];
        uint64_t in_range = r->start + r->size - meta->ktext_paddr;
        fill_load(ph++, w->range_off[ktext_range] + (meta->ktext_paddr - r->start),
                  meta->ktext_vaddr, meta->ktext_paddr,
                  MIN(meta->ktext_size, in_range));
    }
    for (size_t i = 0; i < n_ranges; i++)
        fill_load(ph++, w->range_off[i],
                  meta->have_vaddrs ? meta->direct_map_base + ranges[i].start : 0,
                  ranges[i].start, ranges[i].size);
    memcpy(head + notes_off, notes, notes_len);
    g_free(notes);

    gboolean ok = hv_sink_write(sink, 0, head, data_off, err);
    g_free(head);
    if (!ok) {
        g_free((void *)w->ranges);
        g_free(w->range_off);
        g_free(w);
        return NULL;
    }
    w->pos = data_off;
    return w;
}

/* File offset of pfn's data, checking that it is the next one due. */
static gboolean locate(struct hv_writer *w, uint64_t pfn, GError **err)
{
    uint64_t addr = pfn * w->page_size;

    while (w->cur < w->n_ranges &&
           w->range_off[w->cur] + w->ranges[w->cur].size <= w->pos)
        w->cur++;
    if (w->cur >= w->n_ranges || addr < w->ranges[w->cur].start ||
        w->range_off[w->cur] + (addr - w->ranges[w->cur].start) != w->pos) {
        hv_error_internal(err,
                    "ELF writer: page 0x%" G_GINT64_MODIFIER "x is not the next page due",
                    pfn);
        return FALSE;
    }
    return TRUE;
}

static gboolean elf_put_pages(struct hv_writer *w, uint64_t pfn,
                              const struct hv_page_out *pages, size_t n,
                              GError **err)
{
    uint32_t ps = w->page_size;

    for (size_t i = 0; i < n; i++) {
        const struct hv_page_out *p = &pages[i];
        gboolean ok;

        if (!locate(w, pfn + i, err))
            return FALSE;
        if (p->kind == HV_PAGE_DATA) {
            if (p->flags != 0 || p->size != ps) {
                hv_error_internal(err,
                            "ELF writer got a compressed or short page (pfn 0x%"
                            G_GINT64_MODIFIER "x)", pfn + i);
                return FALSE;
            }
            ok = hv_sink_write(w->sink, w->pos, p->data, ps, err);
        } else {
            /* Zero and absent pages read back as zeros: the sink may leave
             * a hole. */
            ok = hv_sink_write_zeros(w->sink, w->pos, ps, err);
        }
        if (!ok)
            return FALSE;
        w->pos += ps;
    }
    return TRUE;
}

static gboolean elf_finish(struct hv_writer *w, GError **err)
{
    if (w->pos != w->end) {
        hv_error_internal(err,
                    "ELF writer finished with %" G_GUINT64_FORMAT " bytes of page data missing",
                    w->end - w->pos);
        return FALSE;
    }
    return TRUE;
}

static void elf_destroy(struct hv_writer *w)
{
    if (!w)
        return;
    g_free((void *)w->ranges);
    g_free(w->range_off);
    g_free(w);
}

const struct hv_writer_ops hv_elf_writer_ops = {
    .name = "elf",
    .compresses = FALSE,
    .needs_random_access = FALSE,
    .ram_only = FALSE,
    .create = elf_create,
    .put_pages = elf_put_pages,
    .finish = elf_finish,
    .destroy = elf_destroy,
};
