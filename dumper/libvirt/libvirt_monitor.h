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

/* QEMU's pid for dom: libvirt's pid file when its QEMU process carries the
 * domain's UUID on its command line, else a scan of /proc for that UUID.
 * The UUID check makes a stale pid file (or a pid reused by another
 * process) an error instead of a wrong answer. */
pid_t hv_libvirt_qemu_pid(virDomainPtr dom, GError **err);

/* The path of the QMP socket libvirt gave QEMU pid (the listening Unix
 * socket named monitor.sock among the process's open files), for talking to
 * QEMU while libvirtd is down.  g_free() it. */
char *hv_libvirt_monitor_socket(pid_t pid, GError **err);

#endif
