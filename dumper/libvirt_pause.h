/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stopping a domain for a consistent dump through libvirt (virDomainSuspend),
 * so libvirt's own idea of the domain state stays right.  Only what we
 * paused is resumed: a domain the user paused, or one that crashed and is
 * held by <on_crash>preserve</on_crash>, stays as it was. */
#ifndef HV_LIBVIRT_PAUSE_H
#define HV_LIBVIRT_PAUSE_H

#include <glib.h>
#include <libvirt/libvirt.h>

struct hv_libvirt_pause {
    virDomainPtr dom;     /* referenced while paused by us */
    gboolean we_paused;
    /* Optional, set by the caller: called just before a running domain is
     * suspended (the guardian is armed there). */
    void (*before_suspend)(void *ud);
    void *before_suspend_ud;
};

/* Suspends dom when it is running; a paused or crashed domain is left as is
 * (its vCPUs are already stopped). */
gboolean hv_libvirt_pause_begin(struct hv_libvirt_pause *p, virDomainPtr dom,
                                GError **err);
/* Resumes only when pause_begin suspended it.  Safe to call twice and on a
 * struct never begun (zeroed).  Fails when the domain is gone. */
gboolean hv_libvirt_pause_end(struct hv_libvirt_pause *p, GError **err);

#endif
