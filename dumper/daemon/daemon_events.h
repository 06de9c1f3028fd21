/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's link to libvirtd: libvirt's default event loop runs in its own
 * thread; lifecycle events and connection loss are handed to the GLib main
 * context that created the watcher.  A lost connection (libvirtd restarted)
 * is retried every few seconds. */
#ifndef HV_DAEMON_EVENTS_H
#define HV_DAEMON_EVENTS_H

#include <glib.h>
#include <libvirt/libvirt.h>

/* Called in the main context when a domain crashed (panicked); dom is valid
 * for the duration of the call (ref it to keep it). */
typedef void (*hvd_crash_fn)(void *ud, virDomainPtr dom, const char *why);

struct hvd_events;

/* Registers libvirt's event implementation (once per process) and starts
 * connecting to uri (NULL = default); failure to connect now is not an
 * error: it is retried. */
struct hvd_events *hvd_events_new(const char *uri, hvd_crash_fn fn, void *ud);
/* The current connection, NULL while disconnected.  Borrowed. */
virConnectPtr hvd_events_conn(struct hvd_events *ev);
void hvd_events_free(struct hvd_events *ev);

#endif
