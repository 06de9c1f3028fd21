/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading kdump-compressed ("diskdump") vmcores, header versions 1..6: ours,
 * makedumpfile's and QEMU's.  A page's descriptor is found by counting the
 * set bits of the 2nd bitmap before it; a rank table (set bits before every
 * 8th word) keeps that to at most 8 popcounts. */
#include "formats/reader_priv.h"

#include <string.h>
#include "formats/codec.h"
#include "common/hv_error.h"
#include "formats/kdump_layout.h"

#define RANK_WORDS 8
/* A bitmap larger than this (8 Gi pages, 32 TiB of 4 KiB RAM) is taken as
 * corruption rather than allocated. */
#define MAX_BITMAP_BYTES (1ull << 30)
#define MAX_VMCOREINFO (16u << 20)
#define KNOWN_COMPRESSION (HV_KDUMP_ZLIB | HV_KDUMP_LZO | HV_KDUMP_SNAPPY | HV_KDUMP_ZSTD)

struct kdump_priv {
    uint32_t bs;          /* block size = page size */
    uint64_t max_mapnr;
    uint64_t nwords;      /* 64-bit words per loaded bitmap */
    uint64_t *bm1, *bm2;  /* bits >= max_mapnr cleared */
    uint64_t *rank;       /* rank[k] = set bits of bm2 before word k*8 */
    uint64_t desc_off;
    uint64_t n_desc;
    struct hv_codec *codec[4]; /* created on first use, by HV_CODEC_* order */
    uint32_t codec_flag[4];
    uint8_t *cbuf;        /* one compressed page */
};

static gboolean kdump_probe(const uint8_t *head, size_t len)
{
    return len >= HV_KDUMP_SIG_LEN &&
           memcmp(head, HV_KDUMP_SIGNATURE, HV_KDUMP_SIG_LEN) == 0;
}

static gboolean in_file(const struct hv_vmcore *d, uint64_t off, uint64_t len)
{
    return off <= d->src->size && len <= d->src->size - off;
}

static void copy_uts(char *dst, const char *src)
{
    size_t n = strnlen(src, HV_KDUMP_UTS_LEN - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static gboolean check_header(struct hv_vmcore *d, const struct hv_kdump_header *h,
                             GError **err)
{
    const uint32_t bs = (uint32_t)h->block_size;

    if (h->header_version < 1 || h->header_version > 6) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "kdump header version %d is not supported (1..6)", h->header_version);
        return FALSE;
    }
    if (h->block_size < 1024 || h->block_size > (1 << 18) || (bs & (bs - 1)) != 0)
        return hv_reader_corrupt(err, "kdump block size %d is not a sane page size", h->block_size);
    if (h->sub_hdr_size < 1)
        return hv_reader_corrupt(err, "kdump sub-header size %d blocks is invalid", h->sub_hdr_size);
    if (h->bitmap_blocks < 2 || h->bitmap_blocks % 2 != 0)
        return hv_reader_corrupt(err, "kdump bitmap_blocks %u is not an even, non-zero count",
                       h->bitmap_blocks);
    if (h->status & ~(KNOWN_COMPRESSION | HV_KDUMP_INCOMPLETE | HV_KDUMP_EXCLUDED_VMEMMAP))
        return hv_reader_corrupt(err, "kdump header status 0x%x has unknown bits", h->status);
    (void)d;
    return TRUE;
}

/* Reads the sub-header and the notes/VMCOREINFO it points to. */
static gboolean read_sub_header(struct hv_vmcore *d, const struct hv_kdump_header *h,
                                struct hv_kdump_sub_header *sh, GError **err)
{
    const int v = h->header_version;

