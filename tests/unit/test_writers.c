/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writers end to end: synthetic pages -> writer -> in-memory sink, then a
 * tiny test-local reader checks headers and that every page comes back. */
#include <elf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include "formats/flat.h"
#include "common/hv_error.h"
#include "formats/kdump_layout.h"
#include "formats/notes.h"
#include "formats/writer.h"

#define PS 4096u
#define GiB (1ull << 30)

/* ---- sinks ---- */

struct mem_sink {
    struct hv_sink base;
    GByteArray *bytes;   /* random access: grows, zero filled */
    uint64_t limit;      /* prefix mode: keep only bytes below limit */
    uint64_t total;
    guint n_refs;        /* write_ref calls (refs_sink) */
    guint n_zero_calls;  /* write_zeros calls (zeros_sink) */
    uint64_t zero_bytes; /* and the bytes they covered */
    const char *ref_bad; /* why one was wrong */
};

/* Set by kdump_raw_refs: sinks take write_ref, pages carry refs. */
static gboolean with_refs;
/* Raw pages feed() handed to a writer. */
static guint fed_raw;

static gboolean rnd_write(struct hv_sink *s, uint64_t off, const void *buf,
                          size_t len, GError **err)
{
    struct mem_sink *m = (struct mem_sink *)s;
    (void)err;
    if (off + len > m->bytes->len) {
        guint old = m->bytes->len;
        g_byte_array_set_size(m->bytes, (guint)(off + len));
        memset(m->bytes->data + old, 0, m->bytes->len - old);
    }
    memcpy(m->bytes->data + off, buf, len);
    return TRUE;
}

static gboolean seq_write(struct hv_sink *s, uint64_t off, const void *buf,
                          size_t len, GError **err)
{
    struct mem_sink *m = (struct mem_sink *)s;
    if (off != s->next_offset) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "sequential sink: write at %"
                    G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT, off, s->next_offset);
        return FALSE;
    }
    if (off < m->limit) {
        size_t keep = MIN(len, m->limit - off);
        g_byte_array_append(m->bytes, buf, (guint)keep);
    }
    s->next_offset += len;
    m->total += len;
    return TRUE;
}

static enum hv_page_kind gen_page(uint64_t pfn, uint8_t *buf, gboolean with_absent);

/* Writes buf like rnd_write, after checking that ref names the page whose
 * bytes buf holds (ref = its address + 1, as the pipeline sets it). */
static gboolean ref_write(struct hv_sink *s, uint64_t off, const void *buf, size_t len,
                          uint64_t ref, GError **err)
{
    struct mem_sink *m = (struct mem_sink *)s;
    uint8_t want[PS];
    m->n_refs++;
    if (len != PS || ref == 0 || (ref - 1) % PS)
        m->ref_bad = "not one page at a page's ref";
    else if (gen_page((ref - 1) / PS, want, FALSE) != HV_PAGE_DATA || memcmp(want, buf, PS))
        m->ref_bad = "ref names another page";
    return rnd_write(s, off, buf, len, err);
}

/* Counts, then writes the zeros as write_at would. */
static gboolean zeros_write(struct hv_sink *s, uint64_t off, uint64_t len, GError **err)
{
    struct mem_sink *m = (struct mem_sink *)s;
    m->n_zero_calls++;
    m->zero_bytes += len;
    return hv_sink_write_zero_bytes(s, off, len, err);
}

static gboolean no_flush(struct hv_sink *s, GError **err)
{
    (void)s; (void)err;
    return TRUE;
}

static struct mem_sink *sink_new(gboolean random, uint64_t limit)
{
    struct mem_sink *m = g_new0(struct mem_sink, 1);
    m->base.write_at = random ? rnd_write : seq_write;
    m->base.flush = no_flush;
    m->base.random_access = random;
    m->base.write_ref = with_refs && random ? ref_write : NULL;
    m->bytes = g_byte_array_new();
    m->limit = limit;
    return m;
}

static void sink_free(struct mem_sink *m)
{
    g_byte_array_free(m->bytes, TRUE);
    g_free(m);
}

/* ---- synthetic guest ---- */

static const char vmci[] = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n";

