/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One dump job: choose the container (ELF, seekable kdump, or flattened
 * kdump when the output cannot seek), wire source -> pipeline -> writer ->
 * output, and make sure a failure leaves no file behind. */
#include "dumper/engine/job.h"
#include "dumper/engine/output.h"
#include "dumper/engine/source_clip.h"
#include "formats/flat.h"
#include "common/hv_error.h"

#include <stdio.h>
#include <string.h>

/* What a job holds while it runs; torn down in one place. */
struct job {
    struct hv_output *out;
    struct hv_flat_sink *flat;
    const struct hv_writer_ops *wops;
    struct hv_writer *w;
    struct hv_progress *progress;
    struct hv_range *ranges;
    struct gm_source *clipped; /* view of the source for ram_only formats, or NULL */
    gboolean source_released; /* source_done was called, or the pipeline will */
};

/* Who calls opts->source_done, exactly once whatever happens, so that a
 * caller that paused a guest can always resume it there:
 *  - the pipeline, as soon as it has read every page (success or not),
 *    unless the output reads raw pages from the source again later
 *    (pcfg->raw_refs): then the guest must stay paused until
 *    hv_output_wait_fetched returns, and release_source calls it there;
 *  - release_source from job_teardown, when the job failed before the
 *    pipeline ran, or while the output still fetched.
 * Call once raw_refs is settled, right before hv_pipeline_run. */
static void plan_source_done(struct job *j, const struct hv_job_opts *opts,
                             struct hv_pipeline_config *pcfg)
{
    pcfg->source_done = pcfg->raw_refs ? NULL : opts->source_done;
    pcfg->source_done_ud = opts->source_done_ud;
    j->source_released = !pcfg->raw_refs;
}

/* Calls source_done unless it was (or the pipeline has it). */
static void release_source(struct job *j, const struct hv_job_opts *opts)
{
    if (j->source_released)
        return;
    j->source_released = TRUE;
    if (opts->source_done)
        opts->source_done(opts->source_done_ud);
}

static void job_teardown(struct job *j, const struct hv_job_opts *opts, gboolean ok)
{
    release_source(j, opts);
    if (j->w)
        j->wops->destroy(j->w);
    if (j->flat)
        hv_flat_sink_free(j->flat);
    if (j->out)
        hv_output_abort(j->out); /* only reached on failure: commit took it */
    if (j->progress) {
        hv_progress_finish(j->progress, ok);
        hv_progress_free(j->progress);
    }
    g_free(j->ranges);
    gm_source_close(j->clipped); /* the view only; the caller owns the source */
}

static struct hv_output *open_output(const struct hv_job_opts *opts, GError **err)
{
    if (opts->output_fd >= 0)
        return hv_output_open_fd(opts->output_fd, err);
    if (!opts->output_path) {
        hv_error_internal(err, "no output given");
        return NULL;
    }
    return hv_output_open_path_notify(opts->output_path, opts->force, opts->partial_created,
                                      opts->partial_created_ud, err);
}

char *hv_job_partial_path(const struct hv_job_opts *opts)
{
    /* The same choice open_output and hv_output_open_path make. */
    if (opts->output_fd >= 0 || !opts->output_path || strcmp(opts->output_path, "-") == 0)
        return NULL;
    return hv_output_partial_path(opts->output_path);
}

/* The output's fetch for deferred raw pages: ref is hv_raw_page_ref of
 * the page's guest-physical address (struct hv_pipeline_config.raw_refs).
 * Runs on the output's io thread, alongside the workers' reads, so only
 * for thread-safe sources. */
static gboolean fetch_raw(void *ud, uint64_t ref, uint8_t *dst, size_t len, GError **err)
{
    struct gm_source *src = ud;
    uint64_t gpa = hv_raw_page_gpa(ref);
    size_t ps = src->page_size;
    enum gm_page_state state[256];

    while (len >= ps) {
        const struct gm_block *b = gm_source_block_at(src, gpa);
        if (!b) {
            hv_error_internal(err,
                        "raw page at 0x%" G_GINT64_MODIFIER "x is in no block",
                        gpa);
            return FALSE;
        }
        size_t n = MIN(len / ps, G_N_ELEMENTS(state));
        n = (size_t)MIN((uint64_t)n, (b->gpa + b->size - gpa) / ps);
        if (!src->ops->read(src, gpa, n, dst, state, err))
            return FALSE;
        /* Known zero or absent this time (possible only in a live guest):
         * the source left those bytes of dst unwritten. */
        for (size_t i = 0; i < n; i++)
            if (state[i] != GM_PAGE_READ)
                memset(dst + i * ps, 0, ps);
        /* In case read() went through a mapping (the image source's does
         * not): drop what it mapped, as the pipeline does. */
        if (src->ops->map && src->ops->unmap)
            src->ops->unmap(src, gpa, n);
        gpa += n * ps;
        dst += n * ps;
        len -= n * ps;
    }
    return TRUE;
}

/* The output, and the flattened container over it when the format must
 * seek but the output cannot (or opts->flat): what the writer writes to. */
