/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the dump-writing subcommands (convert, dump) share: the output
 * options, error printing and exit codes.
 *
 *   struct hv_cli_output_opts oo;
 *   hv_cli_output_opts_init(&oo);
 *   GOptionContext *ctx = g_option_context_new("...");
 *   hv_cli_add_output_options(ctx, &oo);      // -o --fd --format --flat ...
 *   ... parse; on a GOption error: hv_cli_error("dump", ...); return HV_EXIT_USAGE;
 *   struct hv_job_opts job;
 *   if (!hv_cli_output_opts_to_job(&oo, &job, &err)) -> usage error
 *   job.cancel = &cancel; job.source_done = ...;
 *   ok = hv_job_run(src, meta, &job, &res, &err);
 *   if (ok) hv_cli_print_summary(&oo, &job, &res);
 *   rc = ok ? HV_EXIT_OK : hv_cli_exit_code(err);
 *   hv_cli_output_opts_clear(&oo);
 */
#ifndef HV_CLI_COMMON_H
#define HV_CLI_COMMON_H

#include <glib.h>
#include "dumper/engine/job.h"

enum {
    HV_EXIT_OK = 0,
    HV_EXIT_FAILURE = 1,
    HV_EXIT_USAGE = 2,
    HV_EXIT_CANCELLED = 3, /* SIGINT/SIGTERM/SIGHUP */
};

struct hv_cli_output_opts {
    char *output;    /* -o/--output PATH, "-" = stdout */
    int fd;          /* --fd N, -1 when not given */
    char *format;    /* --format, NULL = HV_DEFAULT_FORMAT */
    gboolean flat;   /* --flat */
    gboolean keep_zero; /* --keep-zero (the default, accepted for clarity) */
    gboolean exclude_zero; /* --exclude-zero */
    gboolean force;  /* --force */
    int threads;     /* --threads N, 0 = online CPUs */
    char *progress;  /* --progress=auto|bar|json|none */
};

void hv_cli_output_opts_init(struct hv_cli_output_opts *o);
/* Adds -o/--output, --fd, --format, --flat, --keep-zero, --exclude-zero, --force, --threads
 * and --progress to the context's main group, storing into o. */
void hv_cli_add_output_options(GOptionContext *ctx, struct hv_cli_output_opts *o);
/* Validates the parsed options (exactly one of -o/--fd, a known format and
 * progress mode, --flat only with kdump, threads in 0..1024, no dump to a
 * terminal) and fills job
 * (cancel and source_done left NULL).  job borrows strings from o.
 * Errors are HV_ERROR_INVALID: usage errors. */
gboolean hv_cli_output_opts_to_job(const struct hv_cli_output_opts *o,
                                   struct hv_job_opts *job, GError **err);
void hv_cli_output_opts_clear(struct hv_cli_output_opts *o);

/* "hvdump: CMD: message" on stderr. */
void hv_cli_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* HV_EXIT_CANCELLED for HV_ERROR_CANCELLED, HV_EXIT_USAGE for
 * HV_ERROR_INVALID (the user's mistake), else HV_EXIT_FAILURE: an
 * HV_ERROR_INTERNAL (a bug) included. */
int hv_cli_exit_code(const GError *err);
/* One summary line on stderr, only when progress is "bar", or "auto" with
 * stderr on a TTY (quiet otherwise). */
void hv_cli_print_summary(const struct hv_job_opts *job, const struct hv_job_result *res);

#endif
