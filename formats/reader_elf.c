/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading ELF64 x86_64 vmcores (ours, QEMU's, the kernel's /proc/vmcore).
 * PT_NOTEs give notes and CPUs; PT_LOADs give RAM, except a kernel-text
 * PT_LOAD that merely aliases RAM another PT_LOAD already holds. */
#include "formats/reader_priv.h"

#include <elf.h>
#include <string.h>
#include "common/hv_error.h"
#include "common/page.h"

/* Start of the x86_64 kernel-text mapping (__START_KERNEL_map). */
#define KERNEL_MAP_START 0xffffffff80000000ull
/* More program headers than this is taken as corruption, not allocated. */
#define MAX_PHDRS (1u << 24)
/* x86_64 physical addresses have at most 52 bits: a bigger PT_LOAD is a
 * damaged header, not RAM. */
#define MAX_LOAD_BYTES (1ull << 52)

struct elf_seg {
    uint64_t paddr;
    uint64_t memsz;
    uint64_t filesz;
    uint64_t offset;
    uint64_t vaddr;
};

struct pfn_run {
    uint64_t start, end; /* [start, end) in pfns */
};

struct elf_priv {
    struct elf_seg *segs; /* RAM loads sorted by paddr */
    size_t n_segs;
    uint64_t *max_end;    /* max_end[i] = max end of segs[0..i] */
    struct pfn_run *data; /* pages file data backs: sorted, disjoint */
    size_t n_data;
};

static gboolean elf_probe(const uint8_t *head, size_t len)
{
    return len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
}

/* TRUE when [off, off+len) lies inside the file. */
static gboolean in_file(const struct hv_vmcore *d, uint64_t off, uint64_t len)
{
    return off <= d->src->size && len <= d->src->size - off;
}

static gboolean read_ehdr(struct hv_vmcore *d, Elf64_Ehdr *eh, uint64_t *phnum,
                          GError **err)
{
    if (d->src->size < sizeof(*eh))
        return hv_reader_corrupt(err, "truncated ELF header (%" G_GUINT64_FORMAT " bytes)",
                       d->src->size);
    if (!d->src->read_at(d->src, 0, eh, sizeof(*eh), err))
        return FALSE;
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "only 64-bit little-endian ELF vmcores are supported");
        return FALSE;
    }
    if (eh->e_type != ET_CORE)
        return hv_reader_corrupt(err, "ELF file is not a core file (e_type %u)", eh->e_type);
    /* QEMU writes EM_386 in an ELF64 file for a guest not in long mode;
     * its pages read the same. */
    if (eh->e_machine != EM_X86_64 && eh->e_machine != EM_386) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "ELF machine %u is not x86", eh->e_machine);
        return FALSE;
    }
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return hv_reader_corrupt(err, "bad ELF program header size %u", eh->e_phentsize);
    *phnum = eh->e_phnum;
    if (eh->e_phnum == PN_XNUM) {
        /* The real count lives in section header 0's sh_info. */
        Elf64_Shdr sh;
        if (eh->e_shentsize != sizeof(sh) || !in_file(d, eh->e_shoff, sizeof(sh)))
            return hv_reader_corrupt(err, "e_phnum is PN_XNUM but section header 0 is missing");
        if (!d->src->read_at(d->src, eh->e_shoff, &sh, sizeof(sh), err))
            return FALSE;
        *phnum = sh.sh_info;
    }
    if (*phnum > MAX_PHDRS || !in_file(d, eh->e_phoff, *phnum * sizeof(Elf64_Phdr)))
        return hv_reader_corrupt(err, "ELF program headers (%" G_GUINT64_FORMAT " at offset %"
                       G_GUINT64_FORMAT ") lie outside the file", *phnum,
                       (uint64_t)eh->e_phoff);
    return TRUE;
}

static gboolean load_note(struct hv_vmcore *d, const Elf64_Phdr *ph, GError **err)
{
    if (!in_file(d, ph->p_offset, ph->p_filesz))
        return hv_reader_corrupt(err, "PT_NOTE at offset %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                       " bytes) lies outside the file", (uint64_t)ph->p_offset,
                       (uint64_t)ph->p_filesz);
    if (ph->p_filesz > HV_READER_MAX_NOTES)
        return hv_reader_corrupt(err, "PT_NOTE of %" G_GUINT64_FORMAT " bytes is implausibly large",
                       (uint64_t)ph->p_filesz);
    uint8_t *blob = g_malloc(ph->p_filesz ? ph->p_filesz : 1);
    if (!d->src->read_at(d->src, ph->p_offset, blob, ph->p_filesz, err)) {
        g_free(blob);
        return FALSE;
    }
    return hv_reader_add_notes(d, blob, ph->p_filesz, err);
}

