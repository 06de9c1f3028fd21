/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Connecting to libvirt and finding the domain to dump, with errors that say
 * what is wrong (not found, not running, not the QEMU driver) in one line. */
#ifndef HV_LIBVIRT_CONN_H
#define HV_LIBVIRT_CONN_H

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* URI used when none is given: $LIBVIRT_DEFAULT_URI, else qemu:///system. */
const char *hv_libvirt_default_uri(void);

/* Opens uri (NULL = default) and checks that it is the QEMU driver.
 * libvirt's own printing of errors to stderr is switched off. */
virConnectPtr hv_libvirt_connect(const char *uri, GError **err);

/* Finds a domain by UUID, numeric id or name (in that order of guessing). */
virDomainPtr hv_libvirt_lookup(virConnectPtr conn, const char *which, GError **err);

/* TRUE when hvdump can dump the domain in its current state: running,
 * paused or crashed (a QEMU process exists).  *state gets the virDomainState
 * when not NULL. */
gboolean hv_libvirt_check_dumpable(virDomainPtr dom, int *state, GError **err);

/* "running", "paused", "crashed", ... */
const char *hv_libvirt_state_name(int state);

/* dom on a working connection: a new reference to dom when its connection
 * is alive, else the same domain (by UUID) over a new connection to the same
 * URI, tried for up to wait_ms (libvirtd may be restarting).  NULL with err
 * when libvirtd stays unreachable or the domain is gone. */
virDomainPtr hv_libvirt_domain_reopen(virDomainPtr dom, unsigned wait_ms, GError **err);

/* Sets err to "<what>: <libvirt's last error message>" and resets libvirt's
 * error.  code is an HvErrorCode. */
void hv_libvirt_error(GError **err, int code, const char *what);

#endif
