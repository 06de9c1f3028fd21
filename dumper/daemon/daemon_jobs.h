/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's dump jobs: one worker thread per dump, at most one dump per
 * domain at a time, different domains concurrently.  A job writes the dump
 * and its sidecar, then applies after= (crash dumps only); back in the main
 * loop the spool's retention is enforced and the job joins the finished list. */
#ifndef HV_DAEMON_JOBS_H
#define HV_DAEMON_JOBS_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>
#include "dumper/daemon/daemon_config.h"
#include "dumper/libvirt/libvirt_dump.h"

/* The dump itself; hv_libvirt_dump in the daemon, a fake in unit tests. */
typedef gboolean (*hvd_dump_fn)(virDomainPtr dom, const struct hv_libvirt_dump_opts *opts,
                                struct hv_libvirt_dump_result *res, GError **err);

struct hvd_jobs;

/* cfg must outlive the registry.  Completions are delivered through the
 * thread-default GMainContext of the caller. */
struct hvd_jobs *hvd_jobs_new(const struct hvd_config *cfg, hvd_dump_fn fn);
/* Cancels running jobs and waits for them. */
void hvd_jobs_free(struct hvd_jobs *j);

struct hvd_job_request {
    virDomainPtr dom;         /* referenced by the job; may be NULL in tests */
    const char *domain;       /* name */
    const char *uuid;
    const char *path;         /* relative inside the spool, NULL = automatic */
    const char *format;       /* NULL = the configured format */
    const char *trigger;      /* "crash" or "request" */
    gboolean apply_after;     /* run after= once dumped */
    int64_t qemu_pid;         /* the process dumped, for the sidecar; 0 = unknown */
    uint64_t qemu_start;
};

/* Starts a job; returns its id (> 0), or 0 with err.
 * Errors: HV_ERROR_BUSY (the domain already has a dump running: hvdumpd
 * answers "Busy" on this code), HV_ERROR_INVALID (a bad path or format),
 * HV_ERROR_EXISTS (path or its sidecar exists, no free automatic name),
 * HV_ERROR_PERMISSION (path through a symlink), HV_ERROR_IO (spool). */
guint hvd_jobs_start(struct hvd_jobs *j, const struct hvd_job_request *r, GError **err);
/* Running and finished jobs as a JSON array (the query-dumps reply). */
JsonNode *hvd_jobs_query(struct hvd_jobs *j);
/* The job as a JSON object, or NULL when unknown. */
JsonNode *hvd_jobs_describe(struct hvd_jobs *j, guint id);
/* Cancels by id (id > 0) or by domain name.
 * Errors: HV_ERROR_NOT_FOUND when nothing running matches. */
gboolean hvd_jobs_cancel(struct hvd_jobs *j, guint id, const char *domain, GError **err);
guint hvd_jobs_n_running(struct hvd_jobs *j);

#endif
