/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One dump job: output + container choice + writer + pipeline, shared by
 * `hvdump convert`, `hvdump dump` and the daemon. */
#ifndef HV_JOB_H
#define HV_JOB_H

#include <glib.h>
#include "dumper/engine/pipeline.h"
#include "dumper/engine/progress.h"
#include "formats/dump_meta.h"
#include "formats/format_table.h" /* hv_format_parse(), the format names */
#include "guest-mem/source.h"

#define HV_DEFAULT_FORMAT "kdump-zstd" /* a name in formats/format_table.c */

struct hv_job_opts {
    const char *output_path;  /* "-" = stdout; ignored when output_fd >= 0 */
    int output_fd;            /* --fd N, else -1 */
    const char *format;       /* NULL = HV_DEFAULT_FORMAT */
    gboolean flat;            /* force the flattened container (kdump) */
    /* kdump: leave all-zero pages out of the 2nd bitmap.  Off by default:
     * crash refuses to read excluded pages (unless run with --zero_excluded)
     * and kernel data often sits in zero pages (e.g. the mem_section root),
     * so by default zero pages stay, all pointing at one stored zero page,
     * as makedumpfile -d 1 and QEMU do; they cost only their descriptor. */
    gboolean exclude_zero;
    gboolean force;           /* replace an existing output file */
    unsigned threads;         /* 0 = online CPUs */
    enum hv_progress_mode progress;
    volatile gint *cancel;    /* may be NULL */
    void (*source_done)(void *ud); /* see struct hv_pipeline_config */
    void *source_done_ud;
    /* Output full (ENOSPC/EDQUOT): see hv_output_set_nospace_handler.
     * NULL = fail at once (hvdump); hvdumpd prunes its spool. */
    gboolean (*on_nospace)(void *ud);
    void *on_nospace_ud;
    /* Called once the PATH.partial exists, with its device and inode (not
     * for stdout or an fd): the guardian removes only that file. */
    void (*partial_created)(void *ud, uint64_t dev, uint64_t ino);
    void *partial_created_ud;
};

struct hv_job_result {
    struct hv_pipeline_stats stats;
    uint64_t bytes_written;
    double seconds;
    gboolean flattened;
};

/* The partial file hv_job_run will write for opts ("PATH.partial"), or NULL
 * when the output is stdout or an fd.  For whoever must clean up after a
 * process that dies without handlers (the guardian). */
char *hv_job_partial_path(const struct hv_job_opts *opts);

/* Writes the dump.  On failure nothing is left at the output path.
 * Errors: HV_ERROR_INVALID (unknown format, --flat with ELF, a source with
 * no memory, hv_output_open_* refusing the output), HV_ERROR_EXISTS,
 * HV_ERROR_PERMISSION, HV_ERROR_NOSPACE, HV_ERROR_PIPE, HV_ERROR_IO (the
 * output), HV_ERROR_CANCELLED (*cancel set), the source's read errors
 * (HV_ERROR_GUEST, HV_ERROR_PERMISSION, HV_ERROR_CORRUPT, HV_ERROR_IO),
 * HV_ERROR_UNSUPPORTED (page size), HV_ERROR_INTERNAL (a bug). */
gboolean hv_job_run(struct gm_source *src, const struct hv_dump_meta *meta,
                    const struct hv_job_opts *opts, struct hv_job_result *res,
                    GError **err);

#endif
