/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One error type for the whole project: GLib's GError in the HV_ERROR domain.
 * Every fallible call takes a GError ** last and returns FALSE/NULL/-1 on
 * failure with a one-line message built where the failure is understood. */
#ifndef HV_ERROR_H
#define HV_ERROR_H

#include <glib.h>

#define HV_ERROR (hv_error_quark())
GQuark hv_error_quark(void);

typedef enum {
    HV_ERROR_FAILED,      /* anything not covered below */
    HV_ERROR_IO,          /* read/write/open failed (errno in the message) */
    HV_ERROR_NOSPACE,     /* ENOSPC / EDQUOT on the output */
    HV_ERROR_PIPE,        /* the reader of our output went away (EPIPE) */
    HV_ERROR_CORRUPT,     /* an input file is malformed or truncated */
    HV_ERROR_UNSUPPORTED, /* valid but not something we handle */
    HV_ERROR_INVALID,     /* bad argument from the user */
    HV_ERROR_CANCELLED,   /* SIGINT/SIGTERM/SIGHUP or an explicit cancel */
    HV_ERROR_PERMISSION,  /* EPERM/EACCES, e.g. no CAP_SYS_PTRACE */
    HV_ERROR_GUEST,       /* the guest/QEMU went away or misbehaved */
    HV_ERROR_EXISTS,      /* output exists and --force was not given */
} HvErrorCode;

#endif