/* Page contents by pfn; returns the kind. */
static enum hv_page_kind gen_page(uint64_t pfn, uint8_t *buf, gboolean with_absent)
{
    switch (pfn % 5) {
    case 0:
        memset(buf, 0, PS);
        return HV_PAGE_ZERO;
    case 1: {
        guint32 x = (guint32)(pfn * 2654435761u) | 1;
        for (size_t i = 0; i < PS; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        return HV_PAGE_DATA;
    }
    case 3:
        memset(buf, 0, PS);
        if (with_absent)
            return HV_PAGE_ABSENT;
        /* fall through */
    default:
        for (size_t i = 0; i < PS; i++)
            buf[i] = (uint8_t)(pfn + i / 16);
        return HV_PAGE_DATA;
    }
}

struct guest {
    const struct hv_range *ranges;
    size_t n;
    struct hv_cpu_state cpus[2];
    struct hv_dump_meta meta;
};

static void guest_init(struct guest *g, const struct hv_range *r, size_t n)
{
    memset(g, 0, sizeof(*g));
    g->ranges = r;
    g->n = n;
    for (int i = 0; i < 2; i++) {
        g->cpus[i].arch = HV_ARCH_X86_64;
        g->cpus[i].index = (uint32_t)i;
        g->cpus[i].u.x86_64.rip = 0xffffffff81000000ull + (uint64_t)i;
        g->cpus[i].u.x86_64.cr[3] = 0x1234000;
    }
    g->meta.page_size = PS;
    g->meta.vmcoreinfo = (const uint8_t *)vmci;
    g->meta.vmcoreinfo_len = strlen(vmci);
    g->meta.cpus = g->cpus;
    g->meta.n_cpus = 2;
    strcpy(g->meta.uts.sysname, "Linux");
    strcpy(g->meta.uts.nodename, "guest");
    strcpy(g->meta.uts.release, "6.1.0-test");
    strcpy(g->meta.uts.version, "#1 SMP");
    strcpy(g->meta.uts.machine, "x86_64");
    g->meta.timestamp_sec = 1700000000;
    g->meta.phys_base = 0x1000000;
}

/* Feeds every page, in batches of 1..7 pages, compressing for kdump the way
 * the pipeline does (raw when it does not shrink below a page). */
static void feed(const struct hv_writer_ops *ops, struct hv_writer *w,
                 const struct guest *g, struct hv_codec *codec, gboolean with_absent)
{
    enum { MAXB = 7 };
    uint8_t *raw = g_malloc(MAXB * PS);
    size_t cap = codec ? codec->ops->bound(codec, PS) : PS;
    uint8_t *comp = g_malloc(MAXB * cap);
    struct hv_page_out pages[MAXB];
    GError *err = NULL;
    size_t batch = 1;

    for (size_t r = 0; r < g->n; r++) {
        uint64_t pfn = g->ranges[r].start / PS, end = pfn + g->ranges[r].size / PS;
        while (pfn < end) {
            size_t n = MIN(batch, end - pfn);
            for (size_t i = 0; i < n; i++) {
                uint8_t *p = raw + i * PS;
                pages[i].kind = (uint8_t)gen_page(pfn + i, p, with_absent);
                pages[i].data = p;
                pages[i].size = PS;
                pages[i].flags = 0;
                pages[i].ref = with_refs ? (pfn + i) * PS + 1 : 0;
                if (codec && pages[i].kind == HV_PAGE_DATA) {
                    size_t c = codec->ops->compress(codec, p, PS, comp + i * cap, PS - 1);
                    if (c > 0) {
                        pages[i].data = comp + i * cap;
                        pages[i].size = (uint32_t)c;
                        pages[i].flags = codec->ops->kdump_flag;
                    }
                }
            }
            for (size_t i = 0; i < n; i++)
                fed_raw += pages[i].kind == HV_PAGE_DATA && pages[i].flags == 0;
            g_assert_true(ops->put_pages(w, pfn, pages, n, &err));
            g_assert_no_error(err);
            pfn += n;
            batch = batch % MAXB + 1;
        }
    }
    g_free(raw);
    g_free(comp);
}

static gboolean in_ranges(const struct guest *g, uint64_t pfn)
{
    for (size_t i = 0; i < g->n; i++)
        if (pfn * PS >= g->ranges[i].start && pfn * PS < g->ranges[i].start + g->ranges[i].size)
            return TRUE;
    return FALSE;
}

/* ---- kdump ---- */

static gboolean bit(const uint8_t *bm, uint64_t pfn)
{
    return (bm[pfn / 8] >> (pfn % 8)) & 1;
}

static void check_kdump(const GByteArray *f, const struct guest *g,
                        enum hv_codec_id cid, gboolean keep_zero, gboolean with_absent)
{
    const uint8_t *d = f->data;
    struct hv_kdump_header h;
    struct hv_kdump_sub_header sh;
    const struct hv_codec_ops *cops = hv_codec_by_id(cid);

