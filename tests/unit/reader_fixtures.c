/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fixture vmcores for the reader tests; see reader_fixtures.h. */
#include "tests/unit/reader_fixtures.h"

#include <elf.h>
#include <string.h>
#include <unistd.h>
#include "formats/flat.h"
#include "formats/kdump_layout.h"
#include "formats/notes.h"

const struct hv_range fx_ranges[] = {
    { 0x0, 0x10000 },       /* pfn 0..15 */
    { 0x20000, 0x10000 },   /* pfn 32..47, holds the kernel text */
    { 0x100000, 0x4000 },   /* pfn 256..259 */
};
const size_t fx_n_ranges = G_N_ELEMENTS(fx_ranges);

enum fx_page_kind fx_page_kind(uint64_t pfn)
{
    if (pfn % 7 == 3)
        return FX_ZERO;
    if (pfn % 11 == 5)
        return FX_NOISE;
    return FX_PATTERN;
}

void fx_page(uint64_t pfn, uint8_t *buf)
{
    switch (fx_page_kind(pfn)) {
    case FX_ZERO:
        memset(buf, 0, FX_PS);
        break;
    case FX_NOISE: {
        /* Incompressible: writers must store it raw. */
        uint64_t x = pfn * 0x9e3779b97f4a7c15ull + 1;
        for (size_t i = 0; i < FX_PS; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        break;
    }
    case FX_PATTERN:
        for (size_t i = 0; i < FX_PS; i++)
            buf[i] = (uint8_t)((i / 64) ^ pfn ^ 0x5a);
        break;
    }
}

static const char fx_vmcoreinfo[] =
    "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n"
    "NUMBER(phys_base)=16777216\n";

const struct hv_dump_meta *fx_meta(void)
{
    static struct hv_cpu_state cpus[2];
    static struct hv_dump_meta m;

    if (m.page_size)
        return &m;
    for (uint32_t i = 0; i < 2; i++) {
        cpus[i].arch = HV_ARCH_X86_64;
        cpus[i].index = i;
        cpus[i].u.x86_64.rip = 0xffffffff81000100ull + i;
        cpus[i].u.x86_64.rsp = 0xffffc90000010000ull + 0x1000 * i;
        cpus[i].u.x86_64.cr[3] = 0x1234000 + i * 0x1000;
        cpus[i].u.x86_64.cs.selector = 0x10;
    }
    m.page_size = FX_PS;
    m.vmcoreinfo = (const uint8_t *)fx_vmcoreinfo;
    m.vmcoreinfo_len = strlen(fx_vmcoreinfo);
    m.cpus = cpus;
    m.n_cpus = 2;
    strcpy(m.uts.sysname, "Linux");
    strcpy(m.uts.nodename, "guest");
    strcpy(m.uts.release, "6.1.0-test");
    strcpy(m.uts.version, "#1 SMP");
    strcpy(m.uts.machine, "x86_64");
    m.timestamp_sec = 1700000000;
    m.timestamp_usec = 123456;
    m.phys_base = 0x1000000;
    m.have_vaddrs = TRUE;
    m.direct_map_base = 0xffff888000000000ull;
    m.ktext_vaddr = 0xffffffff81000000ull;
    m.ktext_paddr = 0x21000;
    m.ktext_size = 0x4000;
    m.live = TRUE;
    return &m;
}

/* ---- sinks ---- */

struct mem_sink {
    struct hv_sink base;
    GByteArray *bytes;
};

static gboolean mem_write(struct hv_sink *s, uint64_t off, const void *buf,
                          size_t len, GError **err)
{
    struct mem_sink *m = (struct mem_sink *)s;
    (void)err;
    if (off + len > m->bytes->len) {
        guint old = m->bytes->len;
        g_byte_array_set_size(m->bytes, (guint)(off + len));
        memset(m->bytes->data + old, 0, off + len - old);
    }
    memcpy(m->bytes->data + off, buf, len);
    if (!s->random_access)
        g_assert_cmpuint(off, ==, s->next_offset);
    s->next_offset = off + len;
    return TRUE;
}

static gboolean mem_flush(struct hv_sink *s, GError **err)
{
    (void)s;
    (void)err;
    return TRUE;
}

GBytes *fx_written(const struct hv_writer_ops *ops, enum hv_codec_id codec,
                   gboolean flat, gboolean keep_zero)
{
    struct mem_sink ms = { { mem_write, mem_flush, !flat, 0, NULL, NULL }, g_byte_array_new() };
    struct hv_flat_sink *fs = NULL;
    struct hv_sink *sink = &ms.base;
    struct hv_writer_config cfg = { codec, keep_zero };
    GError *err = NULL;

    if (flat) {
        fs = hv_flat_sink_new(&ms.base);
        sink = hv_flat_sink_base(fs);
    }
    const struct hv_codec_ops *cops = hv_codec_by_id(codec);
    struct hv_codec *c = cops->create(&err);
    g_assert_no_error(err);
    uint8_t *page = g_malloc(FX_PS);
    size_t cap = cops->bound(c, FX_PS);
    uint8_t *cbuf = g_malloc(cap);

    struct hv_writer *w = ops->create(sink, fx_ranges, fx_n_ranges, fx_meta(), &cfg, &err);
    g_assert_no_error(err);
    for (size_t r = 0; r < fx_n_ranges; r++) {
        for (uint64_t pfn = fx_ranges[r].start / FX_PS;
             pfn < (fx_ranges[r].start + fx_ranges[r].size) / FX_PS; pfn++) {
            struct hv_page_out po = { page, FX_PS, 0, HV_PAGE_DATA, 0 };
            fx_page(pfn, page);
            if (fx_page_kind(pfn) == FX_ZERO) {
                po.kind = HV_PAGE_ZERO;
            } else if (ops->compresses) {
                size_t n = cops->compress(c, page, FX_PS, cbuf, cap);
                if (n > 0 && n < FX_PS) {
                    po.data = cbuf;
                    po.size = (uint32_t)n;
                    po.flags = cops->kdump_flag;
                }
            }
            g_assert_true(ops->put_pages(w, pfn, &po, 1, &err));
            g_assert_no_error(err);
        }
    }
    g_assert_true(ops->finish(w, &err));
    g_assert_no_error(err);
    ops->destroy(w);
    if (fs) {
        g_assert_true(hv_flat_sink_finish(fs, &err));
        g_assert_no_error(err);
        hv_flat_sink_free(fs);
    }
    cops->destroy(c);
    g_free(page);
    g_free(cbuf);
    return g_byte_array_free_to_bytes(ms.bytes);
}

/* ---- hand-built ELF ---- */

static void put_phdr(Elf64_Phdr *ph, uint32_t type, uint64_t off, uint64_t vaddr,
                     uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    *ph = (Elf64_Phdr){ .p_type = type, .p_flags = PF_R | PF_W | PF_X, .p_offset = off,
                        .p_vaddr = vaddr, .p_paddr = paddr, .p_filesz = filesz,
                        .p_memsz = memsz, .p_align = 0 };
}

GBytes *fx_elf_handmade(gboolean xnum)
{
    size_t notes_len;
    uint8_t *notes = hv_notes_build(fx_meta(), &notes_len);
    const uint64_t phoff = sizeof(Elf64_Ehdr), nph = 4;
    const uint64_t shoff = phoff + nph * sizeof(Elf64_Phdr);
    const uint64_t notes_off = shoff + sizeof(Elf64_Shdr);
    const uint64_t data = (notes_off + notes_len + FX_PS - 1) & ~(uint64_t)(FX_PS - 1);
    /* data: A (2 pages in file), B (2 pages), alias garbage (1 page). */
    GByteArray *b = g_byte_array_new();
    g_byte_array_set_size(b, (guint)(data + 5 * FX_PS));
    memset(b->data, 0, b->len);

    Elf64_Ehdr *eh = (Elf64_Ehdr *)(void *)b->data;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_CORE;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = phoff;
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = xnum ? PN_XNUM : nph;
    if (xnum) {
        Elf64_Shdr *sh = (Elf64_Shdr *)(void *)(b->data + shoff);
        sh->sh_info = (Elf64_Word)nph;
        eh->e_shoff = shoff;
        eh->e_shentsize = sizeof(Elf64_Shdr);
        eh->e_shnum = 1;
    }
    Elf64_Phdr *ph = (Elf64_Phdr *)(void *)(b->data + phoff);
    put_phdr(&ph[0], PT_NOTE, notes_off, 0, 0, notes_len, notes_len);
    put_phdr(&ph[1], PT_LOAD, data + 4 * FX_PS, 0xffffffff81000000ull, 0x10000,
             FX_PS, FX_PS);
    put_phdr(&ph[2], PT_LOAD, data, 0xffff888000000000ull, 0, 2 * FX_PS, 3 * FX_PS);
    put_phdr(&ph[3], PT_LOAD, data + 2 * FX_PS, 0xffff888000010000ull, 0x10000,
             2 * FX_PS, 2 * FX_PS);
    memcpy(b->data + notes_off, notes, notes_len);
    for (int i = 0; i < 4; i++)
        memset(b->data + data + (uint64_t)i * FX_PS, 0x10 + i, FX_PS);
    memset(b->data + data + 4 * FX_PS, 0xEE, FX_PS);
    g_free(notes);
    return g_byte_array_free_to_bytes(b);
}

/* ---- hand-built kdump ---- */

GBytes *fx_kdump_handmade(int version)
{
    const uint32_t bs = FX_PS;
    const size_t n_desc = 5;
    const uint64_t desc_off = 4 * bs; /* header, sub-header, 2 bitmap blocks */
    uint64_t data_off = desc_off + bs;
    GByteArray *b = g_byte_array_new();
    GError *err = NULL;

    g_byte_array_set_size(b, (guint)data_off);
    memset(b->data, 0, b->len);

    struct hv_kdump_header h = { 0 };
    memcpy(h.signature, HV_KDUMP_SIGNATURE, HV_KDUMP_SIG_LEN);
    h.header_version = version;
    strcpy(h.utsname[0], "Linux");
    strcpy(h.utsname[2], "6.1.0-hand");
    strcpy(h.utsname[4], "x86_64");
    h.tv_sec = 1700000001;
    h.status = HV_KDUMP_ZLIB;
    h.block_size = (int32_t)bs;
    h.sub_hdr_size = 1;
    h.bitmap_blocks = 2;
    h.max_mapnr = version >= 6 ? 0xffffffffu : 40; /* v6 readers use max_mapnr_64 */
    h.nr_cpus = 1;
    memcpy(b->data, &h, sizeof(h));

    struct hv_kdump_sub_header sh = { 0 };
    sh.phys_base = 0x2000000;
    sh.dump_level = 1;
    sh.max_mapnr_64 = 40;
    const char vmci[] = "OSRELEASE=6.1.0-hand\nPAGESIZE=4096\n";
    sh.offset_vmcoreinfo = bs + 0x200;
    sh.size_vmcoreinfo = strlen(vmci);
    memcpy(b->data + bs, &sh, sizeof(sh));
    memcpy(b->data + bs + 0x200, vmci, strlen(vmci));

    uint8_t *bm1 = b->data + 2 * bs, *bm2 = b->data + 3 * bs;
    bm1[0] = 0xff;            /* pfn 0..7 */
    bm1[4] = 0xff;            /* pfn 32..39 */
    bm2[0] = 0x07;            /* 0, 1, 2 */
    bm2[4] = 0x02 | 0x80;     /* 33, 39 */

    struct hv_kdump_page_desc d[5];
    uint8_t page[FX_PS], cbuf[2 * FX_PS];
    const uint8_t fill[] = { 0x11, 0x22, 0x11, 0x33, 0x44 };
    const uint32_t flag[] = { 0, HV_KDUMP_ZLIB, 0, HV_KDUMP_ZSTD, 0 };
    for (size_t i = 0; i < n_desc; i++) {
        memset(page, fill[i], FX_PS);
        if (i == 2) { /* shares pfn 0's data */
            d[i] = d[0];
            continue;
        }
        const void *src = page;
        size_t len = FX_PS;
        if (flag[i]) {
            const struct hv_codec_ops *ops = hv_codec_by_kdump_flag(flag[i]);
            struct hv_codec *c = ops->create(&err);
            g_assert_no_error(err);
            len = ops->compress(c, page, FX_PS, cbuf, sizeof(cbuf));
            g_assert_cmpuint(len, >, 0);
            g_assert_cmpuint(len, <, FX_PS);
            ops->destroy(c);
            src = cbuf;
        }
        d[i] = (struct hv_kdump_page_desc){ (int64_t)b->len, (uint32_t)len, flag[i], 0 };
        g_byte_array_append(b, src, (guint)len);
    }
    memcpy(b->data + desc_off, d, sizeof(d));
    return g_byte_array_free_to_bytes(b);
}

/* ---- flattening ---- */

static void put_be64(GByteArray *b, int64_t v)
{
    uint8_t p[8];
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
        p[i] = (uint8_t)v;
    g_byte_array_append(b, p, 8);
}

static void add_record(GByteArray *b, uint64_t off, const uint8_t *data, size_t len)
{
    put_be64(b, (int64_t)off);
    put_be64(b, (int64_t)len);
    g_byte_array_append(b, data, (guint)len);
}

GBytes *fx_flatten(GBytes *plain, guint32 seed)
{
    gsize len;
    const uint8_t *p = g_bytes_get_data(plain, &len);
    GByteArray *b = g_byte_array_new();
    GRand *rnd = g_rand_new_with_seed(seed);
    uint8_t hdr[HV_FLAT_HEADER_SIZE] = { 0 };

    memcpy(hdr, HV_FLAT_SIGNATURE, strlen(HV_FLAT_SIGNATURE));
    hdr[23] = 1;
    hdr[31] = 1;
    g_byte_array_append(b, hdr, sizeof(hdr));

    /* Garbage first, over the header and more; the real bytes come later. */
    uint8_t *junk = g_malloc(MIN(len, 3 * FX_PS) + 1);
    memset(junk, 0xA5, MIN(len, 3 * FX_PS) + 1);
    add_record(b, 0, junk, MIN(len, 3 * FX_PS));
    g_free(junk);

    /* Chunks of random sizes, emitted in shuffled order. */
    GArray *cuts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    for (uint64_t off = 0; off < len;) {
        g_array_append_val(cuts, off);
        off += (uint64_t)g_rand_int_range(rnd, 1, 9000);
    }
    for (guint i = cuts->len; i > 1; i--) {
        guint j = (guint)g_rand_int_range(rnd, 0, (gint32)i);
        uint64_t t = g_array_index(cuts, uint64_t, i - 1);
        g_array_index(cuts, uint64_t, i - 1) = g_array_index(cuts, uint64_t, j);
        g_array_index(cuts, uint64_t, j) = t;
    }
    /* A chunk ends at the next cut above it. */
    for (guint i = 0; i < cuts->len; i++) {
        uint64_t off = g_array_index(cuts, uint64_t, i), end = len;
        for (guint k = 0; k < cuts->len; k++) {
            uint64_t o = g_array_index(cuts, uint64_t, k);
            if (o > off && o < end)
                end = o;
        }
        add_record(b, off, p + off, end - off);
    }
    g_array_free(cuts, TRUE);
    put_be64(b, -1);
    put_be64(b, -1);
    g_rand_free(rnd);
    return g_byte_array_free_to_bytes(b);
}

char *fx_temp_file(GBytes *b)
{
    GError *err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("hvdump-reader-XXXXXX", &path, &err);
    gsize len;
    const char *data = g_bytes_get_data(b, &len);

    g_assert_no_error(err);
    close(fd);
    g_file_set_contents(path, data, (gssize)len, &err);
    g_assert_no_error(err);
    return path;
}
