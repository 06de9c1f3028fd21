/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kdump-compressed (diskdump v6) writer.  Layout in kdump_layout.h.  The
 * descriptor area is reserved for every page the ranges hold (we learn which
 * pages are dumped only as they come); data follows it.  Descriptors are
 * written in chunks as pages arrive, headers and the 2nd bitmap in finish(),
 * so memory stays at the two bitmaps plus one chunk. */
#include <string.h>
#include "common/hv_error.h"
#include "formats/kdump_layout.h"
#include "formats/notes.h"
#include "formats/writer.h"
#include "formats/writer_common.h"

#define DESC_CHUNK 16384 /* descriptors buffered before a write_at */

struct hv_writer {
    struct hv_sink *sink;
    uint8_t *block0;            /* disk_dump_header block, built in create */
    uint8_t *sub_area;          /* sub-header blocks, built in create */
    size_t sub_area_len;
    struct hv_writer_config cfg;
    uint32_t ps;
    uint64_t max_pfn;           /* one past the last pfn of the last range */
    uint64_t n_present;         /* pages in ranges (1st bitmap weight) */
    uint64_t n_dumped;          /* pages in the 2nd bitmap */
    uint32_t sub_hdr_blocks;
    uint64_t bitmap_len;        /* bytes of one bitmap, block aligned */
    uint8_t *bitmap1, *bitmap2;
    uint64_t desc_off;          /* file offset of descriptor 0 */
    uint64_t data_pos;          /* next file offset for page data */
    struct hv_kdump_page_desc *chunk;
    size_t chunk_len;
    uint64_t chunk_first;       /* descriptor index of chunk[0] */
    gboolean have_zero_desc;    /* keep_zero: the one stored zero page */
    struct hv_kdump_page_desc zero_desc;
    uint64_t next_pfn;          /* ordering check */
    const struct hv_range *ranges;
    size_t n_ranges, cur;
};

static void set_bit(uint8_t *bm, uint64_t pfn)
{
    bm[pfn >> 3] |= (uint8_t)(1u << (pfn & 7));
}

/* Sets bits [from, to): whole bytes with memset, the ragged ends by bit
 * (a TiB guest has 2^28 pfns; a bit loop over them would show). */
static void set_bits(uint8_t *bm, uint64_t from, uint64_t to)
{
    while (from < to && (from & 7))
        set_bit(bm, from++);
    uint64_t whole = (to - from) / 8;
    if (from < to && whole) {
        memset(bm + from / 8, 0xff, whole);
        from += whole * 8;
    }
    while (from < to)
        set_bit(bm, from++);
}

/* Bytes of sub-header + notes, the blob the sub-header blocks hold. */
static size_t sub_area_len(size_t notes_len)
{
    return sizeof(struct hv_kdump_sub_header) + notes_len;
}

static void kdump_destroy(struct hv_writer *w)
{
    if (!w)
        return;
    g_free(w->bitmap1);
    g_free(w->bitmap2);
    g_free(w->chunk);
    g_free(w->block0);
    g_free(w->sub_area);
    g_free((void *)w->ranges);
    g_free(w);
}

static gboolean flush_descs(struct hv_writer *w, GError **err)
{
    if (w->chunk_len == 0)
        return TRUE;
    if (!hv_sink_write(w->sink, w->desc_off + w->chunk_first * sizeof(*w->chunk),
                       w->chunk, w->chunk_len * sizeof(*w->chunk), err))
        return FALSE;
    w->chunk_first += w->chunk_len;
    w->chunk_len = 0;
    return TRUE;
}

static gboolean add_desc(struct hv_writer *w, const struct hv_kdump_page_desc *d,
                         GError **err)
{
    w->chunk[w->chunk_len++] = *d;
    w->n_dumped++;
    return w->chunk_len < DESC_CHUNK || flush_descs(w, err);
}

/* Describes the size bytes just written at data_pos in d and moves past
 * them. */
static void place(struct hv_writer *w, uint32_t size, uint32_t flags,
                  struct hv_kdump_page_desc *d)
{
    d->offset = (int64_t)w->data_pos;
    d->size = size;
    d->flags = flags;
    d->page_flags = 0;
    w->data_pos += size;
}

static gboolean store(struct hv_writer *w, const void *data, uint32_t size,
                      uint32_t flags, uint64_t ref, struct hv_kdump_page_desc *d,
                      GError **err)
{
    if (!hv_sink_write_ref(w->sink, w->data_pos, data, size, ref, err))
        return FALSE;
    place(w, size, flags, d);
    return TRUE;
}

/* The one zero page all zero pages' descriptors point at. */
static gboolean store_zero_page(struct hv_writer *w, struct hv_kdump_page_desc *d,
                                GError **err)
{
    if (!hv_sink_write_zeros(w->sink, w->data_pos, w->ps, err))
        return FALSE;
    place(w, w->ps, 0, d);
    return TRUE;
}