    g_assert_cmpuint(f->len, >=, 2 * PS);
    memcpy(&h, d, sizeof(h));
    g_assert_cmpmem(h.signature, 8, "KDUMP   ", 8);
    g_assert_cmpint(h.header_version, ==, 6);
    g_assert_cmpstr(h.utsname[0], ==, "Linux");
    g_assert_cmpstr(h.utsname[1], ==, "guest");
    g_assert_cmpstr(h.utsname[2], ==, "6.1.0-test");
    g_assert_cmpstr(h.utsname[4], ==, "x86_64");
    g_assert_cmpint(h.tv_sec, ==, 1700000000);
    g_assert_cmpuint(h.status, ==, cops->kdump_flag);
    g_assert_cmpint(h.block_size, ==, PS);
    g_assert_cmpint(h.nr_cpus, ==, 2);
    uint64_t max_pfn = (g->ranges[g->n - 1].start + g->ranges[g->n - 1].size) / PS;
    g_assert_cmpuint(h.max_mapnr, ==, MIN(max_pfn, G_MAXUINT32));
    uint64_t bm_blocks = ((max_pfn + 7) / 8 + PS - 1) / PS;
    g_assert_cmpuint(h.bitmap_blocks, ==, 2 * bm_blocks);

    memcpy(&sh, d + PS, sizeof(sh));
    g_assert_cmphex(sh.phys_base, ==, 0x1000000);
    g_assert_cmpint(sh.dump_level, ==, keep_zero ? 0 : 1);
    g_assert_cmpuint(sh.max_mapnr_64, ==, max_pfn);
    g_assert_cmpuint(sh.end_pfn_64, ==, max_pfn);
    g_assert_cmpint(sh.offset_note, >, PS);
    g_assert_cmpuint(sh.offset_note + sh.size_note, <=, (uint64_t)(1 + h.sub_hdr_size) * PS);
    g_assert_cmpmem(d + sh.offset_vmcoreinfo, sh.size_vmcoreinfo, vmci, strlen(vmci));
    struct hv_notes_info info;
    g_assert_true(hv_notes_parse(d + sh.offset_note, sh.size_note, &info, NULL));
    g_assert_cmpuint(info.n_cpus, ==, 2);
    g_assert_cmphex(info.cpus[1].u.x86_64.rip, ==, 0xffffffff81000001ull);
    hv_notes_info_clear(&info);

    const uint8_t *bm1 = d + (1 + h.sub_hdr_size) * PS;
    const uint8_t *bm2 = bm1 + bm_blocks * PS;
    uint64_t desc_off = (1 + h.sub_hdr_size + h.bitmap_blocks) * (uint64_t)PS;
    struct hv_codec *c = cops->create(NULL);
    uint8_t want[PS], got[PS];
    uint64_t idx = 0, n_dumped_zero = 0;
    int64_t zero_off = -1;

