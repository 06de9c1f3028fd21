/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Connecting to libvirt and looking up the domain to dump (see
 * libvirt_conn.h).  libvirt's own error printing is switched off so that
 * every failure reaches the user once, as a one-line GError. */
#include "dumper/libvirt/libvirt_conn.h"

#include <stdlib.h>
#include <string.h>

#include "common/hv_error.h"

const char *hv_libvirt_default_uri(void)
{
    const char *env = g_getenv("LIBVIRT_DEFAULT_URI");
    return env && *env ? env : "qemu:///system";
}

/* libvirt prints every error to stderr by default; we report them ourselves
 * through GError, once, with context. */
static void quiet_errors(void *ud, virErrorPtr e)
{
    (void)ud;
    (void)e;
}

void hv_libvirt_error(GError **err, int code, const char *what)
{
    virErrorPtr e = virGetLastError();
    const char *msg = e && e->message ? e->message : "unknown libvirt error";
    g_set_error(err, HV_ERROR, code, "%s: %s", what, msg);
    virResetLastError();
}

static int code_for_virerror(void)
{
    virErrorPtr e = virGetLastError();
    if (!e)
        return HV_ERROR_FAILED;
    switch (e->code) {
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_ACCESS_DENIED:
    case VIR_ERR_OPERATION_DENIED:
        return HV_ERROR_PERMISSION;
    case VIR_ERR_NO_DOMAIN:
        return HV_ERROR_NOT_FOUND;
    case VIR_ERR_OPERATION_INVALID:
        return HV_ERROR_INVALID;
    default:
        return HV_ERROR_FAILED;
    }
}

virConnectPtr hv_libvirt_connect(const char *uri, GError **err)
{
    static gsize inited;
    if (g_once_init_enter(&inited)) {
        virSetErrorFunc(NULL, quiet_errors);
        g_once_init_leave(&inited, 1);
    }
    if (!uri)
        uri = hv_libvirt_default_uri();

    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        char *what = g_strdup_printf("cannot connect to libvirt at %s", uri);
        hv_libvirt_error(err, code_for_virerror(), what);
        g_free(what);
        return NULL;
    }
    const char *type = virConnectGetType(conn);
    if (!type || g_ascii_strcasecmp(type, "QEMU") != 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "%s is the %s driver; hvdump needs the QEMU driver",
                    uri, type ? type : "unknown");
        virConnectClose(conn);
        return NULL;
    }
    return conn;
}

static gboolean all_digits(const char *s)
{
    if (!*s)
        return FALSE;
    for (; *s; s++)
        if (!g_ascii_isdigit(*s))
            return FALSE;
    return TRUE;
}

virDomainPtr hv_libvirt_lookup(virConnectPtr conn, const char *which, GError **err)
{
    virDomainPtr dom = NULL;

    if (!which || !*which) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "no domain given");
        return NULL;
    }
    /* A UUID or an id is tried first; a domain may still be named like one,
     * so the name lookup always comes last. */
    if (strlen(which) == VIR_UUID_STRING_BUFLEN - 1)
        dom = virDomainLookupByUUIDString(conn, which);
    if (!dom && all_digits(which) && strlen(which) < 10)
        dom = virDomainLookupByID(conn, atoi(which));
    if (!dom)
        dom = virDomainLookupByName(conn, which);
    virResetLastError();
    if (!dom) {
        g_set_error(err, HV_ERROR, HV_ERROR_NOT_FOUND,
                    "domain '%s' not found (by name, UUID or id)", which);
        return NULL;
    }
    return dom;
}

const char *hv_libvirt_state_name(int state)
{
    switch (state) {
    case VIR_DOMAIN_NOSTATE: return "nostate";
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutting-down";
    case VIR_DOMAIN_SHUTOFF: return "shut-off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    default: return "unknown";
    }
}

gboolean hv_libvirt_check_dumpable(virDomainPtr dom, int *state_out, GError **err)
{
    int state = VIR_DOMAIN_NOSTATE, reason = 0;

    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        char *what = g_strdup_printf("cannot get the state of domain '%s'",
                                     virDomainGetName(dom));
        hv_libvirt_error(err, HV_ERROR_GUEST, what);
        g_free(what);
        return FALSE;
    }
    if (state_out)
        *state_out = state;
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_CRASHED:
    case VIR_DOMAIN_SHUTDOWN:
        /* A QEMU process exists; a crashed domain exists only with
         * <on_crash>preserve</on_crash>, otherwise it is shut off. */
        if (virDomainIsActive(dom) == 1)
            return TRUE;
        break;
    default:
        break;
    }
    g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                "domain '%s' is not running (state: %s)",
                virDomainGetName(dom), hv_libvirt_state_name(state));
    return FALSE;
}

virDomainPtr hv_libvirt_domain_reopen(virDomainPtr dom, unsigned wait_ms, GError **err)
{
    virConnectPtr old = virDomainGetConnect(dom);
    if (virConnectIsAlive(old) == 1) {
        virDomainRef(dom);
        return dom;
    }
    virResetLastError();
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *u = virConnectGetURI(old);
    g_autofree char *uri = g_strdup(u ? u : hv_libvirt_default_uri());
    free(u);
    if (virDomainGetUUIDString(dom, uuid) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain's UUID");
        return NULL;
    }
    gint64 deadline = g_get_monotonic_time() + wait_ms * (gint64)1000;
    for (;;) {
        /* The domain keeps its own reference on the connection. */
        virConnectPtr conn = virConnectOpen(uri);
        virDomainPtr nd = conn ? virDomainLookupByUUIDString(conn, uuid) : NULL;
        virErrorPtr e = virGetLastError();
        gboolean gone = conn && !nd && e && e->code == VIR_ERR_NO_DOMAIN;
        g_autofree char *why = g_strdup(e && e->message ? e->message : "unknown libvirt error");
        /* virConnectClose() resets libvirt's last error: read it first. */
        if (conn)
            virConnectClose(conn);
        virResetLastError();
        if (nd)
            return nd;
        if (gone || g_get_monotonic_time() >= deadline) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "%s domain '%s': %s",
                        gone ? "cannot find" : "libvirtd unreachable for",
                        virDomainGetName(dom), why);
            return NULL;
        }
        g_usleep(500 * 1000);
    }
}
