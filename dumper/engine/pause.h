/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pausers: how a live dump (dumper/engine/session.h) stops a guest for a
 * consistent image and lets it go again, whatever the transport.  One rule
 * holds for every implementation: only what begin() stopped is resumed.  A
 * guest that was already paused (by the user, a debugger, or held after a
 * panic with -no-shutdown or <on_crash>preserve</on_crash>) stays as it was.
 *
 * Implementations: the QMP pauser below (`stop`/`cont` on QEMU's socket)
 * and the libvirt one (dumper/libvirt/libvirt_pause.h, virDomainSuspend). */
#ifndef HV_PAUSE_H
#define HV_PAUSE_H

#include <glib.h>
#include "guest-mem/qmp.h"

struct hv_pauser;

struct hv_pauser_ops {
    /* Stops the guest when it runs, calling p->before_pause(ud) (when set)
     * just before the stop request; a guest that does not run is left as
     * it is, without calling it, and that is not an error.  Reading may
     * start as soon as it returns: the vCPUs are out of the guest. */
    gboolean (*begin)(struct hv_pauser *p, GError **err);
    /* Resumes the guest only when begin() stopped it.  One attempt: after
     * it paused_by_us() is FALSE even if it failed.  Safe before begin()
     * and twice (does nothing, TRUE).  err says what the operator must do
     * when the guest stays paused. */
    gboolean (*end)(struct hv_pauser *p, GError **err);
    /* Whether the guest is stopped by begin() and not yet given back. */
    gboolean (*paused_by_us)(const struct hv_pauser *p);
    /* One line the user should read about how the last end() resumed the
     * guest, when it took an unusual way (libvirtd unreachable, so QEMU's
     * own monitor did it), else NULL.  Valid until the next call. */
    const char *(*describe)(const struct hv_pauser *p);
    /* Whether the guest shut down (or went away) since the pauser was
     * made, as far as the transport can tell; polled once after the dump. */
    gboolean (*guest_shut_down)(struct hv_pauser *p);
    void (*free)(struct hv_pauser *p);
};

struct hv_pauser {
    const struct hv_pauser_ops *ops;
    /* Set by the user of the pauser (the session arms the guardian here):
     * called just before a running guest is stopped. */
    void (*before_pause)(void *ud);
    void *before_pause_ud;
};

/* Does not resume: end() first.  NULL is fine. */
static inline void hv_pauser_free(struct hv_pauser *p)
{
    if (p)
        p->ops->free(p);
}

/* Over QEMU's QMP socket: query-status, then `stop` only when the guest
 * runs; `cont` at end().  qmp is borrowed and must outlive the pauser.
 * guest_shut_down() reports a SHUTDOWN event seen since qmp connected. */
struct hv_pauser *hv_qmp_pauser_new(struct qmp_client *qmp);

#endif