    memset(sh, 0, sizeof(*sh));
    if (!d->src->read_at(d->src, h->block_size, sh, sizeof(*sh), err))
        return FALSE;
    d->info.phys_base = sh->phys_base;
    d->info.dump_level = sh->dump_level;
    if (v >= 4 && sh->size_note > 0) {
        if (sh->offset_note < 0 || !in_file(d, (uint64_t)sh->offset_note, sh->size_note) ||
            sh->size_note > HV_READER_MAX_NOTES)
            return hv_reader_corrupt(err, "kdump notes (offset %" G_GINT64_FORMAT ", %" G_GUINT64_FORMAT
                           " bytes) lie outside the file", sh->offset_note, sh->size_note);
        uint8_t *blob = g_malloc(sh->size_note);
        if (!d->src->read_at(d->src, (uint64_t)sh->offset_note, blob, sh->size_note, err)) {
            g_free(blob);
            return FALSE;
        }
        if (!hv_reader_add_notes(d, blob, sh->size_note, err))
            return FALSE;
    }
    if (v >= 3 && sh->size_vmcoreinfo > 0) {
        if (sh->offset_vmcoreinfo < 0 || sh->size_vmcoreinfo > MAX_VMCOREINFO ||
            !in_file(d, (uint64_t)sh->offset_vmcoreinfo, sh->size_vmcoreinfo))
            return hv_reader_corrupt(err, "kdump VMCOREINFO (offset %" G_GINT64_FORMAT ", %"
                           G_GUINT64_FORMAT " bytes) lies outside the file",
                           sh->offset_vmcoreinfo, sh->size_vmcoreinfo);
        uint8_t *text = g_malloc(sh->size_vmcoreinfo);
        gboolean ok = d->src->read_at(d->src, (uint64_t)sh->offset_vmcoreinfo, text,
                                      sh->size_vmcoreinfo, err);
        if (ok)
            hv_reader_set_vmcoreinfo(d, text, sh->size_vmcoreinfo);
        g_free(text);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static uint64_t *load_bitmap(struct hv_vmcore *d, uint64_t off, uint64_t bytes,
                             uint64_t nwords, uint64_t max_mapnr, GError **err)
{
    uint64_t *bm = g_new0(uint64_t, nwords ? nwords : 1);

    if (!d->src->read_at(d->src, off, bm, bytes, err)) {
        g_free(bm);
        return NULL;
    }
    /* Bits past max_mapnr describe nothing: drop them. */
    if (max_mapnr % 64)
        bm[max_mapnr / 64] &= (1ull << (max_mapnr % 64)) - 1;
    for (uint64_t w = (max_mapnr + 63) / 64; w < nwords; w++)
        bm[w] = 0;
    return bm;
}

static uint64_t popcount_all(const uint64_t *bm, uint64_t nwords)
{
    uint64_t n = 0;
    for (uint64_t w = 0; w < nwords; w++)
        n += (uint64_t)__builtin_popcountll(bm[w]);
    return n;
}

/* Ranges are the runs of set bits of the 1st bitmap. */
static void add_ranges(struct hv_vmcore *d, const struct kdump_priv *p)
{
    uint64_t run_start = 0;
    gboolean in_run = FALSE;

    for (uint64_t w = 0; w < p->nwords; w++) {
        uint64_t word = p->bm1[w];
        if ((!in_run && word == 0) || (in_run && word == ~0ull))
            continue;
        for (int b = 0; b < 64; b++) {
            gboolean set = (word >> b) & 1;
            if (set && !in_run) {
                run_start = w * 64 + (uint64_t)b;
                in_run = TRUE;
            } else if (!set && in_run) {
                hv_reader_add_range(d, run_start * p->bs, (w * 64 + (uint64_t)b) * p->bs);
                in_run = FALSE;
            }
        }
    }
    if (in_run)
        hv_reader_add_range(d, run_start * p->bs, p->nwords * 64 * p->bs);
}

static gboolean kdump_open(struct hv_vmcore *d, GError **err)
{
    struct hv_kdump_header h;
    struct hv_kdump_sub_header sh;
    struct kdump_priv *p = g_new0(struct kdump_priv, 1);

    d->priv = p;
    if (d->src->size < sizeof(h))
        return hv_reader_corrupt(err, "truncated kdump header (%" G_GUINT64_FORMAT " bytes)",
                       d->src->size);
    if (!d->src->read_at(d->src, 0, &h, sizeof(h), err) || !check_header(d, &h, err))
        return FALSE;
    p->bs = (uint32_t)h.block_size;
    if (!read_sub_header(d, &h, &sh, err))
        return FALSE;

    p->max_mapnr = h.header_version >= 6 ? sh.max_mapnr_64 : h.max_mapnr;
    /* Before any arithmetic on it: near 2^64 the sizes below would wrap. */
    if (p->max_mapnr > MAX_BITMAP_BYTES * 8)
        return hv_reader_corrupt(err, "kdump max_mapnr %" G_GUINT64_FORMAT " is implausibly large",
                       p->max_mapnr);
    const uint64_t half = (uint64_t)(h.bitmap_blocks / 2) * p->bs;
    const uint64_t bm1_off = (1 + (uint64_t)h.sub_hdr_size) * p->bs;
    const uint64_t bm2_off = bm1_off + half;
    const uint64_t need = (p->max_mapnr + 7) / 8;
    if (need > half)
        return hv_reader_corrupt(err, "kdump bitmaps (%" G_GUINT64_FORMAT " bytes each) are too small"
                       " for max_mapnr %" G_GUINT64_FORMAT, half, p->max_mapnr);
    if (need > MAX_BITMAP_BYTES)
        return hv_reader_corrupt(err, "kdump max_mapnr %" G_GUINT64_FORMAT " is implausibly large",
                       p->max_mapnr);
    if (!in_file(d, bm1_off, 2 * half))
        return hv_reader_corrupt(err, "kdump bitmaps (offset %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                       " bytes) lie outside the file", bm1_off, 2 * half);
    p->nwords = (p->max_mapnr + 63) / 64;
    p->bm1 = load_bitmap(d, bm1_off, need, p->nwords, p->max_mapnr, err);
    if (!p->bm1)
        return FALSE;
    p->bm2 = load_bitmap(d, bm2_off, need, p->nwords, p->max_mapnr, err);
    if (!p->bm2)
        return FALSE;

    const uint64_t nblocks = p->nwords / RANK_WORDS + 1;
    p->rank = g_new(uint64_t, nblocks);
    uint64_t total = 0;
    for (uint64_t w = 0; w < p->nwords; w++) {
        if (w % RANK_WORDS == 0)
            p->rank[w / RANK_WORDS] = total;
        total += (uint64_t)__builtin_popcountll(p->bm2[w]);
    }
    if (p->nwords % RANK_WORDS == 0)
        p->rank[p->nwords / RANK_WORDS] = total;
    p->n_desc = total;
    p->desc_off = bm2_off + half;
    if (!in_file(d, p->desc_off, p->n_desc * sizeof(struct hv_kdump_page_desc)))
        return hv_reader_corrupt(err, "kdump page descriptors (%" G_GUINT64_FORMAT " at offset %"
                       G_GUINT64_FORMAT ") lie outside the file", p->n_desc, p->desc_off);
    p->cbuf = g_malloc(p->bs);

    d->info.format = HV_FORMAT_KDUMP;
    d->info.header_version = h.header_version;
    d->info.compression = h.status & KNOWN_COMPRESSION;
    d->info.page_size = p->bs;
    d->info.max_pfn = p->max_mapnr;
    d->info.pages_present = popcount_all(p->bm1, p->nwords);
    d->info.pages_dumped = p->n_desc;
    d->info.timestamp_sec = h.tv_sec;
    d->info.timestamp_usec = h.tv_usec;
    copy_uts(d->info.uts.sysname, h.utsname[0]);
    copy_uts(d->info.uts.nodename, h.utsname[1]);
    copy_uts(d->info.uts.release, h.utsname[2]);
    copy_uts(d->info.uts.version, h.utsname[3]);
    copy_uts(d->info.uts.machine, h.utsname[4]);
    copy_uts(d->info.uts.domainname, h.utsname[5]);
    add_ranges(d, p);
    return TRUE;
}

static struct hv_codec *get_codec(struct kdump_priv *p, uint32_t flag, GError **err)
{
    for (int i = 0; i < 4; i++) {
        if (p->codec[i] && p->codec_flag[i] == flag)
            return p->codec[i];
        if (!p->codec[i]) {
            const struct hv_codec_ops *ops = hv_codec_by_kdump_flag(flag);
            if (!ops) {
                g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                            "no codec for kdump compression 0x%x", flag);
                return NULL;
            }
            p->codec[i] = ops->create(err);
            p->codec_flag[i] = flag;
            return p->codec[i];
        }
    }
    hv_error_internal(err, "too many codecs");
    return NULL;
}

static enum hv_read_status kdump_read_page(struct hv_vmcore *d, uint64_t pfn,
                                           void *buf, GError **err)
{
    struct kdump_priv *p = d->priv;
    struct hv_kdump_page_desc pd;

    if (pfn >= p->max_mapnr || !((p->bm2[pfn / 64] >> (pfn % 64)) & 1)) {
        memset(buf, 0, p->bs);
        return HV_READ_ABSENT;
    }
    uint64_t w = pfn / 64;
    uint64_t idx = p->rank[w / RANK_WORDS];
    for (uint64_t i = w - w % RANK_WORDS; i < w; i++)
        idx += (uint64_t)__builtin_popcountll(p->bm2[i]);
    idx += (uint64_t)__builtin_popcountll(p->bm2[w] & ((1ull << (pfn % 64)) - 1));

    if (!d->src->read_at(d->src, p->desc_off + idx * sizeof(pd), &pd, sizeof(pd), err))
        return HV_READ_ERROR;
    if (pd.offset < 0 || !in_file(d, (uint64_t)pd.offset, pd.size)) {
        hv_reader_corrupt(err, "descriptor of pfn 0x%" G_GINT64_MODIFIER "x points outside the file"
                " (offset %" G_GINT64_FORMAT ", %u bytes)", pfn, pd.offset, pd.size);
        return HV_READ_ERROR;
    }
    if (pd.flags == 0) {
        if (pd.size != p->bs) {
            hv_reader_corrupt(err, "raw page of pfn 0x%" G_GINT64_MODIFIER "x has size %u, not %u",
                    pfn, pd.size, p->bs);
            return HV_READ_ERROR;
        }
        return d->src->read_at(d->src, (uint64_t)pd.offset, buf, p->bs, err)
                   ? HV_READ_OK : HV_READ_ERROR;
    }
    if ((pd.flags & ~KNOWN_COMPRESSION) || (pd.flags & (pd.flags - 1))) {
        hv_reader_corrupt(err, "descriptor of pfn 0x%" G_GINT64_MODIFIER "x has unknown flags 0x%x",
                pfn, pd.flags);
        return HV_READ_ERROR;
    }
    if (pd.size == 0 || pd.size > p->bs) {
        hv_reader_corrupt(err, "compressed page of pfn 0x%" G_GINT64_MODIFIER "x has size %u"
                " (page size %u)", pfn, pd.size, p->bs);
        return HV_READ_ERROR;
    }
    struct hv_codec *c = get_codec(p, pd.flags, err);
    if (!c || !d->src->read_at(d->src, (uint64_t)pd.offset, p->cbuf, pd.size, err))
        return HV_READ_ERROR;
    if (!c->ops->decompress(c, p->cbuf, pd.size, buf, p->bs, err)) {
        g_prefix_error(err, "pfn 0x%" G_GINT64_MODIFIER "x: ", pfn);
        if (err && *err)
            (*err)->code = HV_ERROR_CORRUPT;
        return HV_READ_ERROR;
    }
    return HV_READ_OK;
}

static gboolean kdump_verify(struct hv_vmcore *d, GError **err)
{
    const struct kdump_priv *p = d->priv;

    for (uint64_t w = 0; w < p->nwords; w++) {
        uint64_t stray = p->bm2[w] & ~p->bm1[w];
        if (stray)
            return hv_reader_corrupt(err, "pfn 0x%" G_GINT64_MODIFIER "x is dumped (2nd bitmap) but"
                           " absent from the 1st bitmap",
                           w * 64 + (uint64_t)__builtin_ctzll(stray));
    }
    return TRUE;
}

static void kdump_cleanup(struct hv_vmcore *d)
{
    struct kdump_priv *p = d->priv;

    if (!p)
        return;
    for (int i = 0; i < 4; i++)
        if (p->codec[i])
            p->codec[i]->ops->destroy(p->codec[i]);
    g_free(p->bm1);
    g_free(p->bm2);
    g_free(p->rank);
    g_free(p->cbuf);
    g_free(p);
    d->priv = NULL;
}

const struct hv_vmcore_ops hv_vmcore_kdump_ops = {
    .name = "kdump",
    .probe = kdump_probe,
    .open = kdump_open,
    .read_page = kdump_read_page,
    .verify = kdump_verify,
    .cleanup = kdump_cleanup,
};
