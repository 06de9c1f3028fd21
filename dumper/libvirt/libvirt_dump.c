/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dumping a libvirt domain (see libvirt_dump.h): discovery before the guest
 * is touched, the guardian armed before it is paused, and the guest resumed
 * as soon as its memory has been read, before the output is finished. */
#include "dumper/libvirt/libvirt_dump.h"

#include <string.h>

#include "dumper/engine/guardian.h"
#include "dumper/engine/guest_meta.h"
#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/libvirt/libvirt_monitor.h"
#include "common/hv_error.h"
#include "common/page.h"
#include "formats/vmcoreinfo.h"
#include "guest-mem/source_qemu.h"

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
        g_printerr("hvdump: %s: libvirtd was unreachable; resumed the guest through "
                   "QEMU's monitor socket (libvirt sees it running once it reconnects)\n",
                   virDomainGetName(t->dom));
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

struct resume_ctx {
    struct hv_libvirt_target *t;
    struct hv_guardian *guardian;
    GError *resume_err;       /* the dump is good, the guest still paused */
};

static void resume_when_read(void *ud)
{
    struct resume_ctx *rc = ud;
    if (hv_libvirt_target_resume(rc->t, &rc->resume_err))
        hv_guardian_release(rc->guardian);
    note_resume_path(rc->t);
}

static void arm_guardian(void *ud)
{
    hv_guardian_arm(ud);
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

static char *kernel_release_of(const struct hv_guest_meta *gm)
{
    if (gm->meta.uts.release[0])
        return g_strndup(gm->meta.uts.release, sizeof gm->meta.uts.release);
    if (gm->meta.vmcoreinfo)
        return hv_vmcoreinfo_get(gm->meta.vmcoreinfo, gm->meta.vmcoreinfo_len, "OSRELEASE");
    return NULL;
}

gboolean hv_libvirt_dump(virDomainPtr dom, const struct hv_libvirt_dump_opts *opts,
                         struct hv_libvirt_dump_result *res, GError **err)
{
    struct hv_libvirt_target t;
    struct hv_guest_meta gm;
    gboolean ok = FALSE, have_meta = FALSE;
    struct gm_source *src = NULL;
    GArray *cpus = NULL;
    struct hv_guardian guardian = {.pid = 0, .fd = -1};

    memset(res, 0, sizeof *res);
    hv_libvirt_target_from_domain(&t, dom);
    if (!hv_libvirt_check_dumpable(dom, NULL, err))
        goto out;
    /* Discovery first: it does not change the guest, and a missing
     * privilege shows up before the guest is stopped. */
    src = gm_source_qemu_open(t.mon, HV_PAGE_SIZE, err);
    if (!src)
        goto out;
    for (size_t i = 0; i < src->n_blocks; i++)
        res->guest_bytes += src->blocks[i].size;
    if (!opts->live && opts->guardian) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        g_autofree char *partial = hv_job_partial_path(&opts->job);
        if (virDomainGetUUIDString(dom, uuid) < 0) {
            hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain's UUID");
            goto out;
        }
        if (!hv_guardian_start_libvirt(&guardian, opts->uri, uuid, partial, err))
            goto out;
        t.pause.before_suspend = arm_guardian;
        t.pause.before_suspend_ud = &guardian;
    }
    if (!opts->live && !hv_libvirt_target_pause(&t, err))
        goto out;
    int64_t now = g_get_real_time();
    cpus = gm_qemu_read_cpus(t.mon, err);
    if (!cpus)
        goto out;
    hv_guest_meta_init(&gm, src->page_size);
    have_meta = TRUE;
    if (!hv_guest_meta_fill(&gm, src, NULL, err))
        goto out;
    hv_guest_meta_set_cpus(&gm, (const struct hv_cpu_state *)(void *)cpus->data, cpus->len);
    gm.meta.live = opts->live;
    gm.meta.timestamp_sec = now / G_USEC_PER_SEC;
    gm.meta.timestamp_usec = now % G_USEC_PER_SEC;
    if (gm.warning)
        g_printerr("hvdump: %s: warning: %s\n", virDomainGetName(dom), gm.warning);
    res->kernel_release = kernel_release_of(&gm);

    struct resume_ctx rc = { &t, &guardian, NULL };
    struct hv_job_opts jo = opts->job;
    jo.source_done = resume_when_read;
    jo.source_done_ud = &rc;
    ok = hv_job_run(src, &gm.meta, &jo, &res->job, err);
    if (rc.resume_err) {
        /* As `hvdump dump --qmp`: the file stays, the exit status says the
         * guest needs the operator. */
        if (ok)
            g_propagate_prefixed_error(err, rc.resume_err, "dump written, but ");
        else {
            g_printerr("hvdump: warning: %s\n", rc.resume_err->message);
            g_error_free(rc.resume_err);
        }
        ok = FALSE;
    }
out:
    /* Resume before anything else goes away: the guest matters most. */
    hv_libvirt_target_close(&t);
    hv_guardian_release(&guardian);
    if (have_meta)
        hv_guest_meta_clear(&gm);
    if (cpus)
        g_array_unref(cpus);
    gm_source_close(src);
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
