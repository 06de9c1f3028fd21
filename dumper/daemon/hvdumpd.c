/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd: collects kernel crash dumps of libvirt domains.  Watches libvirt
 * for guests that panic (pvpanic with <on_crash>preserve</on_crash>), dumps
 * them into the spool with a JSON sidecar, applies after= and retention, and
 * takes dump requests on a control socket (see daemon_control.h). */
#include <locale.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <glib-unix.h>

#include "dumper/daemon/daemon_config.h"
#include "dumper/daemon/daemon_control.h"
#include "dumper/daemon/daemon_events.h"
#include "dumper/daemon/daemon_jobs.h"
#include "dumper/daemon/daemon_ratelimit.h"
#include "dumper/daemon/daemon_sidecar.h"
#include "dumper/daemon/daemon_spool.h"
#include "dumper/engine/guardian.h"
#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/libvirt/libvirt_dump.h"
#include "dumper/libvirt/libvirt_monitor.h"
#include "common/hv_error.h"
#include "common/text_safe.h"

struct daemon {
    struct hvd_config cfg;
    struct hvd_ratelimit *crash_limit;
    struct hvd_events *events;
    struct hvd_jobs *jobs;
    struct hvd_control *control;
    GMainLoop *loop;
};

static guint start_dump(struct daemon *d, virDomainPtr dom, const char *path, const char *format,
                        const char *trigger, int64_t qemu_pid, uint64_t qemu_start, GError **err)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    struct hvd_job_request r = {
        .dom = dom, .domain = virDomainGetName(dom), .uuid = uuid, .path = path,
        .format = format, .trigger = trigger,
        .apply_after = g_strcmp0(trigger, "crash") == 0,
        .qemu_pid = qemu_pid, .qemu_start = qemu_start,
    };
    return hvd_jobs_start(d->jobs, &r, err);
}

static void on_crash(void *ud, virDomainPtr dom, const char *why)
{
    struct daemon *d = ud;
    const char *name = virDomainGetName(dom);
    g_autoptr(GError) err = NULL;

    if (!hvd_config_domain_matches(&d->cfg, name)) {
        g_printerr("hvdumpd: %s: %s (not in domains=, ignored)\n", name, why);
        return;
    }
    g_printerr("hvdumpd: %s: %s\n", name, why);
    /* One crash is one QEMU process: a crash found again (at start-up,
     * after libvirtd came back, or a repeated event) is not dumped twice. */
    g_autoptr(GError) perr = NULL;
    pid_t pid = hv_libvirt_qemu_pid(dom, &perr);
    uint64_t started = pid > 0 ? hvd_process_start_time(pid) : 0;
    if (hvd_spool_crash_collected(d->cfg.spool, name, pid, started)) {
        g_printerr("hvdumpd: %s: this crash (QEMU pid %d) is already collected\n", name,
                   (int)pid);
        return;
    }
    if (!hvd_ratelimit_allow(d->crash_limit, name, g_get_real_time())) {
        /* The domain stays as it crashed (no after=): its memory is there
         * for a dump requested by hand. */
        g_printerr("hvdumpd: %s: crash dump skipped: crash-limit of %u per %" G_GINT64_FORMAT
                   " s reached\n", name, d->cfg.crash_limit,
                   d->cfg.crash_window_usec / G_USEC_PER_SEC);
        return;
    }
    if (!start_dump(d, dom, NULL, NULL, "crash", pid > 0 ? pid : 0, started, &err))
        g_printerr("hvdumpd: %s: cannot dump: %s\n", name, err->message);
}

static JsonNode *op_dump(void *ud, const char *domain, const char *format, const char *path,
                         const char **cls, GError **err)
{
    struct daemon *d = ud;
    virConnectPtr conn = hvd_events_conn(d->events);
    if (!conn) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "not connected to libvirt (retrying)");
        return NULL;
    }
    virDomainPtr dom = hv_libvirt_lookup(conn, domain, err);
    if (!dom) {
        *cls = HVD_ERR_NO_DOMAIN;
        return NULL;
    }
    guint id = 0;
    if (hv_libvirt_check_dumpable(dom, NULL, err))
        id = start_dump(d, dom, path, format, "request", 0, 0, err);
    virDomainFree(dom);
    if (!id) {
        if (err && *err && g_error_matches(*err, HV_ERROR, HV_ERROR_BUSY))
            *cls = HVD_ERR_BUSY;
        return NULL;
    }
    return hvd_jobs_describe(d->jobs, id);
}

static JsonNode *op_query(void *ud, const char **cls, GError **err)
{
    struct daemon *d = ud;
    (void)cls;
    (void)err;
    return hvd_jobs_query(d->jobs);
}

static JsonNode *op_cancel(void *ud, guint id, const char *domain, const char **cls,
                           GError **err)
{
    struct daemon *d = ud;
    (void)cls;
    if (!hvd_jobs_cancel(d->jobs, id, domain, err))
        return NULL;
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, json_object_new());
    return n;
}

