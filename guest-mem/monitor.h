/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A way to ask QEMU things: its QMP socket directly (guest-mem/qmp.c) or
 * libvirt's virDomainQemuMonitorCommand (dumper/libvirt_monitor.c).  Discovery
 * (guest-mem/source_qemu.c) only needs these three calls. */
#ifndef GM_MONITOR_H
#define GM_MONITOR_H

#include <glib.h>
#include <sys/types.h>

struct gm_monitor;

struct gm_monitor_ops {
    /* Runs an HMP command line (via QMP human-monitor-command); returns its
     * text output (g_free) or NULL with err. */
    char *(*hmp)(struct gm_monitor *m, const char *command_line, GError **err);
    /* Runs a QMP command given as a JSON object text, e.g.
     * {"execute":"query-status"}; returns the JSON text of "return" (g_free)
     * or NULL with err (QMP's error class and desc in the message). */
    char *(*qmp)(struct gm_monitor *m, const char *command_json, GError **err);
    /* QEMU's process id, or -1 with err. */
    pid_t (*pid)(struct gm_monitor *m, GError **err);
};

struct gm_monitor {
    const struct gm_monitor_ops *ops;
};

#endif