static gboolean check_load(struct hv_vmcore *d, const Elf64_Phdr *ph, GError **err)
{
    if (!in_file(d, ph->p_offset, ph->p_filesz))
        return hv_reader_corrupt(err, "PT_LOAD at paddr 0x%" G_GINT64_MODIFIER "x: data (offset %"
                       G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " bytes) lies outside the file",
                       (uint64_t)ph->p_paddr, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz);
    if (ph->p_memsz > MAX_LOAD_BYTES)
        return hv_reader_corrupt(err, "PT_LOAD at paddr 0x%" G_GINT64_MODIFIER "x: memsz %"
                       G_GUINT64_FORMAT " is implausibly large", (uint64_t)ph->p_paddr,
                       (uint64_t)ph->p_memsz);
    if (ph->p_filesz > ph->p_memsz)
        return hv_reader_corrupt(err, "PT_LOAD at paddr 0x%" G_GINT64_MODIFIER "x has filesz > memsz",
                       (uint64_t)ph->p_paddr);
    if (ph->p_paddr > UINT64_MAX - HV_PAGE_SIZE - ph->p_memsz)
        return hv_reader_corrupt(err, "PT_LOAD at paddr 0x%" G_GINT64_MODIFIER "x wraps around",
                       (uint64_t)ph->p_paddr);
    return TRUE;
}

static int seg_cmp(const void *a, const void *b)
{
    const struct elf_seg *x = a, *y = b;
    if (x->paddr != y->paddr)
        return x->paddr < y->paddr ? -1 : 1;
    return 0;
}

/* A kernel-text PT_LOAD (vaddr in the kernel map) whose physical range lies
 * inside another PT_LOAD is an alias of RAM, not RAM of its own. */
static gboolean is_ktext_alias(const struct elf_seg *s, size_t n, size_t i)
{
    if (s[i].vaddr < KERNEL_MAP_START)
        return FALSE;
    for (size_t j = 0; j < n; j++) {
        if (j == i || s[j].vaddr >= KERNEL_MAP_START)
            continue;
        if (s[j].paddr <= s[i].paddr &&
            s[i].paddr + s[i].memsz <= s[j].paddr + s[j].memsz)
            return TRUE;
    }
    return FALSE;
}

/* The pages some segment's file bytes reach (the page holding p_filesz's
 * end included), merged.  segs are sorted by paddr, so the runs come in
 * start order and merge like hv_reader_add_range(). */
static void build_data_runs(struct elf_priv *p)
{
    const uint64_t ps = HV_PAGE_SIZE;

    p->data = g_new(struct pfn_run, p->n_segs + 1);
    for (size_t i = 0; i < p->n_segs; i++) {
        const struct elf_seg *s = &p->segs[i];
        if (s->filesz == 0)
            continue;
        struct pfn_run r = { s->paddr / ps, (s->paddr + s->filesz + ps - 1) / ps };
        struct pfn_run *last = p->n_data ? &p->data[p->n_data - 1] : NULL;
        if (last && r.start <= last->end)
            last->end = MAX(last->end, r.end);
        else
            p->data[p->n_data++] = r;
    }
}