static const struct hvd_control_ops control_ops = {
    .dump = op_dump,
    .query_dumps = op_query,
    .cancel = op_cancel,
};

/* SIGHUP is ignored, not fatal: a daemon killed by a stray hang-up stops
 * collecting crashes.  The configuration is read at start only. */
static gboolean on_hangup(gpointer ud)
{
    (void)ud;
    g_printerr("hvdumpd: SIGHUP ignored (restart hvdumpd to re-read its configuration)\n");
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer ud)
{
    struct daemon *d = ud;
    g_printerr("hvdumpd: stopping (running dumps are cancelled)\n");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    g_autofree char *config = NULL;
    gboolean check = FALSE, version = FALSE;
    GOptionEntry entries[] = {
        { "config", 'f', 0, G_OPTION_ARG_FILENAME, &config, "configuration file", "FILE" },
        { "check-config", 0, 0, G_OPTION_ARG_NONE, &check, "parse the configuration and exit", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- collect crash dumps of libvirt guests");
    g_autoptr(GError) err = NULL;
    struct daemon d = { 0 };

    /* A dump job re-executes us (/proc/self/exe) as the guardian that
     * resumes its guest if we die holding it paused: see guardian.h. */
    if (argc >= 2 && g_strcmp0(argv[1], "__guardian") == 0)
        return hv_guardian_main(argc - 1, argv + 1, hv_libvirt_guardian_rescue);
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");   /* sidecars and logs read by programs */
    /* Everything we print may carry text from a guest or QEMU (error
     * messages quote them): no control characters reach the log. */
    g_set_printerr_handler(hv_text_safe_printerr);
    /* Before anything slow: a hang-up during start-up must not kill us. */
    guint hup = g_unix_signal_add(SIGHUP, on_hangup, NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc > 1) {
        g_printerr("hvdumpd: %s\n", err ? err->message : "unexpected arguments");
        return 2;
    }
    if (version) {
        printf("hvdumpd %s\n", HVDUMP_VERSION);
        return 0;
    }
    if (!config) {
        g_printerr("hvdumpd: --config FILE is required\n");
        return 2;
    }
    if (!hvd_config_load_file(&d.cfg, config, &err)) {
        g_printerr("hvdumpd: %s\n", err->message);
        return 2;
    }
    if (check) {
        hvd_config_clear(&d.cfg);
        return 0;
    }
    if (g_mkdir_with_parents(d.cfg.spool, 0750) < 0) {
        g_printerr("hvdumpd: cannot create spool %s\n", d.cfg.spool);
        hvd_config_clear(&d.cfg);
        return 1;
    }
    /* Dumps are written to files only the daemon's user reads. */
    umask(0077);
    /* Descriptors for dumps first: the control socket takes at most 128
     * connections, and the soft limit (often 1024) rises to the hard one. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* The limits may have changed since the last run. */
    hvd_spool_enforce(d.cfg.spool, &(struct hvd_retention){ d.cfg.keep, d.cfg.domain_max_bytes,
                                                            d.cfg.max_bytes }, NULL);
    hvd_spool_make_room(d.cfg.spool, d.cfg.min_free, NULL);

    d.loop = g_main_loop_new(NULL, FALSE);
    /* 4096 domains remembered: far more than one host runs. */
    d.crash_limit = hvd_ratelimit_new(d.cfg.crash_limit, d.cfg.crash_window_usec, 4096);
    d.jobs = hvd_jobs_new(&d.cfg, hv_libvirt_dump);
    d.control = hvd_control_new(d.cfg.socket, d.cfg.socket_group, &control_ops, &d, &err);
    if (!d.control) {
        g_printerr("hvdumpd: %s\n", err->message);
        hvd_jobs_free(d.jobs);
        hvd_ratelimit_free(d.crash_limit);
        g_main_loop_unref(d.loop);
        hvd_config_clear(&d.cfg);
        return 1;
    }
    d.events = hvd_events_new(d.cfg.uri, on_crash, &d);
    g_unix_signal_add(SIGTERM, on_signal, &d);
    g_unix_signal_add(SIGINT, on_signal, &d);
    g_printerr("hvdumpd: ready: spool %s, socket %s, domains %s, format %s, after=%s\n",
               d.cfg.spool, d.cfg.socket,
               d.cfg.domains && d.cfg.domains[0] ? "(list)" : "*", d.cfg.format,
               hvd_after_name(d.cfg.after));

    g_main_loop_run(d.loop);

    hvd_control_free(d.control);
    hvd_jobs_free(d.jobs); /* cancels, waits; guests paused by us are resumed */
    hvd_events_free(d.events);
    hvd_ratelimit_free(d.crash_limit);
    g_main_loop_unref(d.loop);
    hvd_config_clear(&d.cfg);
    g_source_remove(hup);
    return 0;
}