/* pfn must be the next page due: ranges are covered once, in order. */
static gboolean check_order(struct hv_writer *w, uint64_t pfn, GError **err)
{
    while (w->cur < w->n_ranges &&
           w->next_pfn >= (w->ranges[w->cur].start + w->ranges[w->cur].size) / w->ps) {
        w->cur++;
        if (w->cur < w->n_ranges)
            w->next_pfn = w->ranges[w->cur].start / w->ps;
    }
    if (w->cur >= w->n_ranges || pfn != w->next_pfn) {
        hv_error_internal(err,
                    "kdump writer: page 0x%" G_GINT64_MODIFIER "x is not the next page due",
                    pfn);
        return FALSE;
    }
    w->next_pfn++;
    return TRUE;
}

static gboolean kdump_put_pages(struct hv_writer *w, uint64_t pfn,
                                const struct hv_page_out *pages, size_t n,
                                GError **err)
{
    uint32_t codec_flag = hv_codec_by_id(w->cfg.codec)->kdump_flag;

    for (size_t i = 0; i < n; i++) {
        const struct hv_page_out *p = &pages[i];
        struct hv_kdump_page_desc d;

        if (!check_order(w, pfn + i, err))
            return FALSE;
        switch (p->kind) {
        case HV_PAGE_ABSENT:
            continue;
        case HV_PAGE_ZERO:
            if (!w->cfg.keep_zero)
                continue;
            /* All zero pages share one stored copy. */
            if (!w->have_zero_desc) {
                if (!store_zero_page(w, &w->zero_desc, err))
                    return FALSE;
                w->have_zero_desc = TRUE;
            }
            d = w->zero_desc;
            break;
        default:
            if ((p->flags == 0 && p->size != w->ps) ||
                (p->flags != 0 && p->flags != codec_flag) || p->size == 0) {
                hv_error_internal(err,
                            "kdump writer got page 0x%" G_GINT64_MODIFIER
                            "x with flags 0x%x and size %u", pfn + i, p->flags, p->size);
                return FALSE;
            }
            /* A raw page's bytes may be fetched again by the sink. */
            if (!store(w, p->data, p->size, p->flags, p->flags ? 0 : p->ref, &d, err))
                return FALSE;
            break;
        }
        set_bit(w->bitmap2, pfn + i);
        if (!add_desc(w, &d, err))
            return FALSE;
    }
    return TRUE;
}

