/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stopping a domain for a consistent dump through libvirt (virDomainSuspend),
 * so libvirt's own idea of the domain state stays right.  Only what we
 * paused is resumed: a domain the user paused, or one that crashed and is
 * held by <on_crash>preserve</on_crash>, stays as it was.
 *
 * libvirtd may die or restart while the guest is paused (guest memory is
 * read from QEMU's process, not through libvirt, so the dump goes on).  The
 * resume then reconnects to the same URI; while libvirtd is down it resumes
 * through QEMU's own monitor socket instead (libvirt re-reads QEMU's state
 * when it reconnects to the domain), for a bounded time. */
#ifndef HV_LIBVIRT_PAUSE_H
#define HV_LIBVIRT_PAUSE_H

#include <glib.h>
#include <libvirt/libvirt.h>
#include "dumper/engine/pause.h"

struct hv_libvirt_pause {
    virDomainPtr dom;     /* referenced while paused by us */
    gboolean we_paused;
    /* Optional, set by the caller: called just before a running domain is
     * suspended (the guardian is armed there). */
    void (*before_suspend)(void *ud);
    void *before_suspend_ud;
    /* Set by pause_begin: the URI to reconnect to if the connection dies. */
    char *uri;
    /* Set by pause_end: libvirtd was unreachable and the guest was resumed
     * through QEMU's monitor socket. */
    gboolean resumed_via_qemu;
};

/* The line to tell the user when resumed_via_qemu is set. */
#define HV_LIBVIRT_RESUMED_VIA_QEMU \
    "libvirtd was unreachable; resumed the guest through QEMU's monitor socket " \
    "(libvirt sees it running once it reconnects)"

/* How long pause_end keeps trying when libvirtd is unreachable. */
#define HV_LIBVIRT_RESUME_WAIT_MS 30000

/* Suspends dom when it is running; a paused or crashed domain is left as is
 * (its vCPUs are already stopped). */
gboolean hv_libvirt_pause_begin(struct hv_libvirt_pause *p, virDomainPtr dom,
                                GError **err);
/* Resumes only when pause_begin suspended it.  Safe to call twice and on a
 * struct never begun (zeroed).  A domain that is gone (destroyed, undefined)
 * needs no resume and is not an error; a guest that cannot be resumed by
 * any means is (HV_ERROR_GUEST, the message says what to run). */
gboolean hv_libvirt_pause_end(struct hv_libvirt_pause *p, GError **err);

/* The functions above as a struct hv_pauser (dumper/engine/pause.h) for a
 * live dump of dom (referenced until freed).  describe() says when the
 * resume went through QEMU's monitor; guest_shut_down() is TRUE when libvirt
 * says the domain is shut off, shutting down, or gone. */
struct hv_pauser *hv_libvirt_pauser_new(virDomainPtr dom);

#endif