    for (uint64_t pfn = 0; pfn < max_pfn; pfn++) {
        gboolean present = in_ranges(g, pfn);
        g_assert_cmpint(bit(bm1, pfn), ==, present);
        if (!present) {
            g_assert_false(bit(bm2, pfn));
            continue;
        }
        enum hv_page_kind k = gen_page(pfn, want, with_absent);
        gboolean dumped = k == HV_PAGE_DATA || (k == HV_PAGE_ZERO && keep_zero);
        g_assert_cmpint(bit(bm2, pfn), ==, dumped);
        if (!dumped)
            continue;
        struct hv_kdump_page_desc pd;
        memcpy(&pd, d + desc_off + idx++ * sizeof(pd), sizeof(pd));
        g_assert_cmpuint(pd.offset + pd.size, <=, f->len);
        g_assert_cmpuint(pd.page_flags, ==, 0);
        if (pd.flags == 0) {
            g_assert_cmpuint(pd.size, ==, PS);
            memcpy(got, d + pd.offset, PS);
        } else {
            g_assert_cmpuint(pd.flags, ==, cops->kdump_flag);
            g_assert_cmpuint(pd.size, <, PS);
            g_assert_true(cops->decompress(c, d + pd.offset, pd.size, got, PS, NULL));
        }
        g_assert_cmpmem(got, PS, want, PS);
        if (k == HV_PAGE_ZERO) {
            if (zero_off < 0)
                zero_off = pd.offset;
            g_assert_cmpint(pd.offset, ==, zero_off); /* one shared copy */
            n_dumped_zero++;
        }
        /* Random pages do not compress: stored raw. */
        if (pfn % 5 == 1)
            g_assert_cmpuint(pd.flags, ==, 0);
        if (pfn % 5 == 2)
            g_assert_cmpuint(pd.flags, ==, cops->kdump_flag);
    }
    g_assert_cmpuint(idx, >, 0);
    if (keep_zero)
        g_assert_cmpuint(n_dumped_zero, >, 1);
    cops->destroy(c);
}

static const struct hv_range small_ranges[] = {
    {0, 24 * PS}, {0x100000, 8 * PS}, {4 * GiB, 16 * PS},
};

static GByteArray *write_kdump(const struct guest *g, enum hv_codec_id cid,
                               gboolean keep_zero, gboolean with_absent, gboolean flat)
{
    struct mem_sink *m = sink_new(!flat, G_MAXUINT64);
    struct hv_flat_sink *fs = flat ? hv_flat_sink_new(&m->base) : NULL;
    struct hv_sink *s = flat ? hv_flat_sink_base(fs) : &m->base;
    struct hv_writer_config cfg = {cid, keep_zero};
    const struct hv_writer_ops *ops = &hv_kdump_writer_ops;
    GError *err = NULL;
    struct hv_codec *c = hv_codec_by_id(cid)->create(NULL);

    g_assert_true(ops->compresses);
    g_assert_true(ops->needs_random_access);
    struct hv_writer *w = ops->create(s, g->ranges, g->n, &g->meta, &cfg, &err);
    g_assert_no_error(err);
    feed(ops, w, g, c, with_absent);
    g_assert_true(ops->finish(w, &err));
    g_assert_no_error(err);
    ops->destroy(w);
    c->ops->destroy(c);
    if (fs) {
        g_assert_true(hv_flat_sink_finish(fs, &err));
        hv_flat_sink_free(fs);
    }
    GByteArray *out = m->bytes;
    m->bytes = NULL;
    g_free(m);
    return out;
}

static void kdump_codec(gconstpointer data)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    enum hv_codec_id cid = GPOINTER_TO_INT(data);
    GByteArray *f = write_kdump(&g, cid, FALSE, TRUE, FALSE);
    check_kdump(f, &g, cid, FALSE, TRUE);
    g_byte_array_free(f, TRUE);
}

/* The writer passes a raw page's ref to the sink (which may fetch it
 * later), and only a raw page's: compressed pages and the stored zero page
 * are written from their bytes.  The file is the same either way. */
static void kdump_raw_refs(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    with_refs = TRUE;
    fed_raw = 0;
    struct mem_sink *m = sink_new(TRUE, G_MAXUINT64);
    struct hv_writer_config cfg = {HV_CODEC_ZSTD, TRUE};
    GError *err = NULL;
    struct hv_codec *c = hv_codec_by_id(HV_CODEC_ZSTD)->create(NULL);
    struct hv_writer *w = hv_kdump_writer_ops.create(&m->base, g.ranges, g.n, &g.meta, &cfg, &err);
    g_assert_no_error(err);
    feed(&hv_kdump_writer_ops, w, &g, c, FALSE);
    g_assert_true(hv_kdump_writer_ops.finish(w, &err));
    hv_kdump_writer_ops.destroy(w);
    c->ops->destroy(c);
    with_refs = FALSE;
    if (m->ref_bad)
        g_error("%s", m->ref_bad);
    g_assert_cmpuint(fed_raw, >, 0);
    g_assert_cmpuint(m->n_refs, ==, fed_raw);
    check_kdump(m->bytes, &g, HV_CODEC_ZSTD, TRUE, FALSE);
    sink_free(m);
}

static void kdump_keep_zero(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    GByteArray *f = write_kdump(&g, HV_CODEC_ZLIB, TRUE, FALSE, FALSE);
    check_kdump(f, &g, HV_CODEC_ZLIB, TRUE, FALSE);
    g_byte_array_free(f, TRUE);
}

