/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump dump {--qmp SOCKET | DOMAIN} FILE: dump a running QEMU guest from
 * outside.  The dump itself is the engine's live-dump session
 * (dumper/engine/session.h), which fixes the order: everything that can fail
 * without touching the guest comes before the pause, and the guest is
 * resumed as soon as its memory has been read, and on every failure path
 * after the pause.  This file parses options and reports. */
#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "dumper/engine/guardian.h"
#include "dumper/engine/pause.h"
#include "dumper/engine/session.h"
#include "dumper/engine/signals.h"
#include "common/hv_error.h"
#include "guest-mem/qmp.h"

#include <signal.h>
#include <string.h>

#define CMD "dump"

struct dump_args {
    const char *qmp_path;
    const char *domain;   /* libvirt path: DOMAIN instead of --qmp */
    const char *uri;      /* -c URI */
    hv_domain_dump_fn domain_dump;
    const char *vmcoreinfo_file;
    gboolean live;
    int qmp_timeout_ms;
};

static gboolean load_vmcoreinfo(const char *file, GBytes **out, GError **err)
{
    char *text = NULL;
    gsize len = 0;
    GError *e = NULL;

    if (!g_file_get_contents(file, &text, &len, &e)) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s", e->message);
        g_error_free(e);
        return FALSE;
    }
    if (len == 0 || !memchr(text, '=', len)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "%s does not look like VMCOREINFO text (KEY=VALUE lines)", file);
        g_free(text);
        return FALSE;
    }
    *out = g_bytes_new_take(text, len);
    return TRUE;
}

/* The session's warnings and failed resumes, as every other line of ours. */
static void report_line(void *ud, const char *line)
{
    (void)ud;
    hv_cli_error(CMD, "%s", line);
}

/* --qmp: the QMP socket is the monitor, `stop`/`cont` the pause. */
static gboolean dump_qmp(const struct dump_args *a, const struct hv_session_opts *so,
                         struct hv_session_result *res, GError **err)
{
    memset(res, 0, sizeof *res);
    struct qmp_client *qmp = qmp_connect(a->qmp_path, (unsigned)a->qmp_timeout_ms, err);
    if (!qmp)
        return FALSE;
    /* SIGINT reaches a QEMU that does not answer (the pauser turns it off
     * again for the resume). */
    qmp_set_cancel(qmp, so->job.cancel);
    struct hv_session_guest guest = {
        .mon = qmp_monitor(qmp),
        .pauser = hv_qmp_pauser_new(qmp),
        .guard = so->live ? NULL : hv_guardian_guard_qmp(a->qmp_path),
    };
    gboolean ok = hv_session_run(&guest, so, res, err);
    hv_guard_free(guest.guard);
    hv_pauser_free(guest.pauser);
    qmp_close(qmp);
    return ok;
}

static int report_failure(GError *err)
{
    int rc = hv_cli_exit_code(err);
    if (g_error_matches(err, HV_ERROR, HV_ERROR_CANCELLED)) {
        int sig = hv_signals_last();
        hv_cli_error(CMD, "cancelled by %s, nothing written",
                     sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
                     : sig == SIGHUP ? "SIGHUP" : "request");
    } else {
        hv_cli_error(CMD, "%s", err->message);
    }
    g_error_free(err);
    return rc;
}

static int run_dump(const struct dump_args *a, const struct hv_cli_output_opts *oo)
{
    static volatile gint cancel; /* the signal handler's flag */
    struct hv_session_opts so = {.live = a->live, .report = report_line};
    struct hv_session_result res;
    GError *err = NULL;
    int rc = HV_EXIT_OK;

    memset(&res, 0, sizeof res);
    if (!hv_cli_output_opts_to_job(oo, &so.job, &err))
        return report_failure(err);
    g_atomic_int_set(&cancel, 0);
    hv_signals_install(&cancel);
    so.job.cancel = &cancel;

    if (a->vmcoreinfo_file && !load_vmcoreinfo(a->vmcoreinfo_file, &so.vmcoreinfo, &err))
        return report_failure(err);
    gboolean ok = a->qmp_path ? dump_qmp(a, &so, &res, &err)
                              : a->domain_dump(a->uri, a->domain, &so, &res, &err);
    if (so.vmcoreinfo)
        g_bytes_unref(so.vmcoreinfo);
    if (!ok && !res.written) {
        hv_session_result_clear(&res);
        return report_failure(err);
    }
    if (!ok) {
        /* "dump written, but ...": the file is good, the guest needs the
         * operator, and the exit status says so. */
        hv_cli_error(CMD, "%s", err->message);
        g_error_free(err);
        rc = HV_EXIT_FAILURE;
    }
    hv_cli_print_summary(&so.job, &res.job);
    hv_session_result_clear(&res);
    return rc;
}

