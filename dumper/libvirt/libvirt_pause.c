/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pausing a domain through libvirt and resuming it (see libvirt_pause.h).
 * Resuming must not give up easily: when libvirtd is gone or restarting it
 * retries over a new connection and, once no libvirt daemon is left, sends
 * "cont" on QEMU's own monitor socket, until QEMU is gone or a deadline
 * passes. */
#include "dumper/libvirt/libvirt_pause.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/libvirt/libvirt_monitor.h"
#include "common/hv_error.h"
#include "guest-mem/qmp.h"
#include "guest-mem/source_qemu.h"

#define RETRY_MS 500
#define QMP_TIMEOUT_MS 1000

gboolean hv_libvirt_pause_begin(struct hv_libvirt_pause *p, virDomainPtr dom,
                                GError **err)
{
    int state = 0, reason = 0;

    p->dom = NULL;
    p->we_paused = FALSE;
    p->resumed_via_qemu = FALSE;
    g_clear_pointer(&p->uri, g_free);
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain state");
        return FALSE;
    }
    if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_BLOCKED)
        return TRUE;
    /* Taken now, while the connection works: it is what we reconnect to. */
    char *uri = virConnectGetURI(virDomainGetConnect(dom));
    p->uri = g_strdup(uri ? uri : hv_libvirt_default_uri());
    free(uri);
    virResetLastError();
    if (p->before_suspend)
        p->before_suspend(p->before_suspend_ud);
    if (virDomainSuspend(dom) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot pause the domain");
        return FALSE;
    }
    virDomainRef(dom);
    p->dom = dom;
    p->we_paused = TRUE;
    return TRUE;
}

enum attempt { RESUMED, GONE, FAILED, UNREACHABLE };

/* After a failed call on dom: is the domain gone, is libvirtd out of
 * reach, or did libvirt refuse? */
static enum attempt classify_failure(virDomainPtr dom, char **why)
{
    virErrorPtr e = virGetLastError();
    int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;
    g_free(*why);
    *why = g_strdup(e && e->message ? e->message : "unknown libvirt error");
    virResetLastError();
    /* Destroyed between our state check and the resume: "not running". */
    if (code == VIR_ERR_NO_DOMAIN ||
        (code == VIR_ERR_OPERATION_INVALID && virDomainIsActive(dom) != 1)) {
        virResetLastError();
        return GONE;
    }
    if (virConnectIsAlive(virDomainGetConnect(dom)) != 1) {
        virResetLastError();
        return UNREACHABLE;
    }
    return FAILED;
}

/* Resumes dom when it is still paused: someone may have resumed or
 * destroyed it meanwhile. */
static enum attempt resume_through(virDomainPtr dom, char **why)
{
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return classify_failure(dom, why);
    if (state == VIR_DOMAIN_SHUTOFF)
        return GONE;
    if (state != VIR_DOMAIN_PAUSED)
        return RESUMED;
    if (virDomainResume(dom) < 0)
        return classify_failure(dom, why);
    return RESUMED;
}

/* A new connection to the same libvirtd, the same domain by UUID. */
static enum attempt resume_reconnected(const char *uri, const char *uuid, char **why)
{
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        virErrorPtr e = virGetLastError();
        g_free(*why);
        *why = g_strdup(e && e->message ? e->message : "cannot connect");
        virResetLastError();
        return UNREACHABLE;
    }
    enum attempt r;
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    if (!dom) {
        /* Not found on a live libvirtd: gone.  Anything else: try again. */
        virErrorPtr e = virGetLastError();
        r = e && e->code == VIR_ERR_NO_DOMAIN ? GONE : UNREACHABLE;
        g_free(*why);
        *why = g_strdup(e && e->message ? e->message : "domain lookup failed");
    } else {
        r = resume_through(dom, why);
        virDomainFree(dom);
    }
    virConnectClose(conn);
    virResetLastError();
    return r;
}

/* Is a libvirt daemon process there at all (perhaps starting up)?  One
 * that is reconnecting to its domains kills a domain whose monitor it
 * cannot open, so the monitor is left alone while one exists. */
static gboolean libvirt_daemon_present(void)
{
    GDir *d = g_dir_open("/proc", 0, NULL);
    const char *n;
    gboolean found = FALSE;
    if (!d)
        return TRUE; /* cannot tell: assume so, and wait for it */
    while (!found && (n = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(n[0]))
            continue;
        g_autofree char *path = g_strdup_printf("/proc/%s/comm", n);
        g_autofree char *comm = NULL;
        if (g_file_get_contents(path, &comm, NULL, NULL)) {
            g_strchomp(comm);
            found = strcmp(comm, "libvirtd") == 0 || strcmp(comm, "virtqemud") == 0;
        }
    }
    g_dir_close(d);
    return found;
}

/* libvirtd is down: QEMU's monitor socket is free then (QEMU serves one
 * client, and that was libvirtd).  "cont" only a guest that is paused. */
static enum attempt resume_via_qmp(pid_t pid, char **why)
{
    GError *e = NULL;
    if (libvirt_daemon_present()) {
        g_free(*why);
        *why = g_strdup("libvirtd is starting up (its monitor socket is left to it)");
        return UNREACHABLE;
    }
    g_autofree char *path = hv_libvirt_monitor_socket(pid, &e);
    struct qmp_client *c = path ? qmp_connect(path, QMP_TIMEOUT_MS, &e) : NULL;
    enum attempt r = UNREACHABLE;
    if (c) {
        JsonNode *st = qmp_execute(c, "query-status", NULL, &e);
        if (st) {
            const char *status = JSON_NODE_HOLDS_OBJECT(st)
                ? json_object_get_string_member_with_default(json_node_get_object(st),
                                                             "status", "")
                : "";
            if (g_strcmp0(status, "paused") != 0) {
                r = RESUMED; /* running already, or held by a crash: not ours */
            } else {
                JsonNode *ret = qmp_execute(c, "cont", NULL, &e);
                if (ret) {
                    r = RESUMED;
                    json_node_unref(ret);
                }
            }
            json_node_unref(st);
        }
        qmp_close(c);
    }
    if (e) {
        g_free(*why);
        *why = g_strdup_printf("QEMU's monitor socket: %s", e->message);
        g_error_free(e);
    }
    return r;
}