/* Enough pages for several descriptor chunks. */
static void kdump_many_pages(void)
{
    static const struct hv_range r[] = {{0x1000, 40000 * PS}, {8 * GiB, 3000 * PS}};
    struct guest g;
    guest_init(&g, r, G_N_ELEMENTS(r));
    GByteArray *f = write_kdump(&g, HV_CODEC_ZSTD, FALSE, FALSE, FALSE);
    check_kdump(f, &g, HV_CODEC_ZSTD, FALSE, FALSE);
    g_byte_array_free(f, TRUE);
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Through the flattened sink: reassembling the records gives the same file. */
static void kdump_flat(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    GByteArray *direct = write_kdump(&g, HV_CODEC_LZO, FALSE, TRUE, FALSE);
    GByteArray *flat = write_kdump(&g, HV_CODEC_LZO, FALSE, TRUE, TRUE);

    g_assert_true(hv_flat_is_header(flat->data, flat->len));
    struct mem_sink *re = sink_new(TRUE, G_MAXUINT64);
    size_t pos = HV_FLAT_HEADER_SIZE, n_rec = 0;
    for (;;) {
        int64_t off = (int64_t)be64(flat->data + pos), size = (int64_t)be64(flat->data + pos + 8);
        pos += 16;
        if (off == -1 && size == -1)
            break;
        g_assert_cmpint(size, >, 0);
        rnd_write(&re->base, (uint64_t)off, flat->data + pos, (size_t)size, NULL);
        pos += (size_t)size;
        n_rec++;
    }
    g_assert_cmpuint(pos, ==, flat->len);
    g_assert_cmpuint(n_rec, <, 20); /* batched, not one record per page */
    g_assert_cmpmem(re->bytes->data, re->bytes->len, direct->data, direct->len);
    check_kdump(re->bytes, &g, HV_CODEC_LZO, FALSE, TRUE);
    sink_free(re);
    g_byte_array_free(direct, TRUE);
    g_byte_array_free(flat, TRUE);
}

static void kdump_errors(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    struct hv_writer_config cfg = {HV_CODEC_ZLIB, FALSE};
    GError *err = NULL;
    struct mem_sink *seq = sink_new(FALSE, G_MAXUINT64);
    g_assert_null(hv_kdump_writer_ops.create(&seq->base, g.ranges, g.n, &g.meta, &cfg, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INTERNAL);
    g_clear_error(&err);
    sink_free(seq);

    struct mem_sink *m = sink_new(TRUE, G_MAXUINT64);
    struct hv_writer *w = hv_kdump_writer_ops.create(&m->base, g.ranges, g.n, &g.meta, &cfg, &err);
    g_assert_nonnull(w);
    uint8_t page[PS] = {1};
    struct hv_page_out p = {page, PS, 0, HV_PAGE_DATA, 0};
    g_assert_false(hv_kdump_writer_ops.put_pages(w, 1, &p, 1, &err)); /* pfn 0 due */
    g_clear_error(&err);
    g_assert_true(hv_kdump_writer_ops.put_pages(w, 0, &p, 1, &err));
    g_assert_false(hv_kdump_writer_ops.finish(w, &err)); /* incomplete */
    g_clear_error(&err);
    hv_kdump_writer_ops.destroy(w);
    sink_free(m);
}

/* ---- ELF ---- */

static void check_elf(const GByteArray *f, const struct guest *g, gboolean vaddrs)
{
    const uint8_t *d = f->data;
    Elf64_Ehdr eh;
    memcpy(&eh, d, sizeof(eh));
    g_assert_cmpmem(eh.e_ident, SELFMAG, ELFMAG, SELFMAG);
    g_assert_cmpuint(eh.e_ident[EI_CLASS], ==, ELFCLASS64);
    g_assert_cmpuint(eh.e_type, ==, ET_CORE);
    g_assert_cmpuint(eh.e_machine, ==, EM_X86_64);
    size_t phnum = eh.e_phnum;
    g_assert_cmpuint(phnum, <, PN_XNUM);
    g_assert_cmpuint(phnum, ==, 1 + g->n + (vaddrs ? 1 : 0));

    Elf64_Phdr ph[8];
    memcpy(ph, d + eh.e_phoff, phnum * sizeof(Elf64_Phdr));
    g_assert_cmpuint(ph[0].p_type, ==, PT_NOTE);
    struct hv_notes_info info;
    g_assert_true(hv_notes_parse(d + ph[0].p_offset, ph[0].p_filesz, &info, NULL));
    g_assert_cmpuint(info.n_cpus, ==, 2);
    g_assert_true(info.have_qemu_cpu);
    g_assert_cmpmem(info.vmcoreinfo, info.vmcoreinfo_len, vmci, strlen(vmci));
    hv_notes_info_clear(&info);

    size_t first_ram = 1;
    if (vaddrs) {
        /* Kernel text load: points into RAM data, no copy of its own. */
        g_assert_cmpuint(ph[1].p_type, ==, PT_LOAD);
        g_assert_cmphex(ph[1].p_vaddr, ==, g->meta.ktext_vaddr);
        g_assert_cmphex(ph[1].p_paddr, ==, g->meta.ktext_paddr);
        first_ram = 2;
    }
    uint8_t want[PS];
    for (size_t i = 0; i < g->n; i++) {
        const Elf64_Phdr *p = &ph[first_ram + i];
        g_assert_cmpuint(p->p_type, ==, PT_LOAD);
        g_assert_cmphex(p->p_paddr, ==, g->ranges[i].start);
        g_assert_cmpuint(p->p_filesz, ==, g->ranges[i].size);
        g_assert_cmpuint(p->p_memsz, ==, g->ranges[i].size);
        g_assert_cmphex(p->p_vaddr, ==, vaddrs ? g->meta.direct_map_base + p->p_paddr : 0);
        g_assert_cmpuint(p->p_offset % PS, ==, 0);
        g_assert_cmpuint(p->p_offset + p->p_filesz, <=, f->len);
        for (uint64_t a = 0; a < p->p_filesz; a += PS) {
            gen_page((p->p_paddr + a) / PS, want, TRUE);
            g_assert_cmpmem(d + p->p_offset + a, PS, want, PS);
        }
        if (vaddrs && g->meta.ktext_paddr >= p->p_paddr &&
            g->meta.ktext_paddr < p->p_paddr + p->p_filesz) {
            g_assert_cmpuint(ph[1].p_offset, ==, p->p_offset + (g->meta.ktext_paddr - p->p_paddr));
            /* Clipped to the end of the RAM range. */
            g_assert_cmpuint(ph[1].p_filesz, ==, p->p_paddr + p->p_filesz - g->meta.ktext_paddr);
        }
    }
    const Elf64_Phdr *last = &ph[phnum - 1];
    g_assert_cmpuint(f->len, ==, last->p_offset + last->p_filesz);
}

static GByteArray *write_elf(const struct guest *g, const char *path)
{
    struct mem_sink *m = sink_new(FALSE, G_MAXUINT64);
    struct hv_writer_config cfg = {HV_CODEC_ZLIB, FALSE};
    const struct hv_writer_ops *ops = &hv_elf_writer_ops;
    GError *err = NULL;

    g_assert_false(ops->compresses);
    g_assert_false(ops->needs_random_access);
    struct hv_writer *w = ops->create(&m->base, g->ranges, g->n, &g->meta, &cfg, &err);
    g_assert_no_error(err);
    feed(ops, w, g, NULL, TRUE);
    g_assert_true(ops->finish(w, &err));
    g_assert_no_error(err);
    ops->destroy(w);
    if (path)
        g_assert_true(g_file_set_contents(path, (const char *)m->bytes->data, m->bytes->len, NULL));
    GByteArray *out = m->bytes;
    m->bytes = NULL;
    g_free(m);
    return out;
}

static void elf_plain(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    GByteArray *f = write_elf(&g, NULL);
    check_elf(f, &g, FALSE);
    g_byte_array_free(f, TRUE);
}

/* Zero and absent pages reach the sink as write_zeros (which may leave a
 * hole), never as bytes; the file reads the same. */
static void elf_write_zeros(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    struct mem_sink *m = sink_new(FALSE, G_MAXUINT64);
    m->base.write_zeros = zeros_write;
    struct hv_writer_config cfg = {HV_CODEC_ZLIB, FALSE};
    GError *err = NULL;
    struct hv_writer *w = hv_elf_writer_ops.create(&m->base, g.ranges, g.n, &g.meta, &cfg, &err);
    g_assert_no_error(err);
    feed(&hv_elf_writer_ops, w, &g, NULL, TRUE);
    g_assert_true(hv_elf_writer_ops.finish(w, &err));
    g_assert_no_error(err);
    hv_elf_writer_ops.destroy(w);
    uint64_t n_zero = 0;
    uint8_t page[PS];
    for (size_t r = 0; r < g.n; r++)
        for (uint64_t pfn = g.ranges[r].start / PS;
             pfn < (g.ranges[r].start + g.ranges[r].size) / PS; pfn++)
            n_zero += gen_page(pfn, page, TRUE) != HV_PAGE_DATA;
    g_assert_cmpuint(n_zero, >, 0);
    g_assert_cmpuint(m->zero_bytes, ==, n_zero * PS);
    check_elf(m->bytes, &g, FALSE);
    GByteArray *plain = write_elf(&g, NULL);
    g_assert_cmpmem(m->bytes->data, m->bytes->len, plain->data, plain->len);
    g_byte_array_free(plain, TRUE);
    sink_free(m);
}

/* kdump's one stored zero page is one write_zeros. */
static void kdump_write_zeros(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    struct mem_sink *m = sink_new(TRUE, G_MAXUINT64);
    m->base.write_zeros = zeros_write;
    struct hv_writer_config cfg = {HV_CODEC_ZSTD, TRUE};
    GError *err = NULL;
    struct hv_codec *c = hv_codec_by_id(HV_CODEC_ZSTD)->create(NULL);
    struct hv_writer *w = hv_kdump_writer_ops.create(&m->base, g.ranges, g.n, &g.meta, &cfg, &err);
    g_assert_no_error(err);
    feed(&hv_kdump_writer_ops, w, &g, c, FALSE);
    g_assert_true(hv_kdump_writer_ops.finish(w, &err));
    g_assert_no_error(err);
    hv_kdump_writer_ops.destroy(w);
    c->ops->destroy(c);
    g_assert_cmpuint(m->n_zero_calls, ==, 1);
    g_assert_cmpuint(m->zero_bytes, ==, PS);
    check_kdump(m->bytes, &g, HV_CODEC_ZSTD, TRUE, FALSE);
    sink_free(m);
}

static void elf_vaddrs(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    g.meta.have_vaddrs = TRUE;
    g.meta.direct_map_base = 0xffff888000000000ull;
    g.meta.ktext_vaddr = 0xffffffff81000000ull;
    g.meta.ktext_paddr = 0x4000;             /* inside range 0 */
    g.meta.ktext_size = 1 << 20;             /* longer than range 0: clipped */
    char *dir = g_dir_make_tmp("hvdump-elf-XXXXXX", NULL);
    char *path = g_build_filename(dir, "vmcore", NULL);
    GByteArray *f = write_elf(&g, path);
    check_elf(f, &g, TRUE);

    /* readelf agrees it is a sane core file, when readelf is there. */
    char *readelf = g_find_program_in_path("readelf");
    if (readelf) {
        char *argv[] = {readelf, "-h", "-l", "-n", path, NULL};
        char *out = NULL, *errs = NULL;
        int status = -1;
        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   &out, &errs, &status, NULL));
        g_assert_cmpint(status, ==, 0);
        g_assert_cmpstr(errs, ==, "");
        g_assert_nonnull(strstr(out, "CORE (Core file)"));
        g_assert_nonnull(strstr(out, "NT_PRSTATUS"));
        g_assert_nonnull(strstr(out, "VMCOREINFO"));
        g_assert_nonnull(strstr(out, "0xffffffff81000000"));
        g_free(out);
        g_free(errs);
        g_free(readelf);
    }
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    g_byte_array_free(f, TRUE);
}

