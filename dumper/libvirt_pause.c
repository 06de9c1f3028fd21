/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/libvirt_pause.h"

#include "dumper/libvirt_conn.h"
#include "formats/hv_error.h"

gboolean hv_libvirt_pause_begin(struct hv_libvirt_pause *p, virDomainPtr dom,
                                GError **err)
{
    int state = 0, reason = 0;

    p->dom = NULL;
    p->we_paused = FALSE;
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain state");
        return FALSE;
    }
    if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_BLOCKED)
        return TRUE;
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

gboolean hv_libvirt_pause_end(struct hv_libvirt_pause *p, GError **err)
{
    gboolean ok = TRUE;

    if (!p->we_paused)
        return TRUE;
    p->we_paused = FALSE;
    int state = 0, reason = 0;
    /* Someone may have resumed or destroyed it meanwhile: only a domain that
     * is still paused is resumed. */
    if (virDomainGetState(p->dom, &state, &reason, 0) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot resume the domain");
        ok = FALSE;
    } else if (state == VIR_DOMAIN_PAUSED && virDomainResume(p->dom) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot resume the domain");
        ok = FALSE;
    }
    virDomainFree(p->dom);
    p->dom = NULL;
    return ok;
}