static void copy_uts(char *dst, const char *src, const char *fallback)
{
    const char *s = src[0] ? src : fallback;
    size_t n = strnlen(s, HV_KDUMP_UTS_LEN - 1); /* src may lack a NUL */
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void fill_header(struct hv_writer *w, const struct hv_dump_meta *m,
                        struct hv_kdump_header *h)
{

    memset(h, 0, sizeof(*h));
    memcpy(h->signature, HV_KDUMP_SIGNATURE, HV_KDUMP_SIG_LEN);
    h->header_version = HV_KDUMP_HEADER_VERSION;
    /* sysname/machine are certain for an x86_64 guest; the rest only when
     * known (libkdumpfile trusts the block only when all are filled). */
    copy_uts(h->utsname[0], m->uts.sysname, "Linux");
    copy_uts(h->utsname[1], m->uts.nodename, "");
    copy_uts(h->utsname[2], m->uts.release, "");
    copy_uts(h->utsname[3], m->uts.version, "");
    copy_uts(h->utsname[4], m->uts.machine, "x86_64");
    copy_uts(h->utsname[5], m->uts.domainname, "");
    h->tv_sec = m->timestamp_sec;
    h->tv_usec = m->timestamp_usec;
    h->status = hv_codec_by_id(w->cfg.codec)->kdump_flag;
    h->block_size = (int32_t)w->ps;
    h->sub_hdr_size = (int32_t)w->sub_hdr_blocks;
    h->bitmap_blocks = (uint32_t)(2 * w->bitmap_len / w->ps);
    h->max_mapnr = (uint32_t)MIN(w->max_pfn, G_MAXUINT32);
    h->total_ram_blocks = (uint32_t)MIN(w->n_present, G_MAXUINT32);
    h->nr_cpus = (int32_t)m->n_cpus;
}

/* Sub-header followed by the notes; VMCOREINFO is pointed to inside the
 * notes (its note's desc), as makedumpfile does. */
static uint8_t *build_sub_area(struct hv_writer *w, const struct hv_dump_meta *m,
                               size_t *len_out)
{
    size_t notes_len;
    uint8_t *notes = hv_notes_build(m, &notes_len);
    size_t len = (size_t)w->sub_hdr_blocks * w->ps;
    uint8_t *area = g_malloc0(len);
    uint64_t base = w->ps; /* file offset of the area */
    struct hv_kdump_sub_header sh = {0};

    g_assert(sub_area_len(notes_len) <= len);
    sh.phys_base = m->phys_base;
    sh.dump_level = (w->cfg.keep_zero ? 0 : HV_KDUMP_DL_EXCLUDE_ZERO) | m->dump_level_in;
    sh.end_pfn = w->max_pfn;
    sh.offset_note = (int64_t)(base + sizeof(sh));
    sh.size_note = notes_len;
    sh.end_pfn_64 = w->max_pfn;
    sh.max_mapnr_64 = w->max_pfn;

    struct hv_note_iter it;
    struct hv_blob_note n;
    hv_note_iter_init(&it, notes, notes_len);
    while (hv_note_iter_next(&it, &n, NULL) == 1) {
        if (hv_note_is(&n, "VMCOREINFO", HV_NT_VMCOREINFO)) {
            sh.offset_vmcoreinfo = sh.offset_note + (int64_t)(n.desc - notes);
            sh.size_vmcoreinfo = n.desc_len;
        }
    }
    memcpy(area, &sh, sizeof(sh));
    memcpy(area + sizeof(sh), notes, notes_len);
    g_free(notes);
    *len_out = len;
    return area;
}

static struct hv_writer *kdump_create(struct hv_sink *sink,
                                      const struct hv_range *ranges, size_t n_ranges,
                                      const struct hv_dump_meta *meta,
                                      const struct hv_writer_config *cfg,
                                      GError **err)
{
    const struct hv_codec_ops *codec = hv_codec_by_id(cfg->codec);

    if (!hv_writer_check_inputs(ranges, n_ranges, meta, err))
        return NULL;
    if (!codec) {
        hv_error_internal(err, "unknown compression %d", (int)cfg->codec);
        return NULL;
    }
    if (!sink->random_access) {
        hv_error_internal(err,
                    "kdump output needs a seekable file or the flattened format");
        return NULL;
    }

    struct hv_writer *w = g_new0(struct hv_writer, 1);
    w->sink = sink;
    w->cfg = *cfg;
    w->ps = meta->page_size;
    w->ranges = g_memdup2(ranges, n_ranges * sizeof(*ranges));
    w->n_ranges = n_ranges;
    for (size_t i = 0; i < n_ranges; i++)
        w->n_present += ranges[i].size / w->ps;
    w->max_pfn = n_ranges ? (ranges[n_ranges - 1].start + ranges[n_ranges - 1].size) / w->ps : 0;

    size_t notes_len = hv_notes_size(meta);
    w->sub_hdr_blocks = (uint32_t)((sub_area_len(notes_len) + w->ps - 1) / w->ps);
    uint64_t bm_bytes = (w->max_pfn + 7) / 8;
    w->bitmap_len = (bm_bytes + w->ps - 1) / w->ps * w->ps;
    if (w->bitmap_len == 0)
        w->bitmap_len = w->ps;
    w->bitmap1 = g_malloc0(w->bitmap_len);
    w->bitmap2 = g_malloc0(w->bitmap_len);
    for (size_t i = 0; i < n_ranges; i++)
        set_bits(w->bitmap1, ranges[i].start / w->ps,
                 (ranges[i].start + ranges[i].size) / w->ps);

    w->desc_off = (uint64_t)(1 + w->sub_hdr_blocks) * w->ps + 2 * w->bitmap_len;
    w->data_pos = w->desc_off + w->n_present * sizeof(struct hv_kdump_page_desc);
    w->chunk = g_new(struct hv_kdump_page_desc, DESC_CHUNK);
    w->next_pfn = n_ranges ? ranges[0].start / w->ps : 0;

    /* Nothing in the headers depends on the pages, so build them now and
     * keep no pointer into meta. */
    struct hv_kdump_header h;
    fill_header(w, meta, &h);
    w->block0 = g_malloc0(w->ps);
    memcpy(w->block0, &h, sizeof(h));
    w->sub_area = build_sub_area(w, meta, &w->sub_area_len);
    return w;
}

static gboolean kdump_finish(struct hv_writer *w, GError **err)
{

    if (w->n_ranges && (w->cur < w->n_ranges - 1 || w->next_pfn != w->max_pfn)) {
        hv_error_internal(err,
                    "kdump writer finished before page 0x%" G_GINT64_MODIFIER "x",
                    w->next_pfn);
        return FALSE;
    }
    if (!flush_descs(w, err))
        return FALSE;

    if (!hv_sink_write(w->sink, w->ps, w->sub_area, w->sub_area_len, err))
        return FALSE;
    uint64_t bm_off = (uint64_t)(1 + w->sub_hdr_blocks) * w->ps;
    if (!hv_sink_write(w->sink, bm_off, w->bitmap1, w->bitmap_len, err) ||
        !hv_sink_write(w->sink, bm_off + w->bitmap_len, w->bitmap2, w->bitmap_len, err))
        return FALSE;

    /* Block 0 last: a file cut short earlier has no valid signature. */
    return hv_sink_write(w->sink, 0, w->block0, w->ps, err);
}

const struct hv_writer_ops hv_kdump_writer_ops = {
    .name = "kdump",
    .compresses = TRUE,
    .needs_random_access = TRUE,
    .ram_only = TRUE,
    .create = kdump_create,
    .put_pages = kdump_put_pages,
    .finish = kdump_finish,
    .destroy = kdump_destroy,
};