/* More than 65534 program headers: PN_XNUM and section header 0. */
static void elf_xnum(void)
{
    enum { N = 70000 };
    struct hv_range *r = g_new(struct hv_range, N);
    for (size_t i = 0; i < N; i++) {
        r[i].start = (uint64_t)i * 2 * PS;
        r[i].size = PS;
    }
    struct guest g;
    guest_init(&g, r, N);
    struct mem_sink *m = sink_new(FALSE, 8u << 20); /* keep headers only */
    struct hv_writer_config cfg = {HV_CODEC_ZLIB, FALSE};
    GError *err = NULL;
    struct hv_writer *w = hv_elf_writer_ops.create(&m->base, r, N, &g.meta, &cfg, &err);
    g_assert_no_error(err);
    struct hv_page_out z = {NULL, PS, 0, HV_PAGE_ZERO, 0};
    for (size_t i = 0; i < N; i++)
        g_assert_true(hv_elf_writer_ops.put_pages(w, r[i].start / PS, &z, 1, &err));
    g_assert_true(hv_elf_writer_ops.finish(w, &err));
    hv_elf_writer_ops.destroy(w);

    const uint8_t *d = m->bytes->data;
    Elf64_Ehdr eh;
    memcpy(&eh, d, sizeof(eh));
    g_assert_cmpuint(eh.e_phnum, ==, PN_XNUM);
    g_assert_cmpuint(eh.e_shnum, ==, 1);
    g_assert_cmpuint(eh.e_shentsize, ==, sizeof(Elf64_Shdr));
    Elf64_Shdr sh;
    memcpy(&sh, d + eh.e_shoff, sizeof(sh));
    g_assert_cmpuint(sh.sh_info, ==, N + 1);
    Elf64_Phdr last;
    memcpy(&last, d + eh.e_phoff + (size_t)N * sizeof(Elf64_Phdr), sizeof(last));
    g_assert_cmpuint(last.p_type, ==, PT_LOAD);
    g_assert_cmphex(last.p_paddr, ==, r[N - 1].start);
    g_assert_cmpuint(m->total, ==, last.p_offset + last.p_filesz);
    sink_free(m);
    g_free(r);
}