static struct hv_sink *open_sink(struct job *j, const struct hv_job_opts *opts,
                                 gboolean *flattened, GError **err)
{
    j->out = open_output(opts, err);
    if (!j->out)
        return NULL;
    hv_output_set_nospace_handler(j->out, opts->on_nospace, opts->on_nospace_ud);
    struct hv_sink *sink = hv_output_sink(j->out);
    /* kdump seeks back to write bitmaps and descriptors; a pipe gets the
     * flattened container, which readers (or makedumpfile -R) reassemble. */
    *flattened = j->wops->needs_random_access &&
                 (opts->flat || !hv_output_is_random_access(j->out));
    if (*flattened) {
        j->flat = hv_flat_sink_new(sink);
        sink = hv_flat_sink_base(j->flat);
    }
    return sink;
}

/* After the last page: the writer's tail (headers, bitmaps), the flat end
 * record, then the output into place.  Whatever it got as far as freeing
 * is gone from j; job_teardown frees the rest. */
static gboolean finish_and_commit(struct job *j, uint64_t *bytes_written, GError **err)
{
    if (!j->wops->finish(j->w, err))
        return FALSE;
    j->wops->destroy(j->w);
    j->w = NULL;
    if (j->flat) {
        if (!hv_flat_sink_finish(j->flat, err))
            return FALSE;
        hv_flat_sink_free(j->flat);
        j->flat = NULL;
    }
    *bytes_written = hv_output_bytes_written(j->out);
    struct hv_output *out = j->out;
    j->out = NULL; /* commit frees it, success or not */
    return hv_output_commit(out, err);
}

static uint64_t source_bytes(const struct gm_source *src)
{
    uint64_t total = 0;
    for (size_t i = 0; i < src->n_blocks; i++)
        total += src->blocks[i].size;
    return total;
}

gboolean hv_job_run(struct gm_source *src, const struct hv_dump_meta *meta,
                    const struct hv_job_opts *opts, struct hv_job_result *res,
                    GError **err)
{
    struct job j = {0};
    enum hv_codec_id codec;
    gint64 t0 = g_get_monotonic_time();
    struct hv_job_result local = {0};

    if (!hv_format_parse(opts->format ? opts->format : HV_DEFAULT_FORMAT, &j.wops, &codec, err))
        goto fail;
    if (opts->flat && !j.wops->needs_random_access) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "--flat applies to kdump formats only");
        goto fail;
    }
    if (meta->page_size && meta->page_size != src->page_size) {
        hv_error_internal(err,
                    "page size mismatch: source %u, dump metadata %u",
                    src->page_size, meta->page_size);
        goto fail;
    }
    /* kdump describes the kernel's memory map only: non-RAM blocks above it
     * (BIOS ROM, VRAM) would give a max_mapnr makedumpfile misreads. */
    if (j.wops->ram_only && meta->kernel_end_pfn) {
        j.clipped = hv_clipped_source_new(src, meta->kernel_end_pfn * (uint64_t)src->page_size);
        if (j.clipped)
            src = j.clipped;
    }
    if (src->n_blocks == 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "the source has no memory to dump");
        goto fail;
    }

    struct hv_sink *sink = open_sink(&j, opts, &local.flattened, err);
    if (!sink)
        goto fail;

    j.ranges = g_new(struct hv_range, src->n_blocks);
    for (size_t i = 0; i < src->n_blocks; i++) {
        j.ranges[i].start = src->blocks[i].gpa;
        j.ranges[i].size = src->blocks[i].size;
    }
    struct hv_writer_config wcfg = {.codec = codec, .keep_zero = !opts->exclude_zero};
    j.w = j.wops->create(sink, j.ranges, src->n_blocks, meta, &wcfg, err);
    if (!j.w)
        goto fail;

    const char *what = opts->output_fd >= 0 ? "dump" : opts->output_path;
    j.progress = hv_progress_new(opts->progress, stderr, what, source_bytes(src));
    struct hv_pipeline_config pcfg = {
        .threads = opts->threads ? opts->threads : g_get_num_processors(),
        .codec = j.wops->compresses ? hv_codec_by_id(codec) : NULL,
        /* kdump stores zero pages once (or not at all); ELF hands them to
         * the sink's write_zeros, which leaves holes in a file. */
        .detect_zero = TRUE,
        .progress = j.progress,
        .cancel = opts->cancel,
    };
    /* Raw kdump pages need not wait in the pipeline for the disk: the
     * output reads them from the source again when the disk is free. */
    pcfg.raw_refs = j.wops->compresses && !local.flattened && src->ops->thread_safe &&
                    hv_output_set_fetch(j.out, fetch_raw, src);
    plan_source_done(&j, opts, &pcfg);
    if (!hv_pipeline_run(src, j.wops, j.w, &pcfg, &local.stats, err))
        goto fail;
    if (pcfg.raw_refs) {
        if (!hv_output_wait_fetched(j.out, err))
            goto fail;
        release_source(&j, opts);
    }
    if (!finish_and_commit(&j, &local.bytes_written, err))
        goto fail;
    local.seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    job_teardown(&j, opts, TRUE);
    if (res)
        *res = local;
    return TRUE;
fail:
    job_teardown(&j, opts, FALSE);
    if (res) {
        local.seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
        *res = local;
    }
    return FALSE;
}
