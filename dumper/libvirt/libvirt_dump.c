/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/libvirt/libvirt_dump.h"

#include <string.h>

#include "dumper/engine/guardian.h"
#include "dumper/engine/session.h"
#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/libvirt/libvirt_monitor.h"
#include "common/hv_error.h"

gboolean hv_libvirt_target_open(struct hv_libvirt_target *t, const char *uri,
                                const char *domain, GError **err)
{
    memset(t, 0, sizeof *t);
    t->conn = hv_libvirt_connect(uri, err);
    if (!t->conn)
        return FALSE;
    t->dom = hv_libvirt_lookup(t->conn, domain, err);
    if (!t->dom || !hv_libvirt_check_dumpable(t->dom, NULL, err)) {
        hv_libvirt_target_close(t);
        return FALSE;
    }
    t->mon = hv_libvirt_monitor_new(t->dom);
    return TRUE;
}

void hv_libvirt_target_from_domain(struct hv_libvirt_target *t, virDomainPtr dom)
{
    memset(t, 0, sizeof *t);
    t->conn = virDomainGetConnect(dom);
    virConnectRef(t->conn);
    virDomainRef(dom);
    t->dom = dom;
    t->mon = hv_libvirt_monitor_new(dom);
}

gboolean hv_libvirt_target_pause(struct hv_libvirt_target *t, GError **err)
{
    return hv_libvirt_pause_begin(&t->pause, t->dom, err);
}

gboolean hv_libvirt_target_resume(struct hv_libvirt_target *t, GError **err)
{
    return hv_libvirt_pause_end(&t->pause, err);
}

/* One line when libvirtd was down and QEMU's monitor did the resume. */
static void note_resume_path(const struct hv_libvirt_target *t)
{
    if (t->pause.resumed_via_qemu)
        g_printerr("hvdump: %s: %s\n", virDomainGetName(t->dom), HV_LIBVIRT_RESUMED_VIA_QEMU);
}

void hv_libvirt_target_close(struct hv_libvirt_target *t)
{
    if (t->pause.we_paused) {
        g_autoptr(GError) e = NULL;
        if (!hv_libvirt_pause_end(&t->pause, &e))
            g_printerr("hvdump: warning: %s\n", e->message);
        note_resume_path(t);
    }
    g_clear_pointer(&t->pause.uri, g_free);
    hv_libvirt_monitor_free(t->mon);
    if (t->dom)
        virDomainFree(t->dom);
    if (t->conn)
        virConnectClose(t->conn);
    memset(t, 0, sizeof *t);
}

void hv_libvirt_dump_result_clear(struct hv_libvirt_dump_result *r)
{
    g_clear_pointer(&r->kernel_release, g_free);
}

/* hvdumpd's stderr: each line names the domain it is about. */
static void report_for_domain(void *ud, const char *line)
{
    g_printerr("hvdump: %s: %s\n", virDomainGetName(ud), line);
}

/* hvdump died holding the domain paused: resume it if it is still paused
 * by a user request (ours), not if it crashed or was stopped otherwise. */
void hv_libvirt_guardian_rescue(const char *uri, const char *uuid)
{
    virConnectPtr conn = virConnectOpen(uri);
    virDomainPtr dom = conn ? virDomainLookupByUUIDString(conn, uuid) : NULL;
    int state = 0, reason = 0;
    if (dom && virDomainGetState(dom, &state, &reason, 0) == 0 &&
        state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_USER)
        g_printerr("hvdump: guardian: hvdump died; %s\n",
                   virDomainResume(dom) == 0 ? "domain resumed" : "could not resume the domain");
    else if (!dom)
        g_printerr("hvdump: guardian: hvdump died and domain %s could not be reached; "
                   "it may still be paused\n", uuid);
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
}

gboolean hv_libvirt_dump(virDomainPtr dom, const struct hv_libvirt_dump_opts *opts,
                         struct hv_libvirt_dump_result *res, GError **err)
{
    struct hv_libvirt_target t;
    struct hv_session_result sr = {0};
    struct hv_session_guest guest = {0};
    gboolean ok = FALSE;

    memset(res, 0, sizeof *res);
    hv_libvirt_target_from_domain(&t, dom);
    if (!hv_libvirt_check_dumpable(dom, NULL, err))
        goto out;
    if (!opts->live && opts->guardian) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virDomainGetUUIDString(dom, uuid) < 0) {
            hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain's UUID");
            goto out;
        }
        guest.guard = hv_guardian_guard_libvirt(opts->uri, uuid);
    }
    guest.mon = t.mon;
    guest.pauser = hv_libvirt_pauser_new(dom);
    struct hv_session_opts so = {
        .job = opts->job,
        .live = opts->live,
        .vmcoreinfo = opts->vmcoreinfo,
        .report = opts->report ? opts->report : report_for_domain,
        .report_ud = opts->report ? opts->report_ud : (void *)dom,
    };
    ok = hv_session_run(&guest, &so, &sr, err);
    res->job = sr.job;
    res->guest_bytes = sr.guest_bytes;
    res->kernel_release = g_steal_pointer(&sr.kernel_release);
    res->vmcoreinfo_untrusted = sr.vmcoreinfo_untrusted;
    res->written = sr.written;
    hv_session_result_clear(&sr);
out:
    hv_pauser_free(guest.pauser);
    hv_guard_free(guest.guard);
    hv_libvirt_target_close(&t);
    return ok;
}

gboolean hv_libvirt_dump_by_name(const char *uri, const char *domain,
                                 const struct hv_libvirt_dump_opts *opts,
                                 struct hv_libvirt_dump_result *res, GError **err)
{
    struct hv_libvirt_target t;

    memset(res, 0, sizeof *res);
    if (!hv_libvirt_target_open(&t, uri, domain, err))
        return FALSE;
    gboolean ok = hv_libvirt_dump(t.dom, opts, res, err);
    hv_libvirt_target_close(&t);
    return ok;
}