static gboolean elf_open(struct hv_vmcore *d, GError **err)
{
    Elf64_Ehdr eh;
    uint64_t phnum = 0;
    struct elf_priv *p = g_new0(struct elf_priv, 1);
    GArray *loads = g_array_new(FALSE, FALSE, sizeof(struct elf_seg));
    Elf64_Phdr *ph = NULL;
    gboolean ok = FALSE;

    d->priv = p;
    if (!read_ehdr(d, &eh, &phnum, err))
        goto out;
    ph = g_new(Elf64_Phdr, phnum ? phnum : 1);
    if (!d->src->read_at(d->src, eh.e_phoff, ph, phnum * sizeof(*ph), err))
        goto out;
    for (uint64_t i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_NOTE) {
            if (!load_note(d, &ph[i], err))
                goto out;
        } else if (ph[i].p_type == PT_LOAD) {
            if (!check_load(d, &ph[i], err))
                goto out;
            if (ph[i].p_memsz == 0)
                continue;
            struct elf_seg s = { ph[i].p_paddr, ph[i].p_memsz, ph[i].p_filesz,
                                 ph[i].p_offset, ph[i].p_vaddr };
            g_array_append_val(loads, s);
        }
    }

    struct elf_seg *all = (struct elf_seg *)(void *)loads->data;
    p->segs = g_new(struct elf_seg, loads->len + 1);
    for (guint i = 0; i < loads->len; i++) {
        if (is_ktext_alias(all, loads->len, i))
            continue;
        p->segs[p->n_segs++] = all[i];
        /* QEMU (paging=false) writes 0 or, for some regions, the physical
         * address itself: neither is a kexec-style virtual address. */
        if (all[i].vaddr != 0 && all[i].vaddr != all[i].paddr)
            d->info.has_vaddrs = TRUE;
    }
    qsort(p->segs, p->n_segs, sizeof(*p->segs), seg_cmp);
    p->max_end = g_new(uint64_t, p->n_segs + 1);
    for (size_t i = 0; i < p->n_segs; i++) {
        uint64_t end = p->segs[i].paddr + p->segs[i].memsz;
        p->max_end[i] = i > 0 ? MAX(p->max_end[i - 1], end) : end;
        hv_reader_add_range(d, p->segs[i].paddr & ~(uint64_t)(HV_PAGE_SIZE - 1),
                            (end + HV_PAGE_SIZE - 1) & ~(uint64_t)(HV_PAGE_SIZE - 1));
    }

    build_data_runs(p);

    d->info.format = HV_FORMAT_ELF;
    d->info.page_size = HV_PAGE_SIZE;
    for (guint i = 0; i < d->ranges->len; i++) {
        const struct hv_range *r = &g_array_index(d->ranges, struct hv_range, i);
        d->info.pages_present += r->size / HV_PAGE_SIZE;
        d->info.max_pfn = (r->start + r->size) / HV_PAGE_SIZE;
    }
    d->info.pages_dumped = d->info.pages_present;
    ok = TRUE;
out:
    g_free(ph);
    g_array_free(loads, TRUE);
    return ok;
}

static enum hv_read_status elf_read_page(struct hv_vmcore *d, uint64_t pfn,
                                         void *buf, GError **err)
{
    const struct elf_priv *p = d->priv;
    const uint64_t ps = HV_PAGE_SIZE;
    uint8_t *out = buf;
    gboolean found = FALSE;

    memset(buf, 0, ps);
    if (pfn > (UINT64_MAX - ps) / ps)
        return HV_READ_ABSENT;
    uint64_t a = pfn * ps, b = a + ps;
    /* Last segment starting below the page's end. */
    size_t lo = 0, hi = p->n_segs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->segs[mid].paddr < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t j = lo; j-- > 0 && p->max_end[j] > a;) {
        const struct elf_seg *s = &p->segs[j];
        uint64_t from = MAX(a, s->paddr), to = MIN(b, s->paddr + s->memsz);
        if (from >= to)
            continue;
        found = TRUE;
        /* Bytes past filesz stay zero. */
        uint64_t fend = MIN(to, s->paddr + s->filesz);
        if (from < fend &&
            !d->src->read_at(d->src, s->offset + (from - s->paddr), out + (from - a),
                             fend - from, err))
            return HV_READ_ERROR;
    }
    return found ? HV_READ_OK : HV_READ_ABSENT;
}

static uint64_t elf_next_data_pfn(struct hv_vmcore *d, uint64_t pfn)
{
    const struct elf_priv *p = d->priv;
    /* First run ending above pfn. */
    size_t lo = 0, hi = p->n_data;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->data[mid].end <= pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == p->n_data)
        return UINT64_MAX;
    return MAX(pfn, p->data[lo].start);
}

static void elf_cleanup(struct hv_vmcore *d)
{
    struct elf_priv *p = d->priv;

    if (!p)
        return;
    g_free(p->segs);
    g_free(p->max_end);
    g_free(p->data);
    g_free(p);
    d->priv = NULL;
}

const struct hv_vmcore_ops hv_vmcore_elf_ops = {
    .name = "elf",
    .probe = elf_probe,
    .open = elf_open,
    .read_page = elf_read_page,
    .next_data_pfn = elf_next_data_pfn,
    .verify = NULL, /* open() already bounds every segment and note */
    .cleanup = elf_cleanup,
};
