/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One error type for the whole project: GLib's GError in the HV_ERROR domain.
 * Every fallible call takes a GError ** last and returns FALSE/NULL/-1 on
 * failure with a one-line message built where the failure is understood.
 *
 * Callers decide by the code, never by the message text: the code says what
 * kind of failure it is (what the caller can do about it), the message says
 * what happened.  Each public header says which codes its functions return. */
#ifndef HV_ERROR_H
#define HV_ERROR_H

#include <glib.h>

#define HV_ERROR (hv_error_quark())
GQuark hv_error_quark(void);

/* The numeric values are part of the interface (tests and the daemon's
 * callers compare them): new codes go at the end, none is ever renumbered. */
typedef enum {
    /* Nothing below fits: e.g. a library could not set up a context, or
     * hvdumpd is not connected to libvirt yet.  Retrying may help. */
    HV_ERROR_FAILED,
    /* A read, write, open, stat or rename failed for a reason no code below
     * names; errno's text is in the message. */
    HV_ERROR_IO,
    /* ENOSPC or EDQUOT on the output: freeing space and retrying helps. */
    HV_ERROR_NOSPACE,
    /* EPIPE: the reader of our output (a pipe, stdout) went away. */
    HV_ERROR_PIPE,
    /* An input file (vmcore, image) is malformed or truncated. */
    HV_ERROR_CORRUPT,
    /* Valid, but not something we handle (a page size over 64 KiB, a
     * libvirt driver other than QEMU, an unknown kdump compression). */
    HV_ERROR_UNSUPPORTED,
    /* Bad input from the user: an argument, an option, a config value, a
     * path, a file given as input that cannot be used as such.  Only for
     * that: the CLI exits 2 ("bad usage") on it.  A broken invariant inside
     * hvdump is HV_ERROR_INTERNAL, not this. */
    HV_ERROR_INVALID,
    /* SIGINT/SIGTERM/SIGHUP or an explicit cancel (hvdumpd's cancel). */
    HV_ERROR_CANCELLED,
    /* EPERM/EACCES, a refused libvirt operation, e.g. no CAP_SYS_PTRACE. */
    HV_ERROR_PERMISSION,
    /* The guest, QEMU or libvirt went away or misbehaved (bad QMP reply,
     * QEMU exited, the domain cannot be paused or resumed). */
    HV_ERROR_GUEST,
    /* A file or socket exists where we would create one (an output without
     * --force, a clashing sidecar, a spool path); EEXIST. */
    HV_ERROR_EXISTS,
    /* A dump of this domain is already running in hvdumpd: try again once it
     * has finished (hvdumpd answers class "Busy"). */
    HV_ERROR_BUSY,
    /* An invariant inside hvdump broke: a caller broke a function's contract
     * (pages out of order, a read outside the source's blocks).  A bug in
     * hvdump, never the user's fault; the message says so (set it with
     * hv_error_internal()) and the CLI exits 1. */
    HV_ERROR_INTERNAL,
    /* What the user named does not exist: no libvirt domain by that name,
     * UUID or id; no running dump with that id or of that domain. */
    HV_ERROR_NOT_FOUND,
} HvErrorCode;

/* The code for a failed system call's errno: ENOSPC/EDQUOT -> NOSPACE,
 * EPIPE -> PIPE, EPERM/EACCES -> PERMISSION, EEXIST -> EXISTS, anything
 * else (EIO, ENOENT, ...) -> IO. */
HvErrorCode hv_error_code_from_errno(int e);
/* Sets err to hv_error_code_from_errno(e) with the message fmt (which says
 * g_strerror(e) itself where it wants it; e is not appended).  Does nothing
 * when err is NULL. */
void hv_error_from_errno(GError **err, int e, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Sets err to HV_ERROR_INTERNAL with "internal error (a bug in hvdump): "
 * before fmt's message. */
void hv_error_internal(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