static void elf_order_error(void)
{
    struct guest g;
    guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
    struct mem_sink *m = sink_new(FALSE, G_MAXUINT64);
    struct hv_writer_config cfg = {HV_CODEC_ZLIB, FALSE};
    GError *err = NULL;
    struct hv_writer *w = hv_elf_writer_ops.create(&m->base, g.ranges, g.n, &g.meta, &cfg, &err);
    struct hv_page_out z = {NULL, PS, 0, HV_PAGE_ZERO, 0};
    g_assert_false(hv_elf_writer_ops.put_pages(w, 5, &z, 1, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_false(hv_elf_writer_ops.finish(w, &err));
    g_clear_error(&err);
    hv_elf_writer_ops.destroy(w);
    sink_free(m);
}

/* Both writers refuse CPU state of an architecture the notes cannot lay
 * out, before writing a byte. */
static void unknown_arch_refused(void)
{
    const struct hv_writer_ops *ops[] = { &hv_elf_writer_ops, &hv_kdump_writer_ops };
    for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
        struct guest g;
        guest_init(&g, small_ranges, G_N_ELEMENTS(small_ranges));
        g.cpus[1].arch = HV_ARCH_UNKNOWN;
        struct mem_sink *m = sink_new(TRUE, G_MAXUINT64);
        struct hv_writer_config cfg = {HV_CODEC_ZLIB, FALSE};
        GError *err = NULL;
        g_assert_null(ops[i]->create(&m->base, g.ranges, g.n, &g.meta, &cfg, &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_clear_error(&err);
        g_assert_cmpuint(m->bytes->len, ==, 0);
        sink_free(m);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/kdump/zlib", GINT_TO_POINTER(HV_CODEC_ZLIB), kdump_codec);
    g_test_add_data_func("/kdump/lzo", GINT_TO_POINTER(HV_CODEC_LZO), kdump_codec);
    g_test_add_data_func("/kdump/snappy", GINT_TO_POINTER(HV_CODEC_SNAPPY), kdump_codec);
    g_test_add_data_func("/kdump/zstd", GINT_TO_POINTER(HV_CODEC_ZSTD), kdump_codec);
    g_test_add_func("/kdump/keep-zero", kdump_keep_zero);
    g_test_add_func("/kdump/raw-refs", kdump_raw_refs);
    g_test_add_func("/kdump/many-pages", kdump_many_pages);
    g_test_add_func("/kdump/flat", kdump_flat);
    g_test_add_func("/kdump/errors", kdump_errors);
    g_test_add_func("/kdump/write-zeros", kdump_write_zeros);
    g_test_add_func("/elf/plain", elf_plain);
    g_test_add_func("/elf/write-zeros", elf_write_zeros);
    g_test_add_func("/elf/vaddrs", elf_vaddrs);
    g_test_add_func("/elf/xnum", elf_xnum);
    g_test_add_func("/elf/order-error", elf_order_error);
    g_test_add_func("/writers/unknown-arch-refused", unknown_arch_refused);
    return g_test_run();
}
