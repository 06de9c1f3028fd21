/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Option handling shared by the subcommands that write a dump. */
#include "dumper/cli/cli_common.h"
#include "common/hv_error.h"
#include "common/text_safe.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_THREADS 1024

void hv_cli_output_opts_init(struct hv_cli_output_opts *o)
{
    *o = (struct hv_cli_output_opts){.fd = -1};
}

/* "--format"'s help, the names from formats/format_table.c.  GOption keeps
 * the pointer, not a copy, so it is built once and lives as long as the
 * process. */
static const char *format_help(void)
{
    static gsize once;
    static char *text;
    if (g_once_init_enter(&once)) {
        char *names = hv_format_names(" or ");
        text = g_strdup_printf("%s (default %s)", names, HV_DEFAULT_FORMAT);
        g_free(names);
        g_once_init_leave(&once, 1);
    }
    return text;
}

void hv_cli_add_output_options(GOptionContext *ctx, struct hv_cli_output_opts *o)
{
    /* g_option_context_add_main_entries copies the array. */
    const GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
         "Write the dump to PATH (\"-\" = standard output)", "PATH"},
        {"fd", 0, 0, G_OPTION_ARG_INT, &o->fd, "Write the dump to open file descriptor N", "N"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &o->format, format_help(), "FORMAT"},
        {"flat", 0, 0, G_OPTION_ARG_NONE, &o->flat,
         "Write the flattened kdump container even to a file", NULL},
        {"keep-zero", 0, 0, G_OPTION_ARG_NONE, &o->keep_zero,
         "Keep all-zero pages in a kdump, stored once (the default)", NULL},
        {"exclude-zero", 0, 0, G_OPTION_ARG_NONE, &o->exclude_zero,
         "Leave all-zero pages out of a kdump (crash then needs --zero_excluded)", NULL},
        {"force", 'f', 0, G_OPTION_ARG_NONE, &o->force, "Replace an existing output file", NULL},
        {"threads", 'j', 0, G_OPTION_ARG_INT, &o->threads,
         "Compression threads (default: online CPUs)", "N"},
        {"progress", 0, 0, G_OPTION_ARG_STRING, &o->progress,
         "auto, bar, json or none (default auto)", "MODE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

gboolean hv_cli_output_opts_to_job(const struct hv_cli_output_opts *o,
                                   struct hv_job_opts *job, GError **err)
{
    *job = (struct hv_job_opts){.output_fd = -1};
    if (o->output && o->fd >= 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "give either -o or --fd, not both");
        return FALSE;
    }
    if (!o->output && o->fd < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "no output: give -o PATH, -o - or --fd N");
        return FALSE;
    }
    if (o->output && g_strcmp0(o->output, "-") == 0 && isatty(STDOUT_FILENO)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "refusing to write a dump to a terminal (redirect standard output)");
        return FALSE;
    }
    if (o->threads < 0 || o->threads > MAX_THREADS) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "--threads must be 0..%d", MAX_THREADS);
        return FALSE;
    }
    const struct hv_writer_ops *wops;
    enum hv_codec_id codec;
    job->format = o->format ? o->format : HV_DEFAULT_FORMAT;
    if (!hv_format_parse(job->format, &wops, &codec, err))
        return FALSE;
    if (o->flat && !wops->needs_random_access) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "--flat applies to kdump formats only");
        return FALSE;
    }
    job->progress = HV_PROGRESS_AUTO;
    if (o->progress && !hv_progress_mode_parse(o->progress, &job->progress, err))
        return FALSE;
    job->output_path = o->output;
    job->output_fd = o->fd;
    job->flat = o->flat;
    if (o->keep_zero && o->exclude_zero) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "--keep-zero and --exclude-zero contradict each other");
        return FALSE;
    }
    job->exclude_zero = o->exclude_zero;
    job->force = o->force;
    job->threads = (unsigned)o->threads;
    return TRUE;
}

void hv_cli_output_opts_clear(struct hv_cli_output_opts *o)
{
    g_free(o->output);
    g_free(o->format);
    g_free(o->progress);
    hv_cli_output_opts_init(o);
}

void hv_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* Messages quote QEMU and the guest: one clean line, whatever they say. */
    char *safe = hv_text_safe(msg, -1, 4096);
    fprintf(stderr, "hvdump: %s: %s\n", cmd, safe);
    g_free(safe);
    g_free(msg);
}

int hv_cli_exit_code(const GError *err)
{
    if (!err)
        return HV_EXIT_FAILURE;
    if (g_error_matches(err, HV_ERROR, HV_ERROR_CANCELLED))
        return HV_EXIT_CANCELLED;
    /* Only the user's own mistakes are "bad usage": a broken invariant
     * (HV_ERROR_INTERNAL) is a bug in hvdump and exits 1 like any failure. */
    if (g_error_matches(err, HV_ERROR, HV_ERROR_INVALID))
        return HV_EXIT_USAGE;
    return HV_EXIT_FAILURE;
}

void hv_cli_print_summary(const struct hv_job_opts *job, const struct hv_job_result *res)
{
    gboolean show = job->progress == HV_PROGRESS_BAR ||
                    (job->progress == HV_PROGRESS_AUTO && isatty(STDERR_FILENO));
    if (!show)
        return;
    const struct hv_pipeline_stats *st = &res->stats;
    double secs = res->seconds > 1e-6 ? res->seconds : 1e-6;
    char *where = job->output_fd >= 0 ? g_strdup_printf("fd %d", job->output_fd)
                                      : g_strdup(job->output_path);
    fprintf(stderr,
            "hvdump: wrote %s (%s%s): %.1f MiB of memory in %.2f s (%.0f MB/s), "
            "%" G_GUINT64_FORMAT " pages (%" G_GUINT64_FORMAT " zero), %.1f MiB written\n",
            where, job->format ? job->format : HV_DEFAULT_FORMAT,
            res->flattened ? ", flattened" : "", (double)st->bytes_in / (1 << 20), secs,
            (double)st->bytes_in / 1e6 / secs, st->pages_total, st->pages_zero,
            (double)res->bytes_written / (1 << 20));
    g_free(where);
}
