/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dump writers: one file per output format (elf_writer.c, kdump_writer.c),
 * each exporting one struct hv_writer_ops.  A writer turns a stream of pages,
 * given in pfn order in batches, plus struct hv_dump_meta, into bytes on a
 * struct hv_sink.  It knows nothing of where pages come from. */
#ifndef HV_WRITER_H
#define HV_WRITER_H

#include <glib.h>
#include <stdint.h>
#include "formats/codec.h"
#include "formats/dump_meta.h"
#include "formats/sink.h"

/* A guest-physical range described by the dump, page aligned. */
struct hv_range {
    uint64_t start; /* bytes */
    uint64_t size;  /* bytes, > 0 */
};

enum hv_page_kind {
    HV_PAGE_DATA,   /* data/size/flags valid */
    HV_PAGE_ZERO,   /* all zero bytes; data ignored */
    HV_PAGE_ABSENT, /* the source does not have this page (filtered input) */
};

/* One page as the pipeline hands it to a writer.  For DATA, flags is the
 * kdump compression flag (HV_KDUMP_*) or 0 when data is the raw page (then
 * size == page_size).  data stays valid only during put_pages().  ref: 0,
 * or (raw pages) a token the sink's write_ref can use to fetch the same
 * bytes again later; writers pass it through without looking at it, and
 * consecutive pages have consecutive tokens (ref + page_size). */
struct hv_page_out {
    const uint8_t *data;
    uint32_t size;
    uint32_t flags;
    uint8_t kind; /* enum hv_page_kind */
    uint64_t ref;
};

struct hv_writer_config {
    enum hv_codec_id codec; /* kdump only */
    gboolean keep_zero;     /* kdump: keep zero pages in the 2nd bitmap */
};

struct hv_writer;

struct hv_writer_ops {
    const char *name;            /* "elf", "kdump" */
    gboolean compresses;         /* pipeline must compress pages with cfg->codec */
    gboolean needs_random_access;/* sink must be random access (wrap in flat) */
    /* Describe only pages below meta->kernel_end_pfn (when known): the dumper
     * clips the ranges it passes.  TRUE for kdump, whose readers size their
     * bitmaps from the kernel's memory map; ELF keeps every block QEMU
     * dumps (ROM, VRAM included), as dump-guest-memory does. */
    gboolean ram_only;
    /* Validates inputs and may write headers.  ranges are sorted, disjoint.
     * Errors: HV_ERROR_UNSUPPORTED (page size over 64 KiB), HV_ERROR_INTERNAL
     * (ranges unsorted/unaligned, an unknown codec, kdump on a sequential
     * sink), or whatever the sink's write reports. */
    struct hv_writer *(*create)(struct hv_sink *sink,
                                const struct hv_range *ranges, size_t n_ranges,
                                const struct hv_dump_meta *meta,
                                const struct hv_writer_config *cfg,
                                GError **err);
    /* pages[0..n) are pfn, pfn+1, ...; all inside one range; calls come in
     * increasing pfn order and together cover every range exactly once.
     * Errors: HV_ERROR_INTERNAL when that contract is broken (or ELF gets a
     * compressed page), else whatever the sink's write reports. */
    gboolean (*put_pages)(struct hv_writer *w, uint64_t pfn,
                          const struct hv_page_out *pages, size_t n,
                          GError **err);
    /* Writes what is left (bitmaps, headers).  Does not flush the sink.
     * Errors: HV_ERROR_INTERNAL (pages left unwritten), else the sink's. */
    gboolean (*finish)(struct hv_writer *w, GError **err);
    void (*destroy)(struct hv_writer *w);
};

extern const struct hv_writer_ops hv_elf_writer_ops;
extern const struct hv_writer_ops hv_kdump_writer_ops;

#endif
