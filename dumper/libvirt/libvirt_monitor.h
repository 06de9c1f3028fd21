/* SPDX-License-Identifier: GPL-2.0-or-later */
/* struct gm_monitor over libvirt: QMP and HMP through
 * virDomainQemuMonitorCommand, QEMU's pid found on the host.
 *
 * Note: libvirt marks a domain "tainted: custom-monitor" the first time a
 * monitor command is sent this way; that is harmless and expected. */
#ifndef HV_LIBVIRT_MONITOR_H
#define HV_LIBVIRT_MONITOR_H

#include <glib.h>
#include <libvirt/libvirt.h>
#include "guest-mem/monitor.h"

/* Takes its own reference on dom.  Thread-safe: libvirt serialises monitor
 * commands per domain. */
struct gm_monitor *hv_libvirt_monitor_new(virDomainPtr dom);
void hv_libvirt_monitor_free(struct gm_monitor *m);

/* QEMU's pid for dom: only the pid libvirt vouches for, from its pid file
 * (system or session daemon), and only when that process runs a QEMU
 * binary with "-uuid UUID" in its argv.  A stale pid file, a reused pid or
 * a local user's process that mentions the UUID is HV_ERROR_GUEST, never a
 * wrong answer: what we read is dumped as the guest's RAM. */
pid_t hv_libvirt_qemu_pid(virDomainPtr dom, GError **err);
/* The same checks on one pid file (owned by root or us, not writable by
 * group or others, not a symlink). */
pid_t hv_libvirt_pid_from_pidfile(const char *pidfile, const char *uuid, GError **err);

/* The path of the QMP socket libvirt gave QEMU pid (the listening Unix
 * socket named monitor.sock among the process's open files), for talking to
 * QEMU while libvirtd is down.  g_free() it. */
char *hv_libvirt_monitor_socket(pid_t pid, GError **err);

#endif
