/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dumping a libvirt domain: the pieces (connection, domain, a struct
 * gm_monitor over libvirt, pause/resume through libvirt) and one call that
 * does the whole dump, used by hvdumpd and by `hvdump dump DOMAIN FILE`.
 *
 * hvdump.c, for `hvdump dump DOMAIN` (DOMAIN = name, UUID or id), after the
 * usual option parsing into a struct hv_job_opts `job`:
 *
 *     struct hv_libvirt_dump_opts o = { .job = job, .live = live, ... };
 *     struct hv_libvirt_dump_result r;
 *     ok = hv_libvirt_dump_by_name(uri_or_NULL, domain, &o, &r, &err);
 *     if (ok) hv_cli_print_summary(&job, &r.job);
 *     hv_libvirt_dump_result_clear(&r);
 *
 * The dump is the engine's live-dump session (dumper/engine/session.h) with
 * the libvirt pauser: job.cancel (SIGINT) and job.progress work as for
 * --qmp; the guest is paused with virDomainSuspend (unless live) and
 * resumed as soon as its memory is read, or on any failure. */
#ifndef HV_LIBVIRT_DUMP_H
#define HV_LIBVIRT_DUMP_H

#include <glib.h>
#include <libvirt/libvirt.h>
#include "dumper/engine/job.h"
#include "dumper/libvirt/libvirt_pause.h"
#include "guest-mem/monitor.h"

struct hv_libvirt_target {
    virConnectPtr conn;
    virDomainPtr dom;
    struct gm_monitor *mon;
    struct hv_libvirt_pause pause;
};

/* Connects (uri NULL = default), looks the domain up, checks it can be
 * dumped and builds the monitor.  On failure t is left closed. */
gboolean hv_libvirt_target_open(struct hv_libvirt_target *t, const char *uri,
                                const char *domain, GError **err);
/* Same from an existing domain (hvdumpd): takes its own references. */
void hv_libvirt_target_from_domain(struct hv_libvirt_target *t, virDomainPtr dom);
gboolean hv_libvirt_target_pause(struct hv_libvirt_target *t, GError **err);
gboolean hv_libvirt_target_resume(struct hv_libvirt_target *t, GError **err);
/* Resumes what we paused, frees everything; safe on a zeroed struct. */
void hv_libvirt_target_close(struct hv_libvirt_target *t);

struct hv_libvirt_dump_opts {
    struct hv_job_opts job;   /* output, format, cancel flag, ... */
    gboolean live;            /* do not pause the guest */
    /* Run a guardian (dumper/guardian.h) that resumes the domain if this
     * process dies while holding it paused.  Only for the hvdump binary,
     * which can re-execute itself as `hvdump __guardian`. */
    gboolean guardian;
    const char *uri;          /* for the guardian's own connection */
    GBytes *vmcoreinfo;       /* --vmcoreinfo text, or NULL to search the guest */
    /* Warnings and failed resumes, one line each (see struct
     * hv_session_opts); NULL: stderr as "hvdump: DOMAIN: LINE". */
    void (*report)(void *ud, const char *line);
    void *report_ud;
};

/* The guardian's rescue for a libvirt domain (see guardian.h). */
void hv_libvirt_guardian_rescue(const char *uri, const char *uuid);

struct hv_libvirt_dump_result {
    struct hv_job_result job;
    char *kernel_release;     /* from the guest's utsname/VMCOREINFO, or NULL */
    gboolean vmcoreinfo_untrusted; /* that VMCOREINFO was not confirmed */
    uint64_t guest_bytes;     /* RAM found in the guest (sum of its blocks) */
    /* The dump is complete; with FALSE returned the guest could not be
     * resumed afterwards ("dump written, but ..."). */
    gboolean written;
};
void hv_libvirt_dump_result_clear(struct hv_libvirt_dump_result *r);

/* The whole dump of dom into opts->job's output (hv_session_run): find the
 * guest's memory through the monitor, pause unless live, write the dump,
 * resume what we paused as soon as memory is read.  On failure no file is
 * left (unless res->written) and the guest is resumed if we paused it. */
gboolean hv_libvirt_dump(virDomainPtr dom, const struct hv_libvirt_dump_opts *opts,
                         struct hv_libvirt_dump_result *res, GError **err);
/* Connects (uri NULL = default), finds the domain by name, UUID or id and
 * calls hv_libvirt_dump(). */
gboolean hv_libvirt_dump_by_name(const char *uri, const char *domain,
                                 const struct hv_libvirt_dump_opts *opts,
                                 struct hv_libvirt_dump_result *res, GError **err);

#endif
