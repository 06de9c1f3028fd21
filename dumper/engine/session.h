/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One live dump of a running guest, the same for every transport (`hvdump
 * dump --qmp`, `hvdump dump DOMAIN`, hvdumpd).  The order is the point:
 *
 *   1. open the guest's memory through the monitor (discovery and a probe
 *      read: a missing privilege shows up before the guest is touched);
 *   2. start the guardian, which the pauser arms just before the stop;
 *   3. pause (unless live), read the vCPUs and the guest metadata;
 *   4. give up here if cancelled (nothing was written yet);
 *   5. write the dump; the guest is resumed as soon as its memory is read,
 *      not when the file is complete;
 *   6. tear down resume-first: on every failure after the pause the guest
 *      is resumed before anything else is released.
 *
 * The guest is resumed exactly once when the pauser stopped it, never when
 * it was already paused.  On failure no output file (nor PATH.partial) is
 * left, except when the dump was complete and only the resume failed. */
#ifndef HV_SESSION_H
#define HV_SESSION_H

#include <glib.h>
#include "dumper/engine/guardian.h"
#include "dumper/engine/job.h"
#include "dumper/engine/pause.h"
#include "guest-mem/monitor.h"
#include "guest-mem/source.h"

/* The transport: all borrowed, owned by the caller. */
struct hv_session_guest {
    struct gm_monitor *mon;    /* discovery and `info registers -a` */
    struct hv_pauser *pauser;  /* its before_pause hook is the session's */
    struct hv_guard *guard;    /* NULL: no guardian (live dumps need none) */
    /* Opens the guest's memory; NULL = gm_source_qemu_open.  Unit tests
     * give an in-memory source. */
    struct gm_source *(*open_source)(struct gm_monitor *mon, uint32_t page_size,
                                     GError **err);
};

struct hv_session_opts {
    /* Output, format, cancel flag, progress...; source_done and its ud are
     * the session's own (the resume) and ignored here. */
    struct hv_job_opts job;
    gboolean live;             /* do not pause: the dump is not consistent */
    GBytes *vmcoreinfo;        /* --vmcoreinfo text, or NULL to search the guest */
    /* Every warning and every failed resume that is not the returned error
     * goes here, one line without a prefix or newline ("warning: ...").
     * NULL: stderr as "hvdump: LINE". */
    void (*report)(void *ud, const char *line);
    void *report_ud;
};

struct hv_session_result {
    struct hv_job_result job;
    uint64_t guest_bytes;      /* RAM found in the guest (sum of its blocks) */
    char *kernel_release;      /* from utsname or VMCOREINFO's OSRELEASE, or NULL */
    /* The VMCOREINFO found in guest memory could not be confirmed (see
     * hv_guest_meta_fill): the kernel release may be forged too. */
    gboolean vmcoreinfo_untrusted;
    /* The dump is complete at its output.  Also set when FALSE is returned
     * because the guest could not be resumed afterwards: err then begins
     * with "dump written, but ". */
    gboolean written;
};
/* Call after every hv_session_run, successful or not. */
void hv_session_result_clear(struct hv_session_result *r);

gboolean hv_session_run(const struct hv_session_guest *guest,
                        const struct hv_session_opts *opts,
                        struct hv_session_result *res, GError **err);

#endif
