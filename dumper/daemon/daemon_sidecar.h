/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON sidecar next to each dump in the spool, and the guest facts it
 * carries that do not come from the dump itself (the panic message, read
 * from the guest's console log file when libvirt writes one). */
#ifndef HV_DAEMON_SIDECAR_H
#define HV_DAEMON_SIDECAR_H

#include <glib.h>
#include <stdint.h>

struct hvd_sidecar {
    const char *domain;
    const char *uuid;
    const char *trigger;        /* "crash" or "request" */
    const char *format;
    const char *dump_path;
    int64_t start_usec, end_usec; /* wall clock */
    uint64_t dump_bytes;
    uint64_t guest_bytes;       /* 0 when unknown */
    const char *kernel_release; /* NULL when unknown */
    const char *panic_message;  /* NULL when unknown */
    /* The guest's VMCOREINFO (and so kernel_release) could not be
     * confirmed: written as "vmcoreinfo_untrusted": true. */
    gboolean vmcoreinfo_untrusted;
    /* The QEMU process that was dumped (pid and start time in clock ticks
     * since boot, /proc/PID/stat): one crash is one process, so a crash
     * found again after a restart of hvdumpd is known as collected.  0 when
     * unknown. */
    int64_t qemu_pid;
    uint64_t qemu_start;
};

/* Writes the sidecar (atomically), including the SHA-256 of the dump file.
 * Guest-supplied strings are made safe (common/text_safe.h) on the way. */
gboolean hvd_sidecar_write(const char *path, const struct hvd_sidecar *s, GError **err);
char *hvd_sha256_file(const char *path, GError **err);

/* The start time of a process (clock ticks since boot), 0 when unknown. */
uint64_t hvd_process_start_time(int64_t pid);
/* Whether the sidecar at path records a crash dump of that QEMU process. */
gboolean hvd_sidecar_is_crash_of(const char *path, int64_t qemu_pid, uint64_t qemu_start);

/* The last max bytes of a console log file (NUL-terminated, g_free), read
 * only if it is a regular file and not through a symlink; never blocks. */
char *hvd_console_tail(const char *path, size_t max, GError **err);
/* The last "Kernel panic - not syncing: ..." message in a console log, or
 * NULL. */
char *hvd_panic_message_from_log(const char *text, size_t len);
/* The path of the first <serial>/<console> of type 'file' in a domain XML,
 * or NULL. */
char *hvd_console_log_path(const char *domain_xml);

#endif