int hv_cli_dump(int argc, char **argv)
{
    return hv_cli_dump_with_domains(argc, argv, NULL);
}

int hv_cli_dump_with_domains(int argc, char **argv, hv_domain_dump_fn domain_dump)
{
    struct hv_cli_output_opts oo;
    struct dump_args a = { .qmp_timeout_ms = QMP_DEFAULT_TIMEOUT_MS };
    char *qmp_path = NULL, *vmcoreinfo_file = NULL, *uri = NULL;
    GError *err = NULL;
    const GOptionEntry entries[] = {
        {"connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
         "libvirt URI for DOMAIN (default $LIBVIRT_DEFAULT_URI or qemu:///system)", "URI"},
        {"qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp_path,
         "QEMU's QMP Unix socket (-qmp unix:PATH,server=on,wait=off)", "SOCKET"},
        {"live", 0, 0, G_OPTION_ARG_NONE, &a.live,
         "do not pause the guest (the dump is not consistent)", NULL},
        {"vmcoreinfo", 0, 0, G_OPTION_ARG_FILENAME, &vmcoreinfo_file,
         "VMCOREINFO text to use instead of searching guest memory", "FILE"},
        {"qmp-timeout", 0, 0, G_OPTION_ARG_INT, &a.qmp_timeout_ms,
         "milliseconds to wait for QEMU's QMP greeting (default 5000)", "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };

    hv_cli_output_opts_init(&oo);
    GOptionContext *ctx = g_option_context_new(
        "{--qmp SOCKET | DOMAIN} [FILE] - dump a running QEMU guest");
    g_option_context_set_summary(ctx,
        "Pauses the guest (unless --live), reads its memory from the QEMU process\n"
        "(needs root or CAP_SYS_PTRACE), resumes it as soon as the memory is read,\n"
        "and writes a vmcore.  FILE may be \"-\" for stdout; -o/--fd work too.");
    hv_cli_add_output_options(ctx, &oo);
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        hv_cli_error(CMD, "%s", err->message);
        g_error_free(err);
        rc = HV_EXIT_USAGE;
    } else if (!qmp_path && argc < 2) {
        hv_cli_error(CMD, "no guest given: use --qmp SOCKET or DOMAIN; see --help");
        rc = HV_EXIT_USAGE;
    } else if (!qmp_path && !domain_dump) {
        hv_cli_error(CMD, "this hvdump was built without libvirt: use --qmp SOCKET");
        rc = HV_EXIT_USAGE;
    } else if (qmp_path && uri) {
        hv_cli_error(CMD, "-c URI applies to DOMAIN, not to --qmp");
        rc = HV_EXIT_USAGE;
    } else if (!qmp_path && (argc > 3 || (argc == 3 && (oo.output || oo.fd >= 0)))) {
        hv_cli_error(CMD, "give one output: FILE, -o FILE or --fd N");
        rc = HV_EXIT_USAGE;
    } else if (!qmp_path) {
        if (argc == 3)
            oo.output = g_strdup(argv[2]);
        a.domain = argv[1];
        a.uri = uri;
        a.domain_dump = domain_dump;
        a.vmcoreinfo_file = vmcoreinfo_file;
        rc = run_dump(&a, &oo);
    } else if (argc > 2 || (argc == 2 && (oo.output || oo.fd >= 0))) {
        hv_cli_error(CMD, "give one output: FILE, -o FILE or --fd N");
        rc = HV_EXIT_USAGE;
    } else if (a.qmp_timeout_ms <= 0) {
        hv_cli_error(CMD, "--qmp-timeout must be positive");
        rc = HV_EXIT_USAGE;
    } else {
        if (argc == 2)
            oo.output = g_strdup(argv[1]);
        a.qmp_path = qmp_path;
        a.vmcoreinfo_file = vmcoreinfo_file;
        rc = run_dump(&a, &oo);
    }
    g_option_context_free(ctx);
    g_free(qmp_path);
    g_free(uri);
    g_free(vmcoreinfo_file);
    hv_cli_output_opts_clear(&oo);
    return rc;
}
