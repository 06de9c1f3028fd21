/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump dump --qmp SOCKET FILE: dump a running QEMU guest from outside.
 * Order matters: everything that can fail without touching the guest
 * (options, connecting, discovering RAM, the permission probe) comes before
 * the pause; the guest is resumed as soon as its memory has been read, and
 * on every failure path after the pause. */
#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "dumper/engine/guardian.h"
#include "dumper/engine/guest_meta.h"
#include "dumper/engine/job.h"
#include "dumper/engine/pause.h"
#include "dumper/engine/signals.h"
#include "common/hv_error.h"
#include "common/page.h"
#include "guest-mem/qmp.h"
#include "guest-mem/source_qemu.h"

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

/* Everything opened for one dump, closed in one place. */
struct dump_state {
    struct qmp_client *qmp;
    struct gm_source *src;
    struct hv_pause pause;
    struct hv_guardian guardian; /* resumes the guest if we die by SIGKILL */
    struct hv_guest_meta gm;
    GArray *cpus;
    GBytes *vmcoreinfo;
    GError *resume_err; /* from the source_done callback */
};

static void resume_when_read(void *ud)
{
    struct dump_state *st = ud;
    if (!st->resume_err && hv_pause_end(&st->pause, &st->resume_err))
        hv_guardian_release(&st->guardian);
}

static void arm_guardian(void *ud)
{
    hv_guardian_arm(ud);
}

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

/* Connect and discover: nothing here changes the guest. */
static gboolean prepare(struct dump_state *st, const struct dump_args *a, GError **err)
{
    if (a->vmcoreinfo_file && !load_vmcoreinfo(a->vmcoreinfo_file, &st->vmcoreinfo, err))
        return FALSE;
    st->qmp = qmp_connect(a->qmp_path, (unsigned)a->qmp_timeout_ms, err);
    if (!st->qmp)
        return FALSE;
    /* Opening probes a read, so a missing privilege shows up now. */
    st->src = gm_source_qemu_open(qmp_monitor(st->qmp), HV_PAGE_SIZE, err);
    return st->src != NULL;
}

/* With the guest stopped (unless --live): vCPUs and guest metadata. */
static gboolean collect_meta(struct dump_state *st, const struct dump_args *a,
                             volatile gint *cancel, GError **err)
{
    gint64 now = g_get_real_time();

    st->cpus = gm_qemu_read_cpus(qmp_monitor(st->qmp), err);
    if (!st->cpus)
        return FALSE;
    hv_guest_meta_init(&st->gm, st->src->page_size);
    if (!hv_guest_meta_fill(&st->gm, st->src, st->vmcoreinfo, err))
        return FALSE;
    if (st->gm.warning)
        hv_cli_error(CMD, "warning: %s", st->gm.warning);
    hv_guest_meta_set_cpus(&st->gm, (const struct hv_cpu_state *)(void *)st->cpus->data,
                           st->cpus->len);
    st->gm.meta.timestamp_sec = now / G_USEC_PER_SEC;
    st->gm.meta.timestamp_usec = now % G_USEC_PER_SEC;
    st->gm.meta.live = a->live;
    if (g_atomic_int_get(cancel)) {
        g_set_error(err, HV_ERROR, HV_ERROR_CANCELLED, "cancelled");
        return FALSE;
    }
    return TRUE;
}

static void close_state(struct dump_state *st)
{
    GError *e = NULL;

    /* Resume before anything else goes away: the guest matters most. */
    if (!hv_pause_end(&st->pause, &e)) {
        hv_cli_error(CMD, "%s", e->message);
        g_error_free(e);
    }
    hv_pause_clear(&st->pause);
    hv_guardian_release(&st->guardian);
    if (st->gm.cpus)
        hv_guest_meta_clear(&st->gm);
    if (st->cpus)
        g_array_unref(st->cpus);
    gm_source_close(st->src);
    qmp_close(st->qmp);
    if (st->vmcoreinfo)
        g_bytes_unref(st->vmcoreinfo);
    g_clear_error(&st->resume_err);
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

/* hvdump dump DOMAIN FILE: discovery and pause/resume go through libvirt. */
static int run_domain_dump(const struct dump_args *a, const struct hv_cli_output_opts *oo)
{
    static volatile gint cancel;
    struct hv_job_opts job;
    struct hv_job_result res;
    GError *err = NULL;

    if (!hv_cli_output_opts_to_job(oo, &job, &err))
        return report_failure(err);
    if (a->vmcoreinfo_file) {
        hv_cli_error(CMD, "--vmcoreinfo is only supported with --qmp");
        return HV_EXIT_USAGE;
    }
    g_atomic_int_set(&cancel, 0);
    hv_signals_install(&cancel);
    job.cancel = &cancel;
    if (!a->domain_dump(a->uri, a->domain, &job, a->live, &res, &err))
        return report_failure(err);
    hv_cli_print_summary(&job, &res);
    return HV_EXIT_OK;
}

static int run_dump(const struct dump_args *a, const struct hv_cli_output_opts *oo)
{
    static volatile gint cancel; /* the signal handler's flag */
    struct dump_state st;
    struct hv_job_opts job;
    struct hv_job_result res;
    GError *err = NULL;
    int rc = HV_EXIT_OK;

    memset(&st, 0, sizeof st);
    st.guardian.fd = -1;
    if (!hv_cli_output_opts_to_job(oo, &job, &err))
        return report_failure(err);
    g_atomic_int_set(&cancel, 0);
    hv_signals_install(&cancel);

    g_autofree char *partial = hv_job_partial_path(&job);
    st.pause.before_stop = arm_guardian;
    st.pause.before_stop_ud = &st.guardian;
    if (!prepare(&st, a, &err) ||
        (!a->live && !hv_guardian_start_qmp(&st.guardian, a->qmp_path, partial, &err)) ||
        (!a->live && !hv_pause_begin(&st.pause, st.qmp, &err)) ||
        !collect_meta(&st, a, &cancel, &err)) {
        close_state(&st);
        return report_failure(err);
    }
    job.cancel = &cancel;
    job.source_done = a->live ? NULL : resume_when_read;
    job.source_done_ud = &st;
    if (!hv_job_run(st.src, &st.gm.meta, &job, &res, &err)) {
        close_state(&st);
        return report_failure(err);
    }
    if (st.resume_err) {
        hv_cli_error(CMD, "dump written, but %s", st.resume_err->message);
        rc = HV_EXIT_FAILURE;
    }
    GError *pe = NULL;
    if (qmp_poll_events(st.qmp, &pe) && qmp_event_seen(st.qmp, "SHUTDOWN"))
        hv_cli_error(CMD, "warning: the guest shut down during the dump");
    g_clear_error(&pe);
    hv_cli_print_summary(&job, &res);
    close_state(&st);
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
        rc = run_domain_dump(&a, &oo);
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
