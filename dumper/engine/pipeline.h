/* SPDX-License-Identifier: GPL-2.0-or-later */
/* source -> (read, zero-page test, compress in N workers) -> in-order writer.
 * The pipeline knows neither the format nor the source kind. */
#ifndef HV_PIPELINE_H
#define HV_PIPELINE_H

#include <glib.h>
#include "formats/writer.h"
#include "guest-mem/source.h"
#include "dumper/engine/progress.h"

/* A raw page's ref (struct hv_page_out) under raw_refs, and back.  + 1
 * because ref 0 means "cannot be fetched again" to a sink, and guest page
 * 0 is a page like any other. */
static inline uint64_t hv_raw_page_ref(uint64_t gpa)
{
    return gpa + 1;
}

static inline uint64_t hv_raw_page_gpa(uint64_t ref)
{
    return ref - 1;
}

struct hv_pipeline_config {
    unsigned threads;                   /* compression workers, >= 1 */
    const struct hv_codec_ops *codec;   /* NULL: pages pass raw */
    gboolean detect_zero;               /* classify all-zero pages as HV_PAGE_ZERO */
    size_t batch_pages;                 /* pages per batch, 0 = default (256) */
    /* Raw pages carry ref = hv_raw_page_ref(their guest-physical
     * address), so that the output can read them from the source again
     * when the disk is free (see hv_output_set_fetch) instead of holding
     * them up here. */
    gboolean raw_refs;
    struct hv_progress *progress;       /* may be NULL */
    volatile gint *cancel;              /* set non-zero to cancel; may be NULL */
    /* Called once, from the pipeline, as soon as every page has been read
     * from the source (before the last pages are compressed and written):
     * the guest can be resumed there.  May be NULL. */
    void (*source_done)(void *ud);
    void *source_done_ud;
};

struct hv_pipeline_stats {
    uint64_t pages_total;
    uint64_t pages_zero;
    uint64_t pages_absent;
    uint64_t pages_compressed; /* stored compressed (smaller than raw) */
    uint64_t bytes_in;         /* page bytes read from the source */
    uint64_t bytes_out;        /* page payload bytes handed to the writer */
};

/* Feeds every page of every block of src, in pfn order, to wops/w.
 * Cancellation gives HV_ERROR_CANCELLED. */
gboolean hv_pipeline_run(struct gm_source *src, const struct hv_writer_ops *wops,
                         struct hv_writer *w, const struct hv_pipeline_config *cfg,
                         struct hv_pipeline_stats *stats, GError **err);

#endif