static gboolean resume_the_hard_way(struct hv_libvirt_pause *p, char **why, GError **err)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *name = virDomainGetName(p->dom);
    if (virDomainGetUUIDString(p->dom, uuid) < 0)
        uuid[0] = '\0';
    GError *pe = NULL;
    pid_t pid = hv_libvirt_qemu_pid(p->dom, &pe);
    g_clear_error(&pe);
    if (pid <= 0)
        return TRUE; /* no QEMU process: nothing left to resume */

    gint64 deadline = g_get_monotonic_time() + HV_LIBVIRT_RESUME_WAIT_MS * (gint64)1000;
    for (;;) {
        enum attempt r = uuid[0] ? resume_reconnected(p->uri, uuid, why) : UNREACHABLE;
        if (r == RESUMED || r == GONE)
            return TRUE;
        if (r == UNREACHABLE && resume_via_qmp(pid, why) == RESUMED) {
            p->resumed_via_qemu = TRUE;
            return TRUE;
        }
        if (!gm_qemu_alive(pid))
            return TRUE;
        if (g_get_monotonic_time() >= deadline)
            break;
        g_usleep(RETRY_MS * 1000);
    }
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                "domain '%s' is still paused: libvirtd at %s cannot resume it (%s); "
                "run 'virsh resume %s' once libvirtd is back",
                name, p->uri, *why ? *why : "unreachable", name);
    return FALSE;
}

gboolean hv_libvirt_pause_end(struct hv_libvirt_pause *p, GError **err)
{
    if (!p->we_paused)
        return TRUE;
    p->we_paused = FALSE;
    g_autofree char *why = NULL;
    gboolean ok = TRUE;
    switch (resume_through(p->dom, &why)) {
    case RESUMED:
    case GONE:
        break;
    case FAILED:
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "cannot resume domain '%s': %s",
                    virDomainGetName(p->dom), why);
        ok = FALSE;
        break;
    case UNREACHABLE:
        /* libvirtd died or restarted while we held the guest. */
        ok = resume_the_hard_way(p, &why, err);
        break;
    }
    virDomainFree(p->dom);
    p->dom = NULL;
    g_clear_pointer(&p->uri, g_free);
    return ok;
}

struct libvirt_pauser {
    struct hv_pauser base;
    virDomainPtr dom;
    struct hv_libvirt_pause pause;
};

static gboolean libvirt_pauser_begin(struct hv_pauser *p, GError **err)
{
    struct libvirt_pauser *lp = (struct libvirt_pauser *)p;
    lp->pause.before_suspend = p->before_pause;
    lp->pause.before_suspend_ud = p->before_pause_ud;
    return hv_libvirt_pause_begin(&lp->pause, lp->dom, err);
}

static gboolean libvirt_pauser_end(struct hv_pauser *p, GError **err)
{
    return hv_libvirt_pause_end(&((struct libvirt_pauser *)p)->pause, err);
}

static gboolean libvirt_pauser_paused_by_us(const struct hv_pauser *p)
{
    return ((const struct libvirt_pauser *)p)->pause.we_paused;
}

static const char *libvirt_pauser_describe(const struct hv_pauser *p)
{
    if (!((const struct libvirt_pauser *)p)->pause.resumed_via_qemu)
        return NULL;
    return HV_LIBVIRT_RESUMED_VIA_QEMU;
}

/* Only what libvirt positively says: with libvirtd unreachable (it may be
 * restarting) nothing is known, and nothing is claimed. */
static gboolean libvirt_pauser_guest_shut_down(struct hv_pauser *p)
{
    struct libvirt_pauser *lp = (struct libvirt_pauser *)p;
    int state = 0, reason = 0;
    gboolean down;
    if (virDomainGetState(lp->dom, &state, &reason, 0) < 0) {
        virErrorPtr e = virGetLastError();
        down = e && e->code == VIR_ERR_NO_DOMAIN;
    } else {
        down = state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_SHUTDOWN;
    }
    virResetLastError();
    return down;
}

static void libvirt_pauser_free(struct hv_pauser *p)
{
    struct libvirt_pauser *lp = (struct libvirt_pauser *)p;
    if (lp->pause.dom)
        virDomainFree(lp->pause.dom);
    g_free(lp->pause.uri);
    virDomainFree(lp->dom);
    g_free(lp);
}

static const struct hv_pauser_ops libvirt_pauser_ops = {
    .begin = libvirt_pauser_begin,
    .end = libvirt_pauser_end,
    .paused_by_us = libvirt_pauser_paused_by_us,
    .describe = libvirt_pauser_describe,
    .guest_shut_down = libvirt_pauser_guest_shut_down,
    .free = libvirt_pauser_free,
};

struct hv_pauser *hv_libvirt_pauser_new(virDomainPtr dom)
{
    struct libvirt_pauser *lp = g_new0(struct libvirt_pauser, 1);
    lp->base.ops = &libvirt_pauser_ops;
    virDomainRef(dom);
    lp->dom = dom;
    return &lp->base;
}
