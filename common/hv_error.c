/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/hv_error.h"

#include <errno.h>
#include <stdarg.h>

G_DEFINE_QUARK(hv-error-quark, hv_error)

HvErrorCode hv_error_code_from_errno(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return HV_ERROR_NOSPACE;
    case EPIPE:
        return HV_ERROR_PIPE;
    case EPERM:
    case EACCES:
        return HV_ERROR_PERMISSION;
    case EEXIST:
        return HV_ERROR_EXISTS;
    default:
        return HV_ERROR_IO;
    }
}

void hv_error_from_errno(GError **err, int e, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(err, HV_ERROR, hv_error_code_from_errno(e), msg);
    g_free(msg);
}

void hv_error_internal(GError **err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, HV_ERROR, HV_ERROR_INTERNAL, "internal error (a bug in hvdump): %s", msg);
    g_free(msg);
}
