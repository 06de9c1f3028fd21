/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/libvirt_monitor.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>

#include "dumper/libvirt_conn.h"
#include "formats/hv_error.h"
#include "guest-mem/qmp_msg.h"

struct lv_monitor {
    struct gm_monitor base;
    virDomainPtr dom;
};

static virDomainPtr dom_of(struct gm_monitor *m)
{
    return ((struct lv_monitor *)m)->dom;
}

static char *lv_hmp(struct gm_monitor *m, const char *line, GError **err)
{
    char *out = NULL;
    if (virDomainQemuMonitorCommand(dom_of(m), line, &out,
                                    VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0) {
        char *what = g_strdup_printf("HMP '%s' via libvirt failed", line);
        hv_libvirt_error(err, HV_ERROR_GUEST, what);
        g_free(what);
        return NULL;
    }
    /* Give back GLib-allocated memory: callers g_free() it. */
    char *ret = g_strdup(out ? out : "");
    free(out);
    return ret;
}

/* libvirt hands back QMP's whole reply object; callers want "return".
 * qmp_msg_parse() type-checks it like a reply read from QEMU directly. */
static char *reply_return(const char *reply, GError **err)
{
    struct qmp_msg m;
    char *ret = NULL;

    if (!qmp_msg_parse(reply, &m, err)) {
        g_prefix_error(err, "QMP reply from libvirt: ");
        return NULL;
    }
    if (m.kind == QMP_MSG_RETURN)
        ret = json_to_string(m.ret, FALSE);
    else if (m.kind == QMP_MSG_ERROR)
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QMP error %s: %s", m.error_class,
                    m.error_desc);
    else
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QMP reply without return or error");
    qmp_msg_clear(&m);
    return ret;
}

static char *lv_qmp(struct gm_monitor *m, const char *json, GError **err)
{
    char *out = NULL;
    if (virDomainQemuMonitorCommand(dom_of(m), json, &out, 0) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "QMP command via libvirt failed");
        return NULL;
    }
    char *ret = reply_return(out, err);
    free(out);
    return ret;
}

static pid_t lv_pid(struct gm_monitor *m, GError **err)
{
    return hv_libvirt_qemu_pid(dom_of(m), err);
}

static const struct gm_monitor_ops lv_ops = {
    .hmp = lv_hmp,
    .qmp = lv_qmp,
    .pid = lv_pid,
};

struct gm_monitor *hv_libvirt_monitor_new(virDomainPtr dom)
{
    struct lv_monitor *lm = g_new0(struct lv_monitor, 1);
    lm->base.ops = &lv_ops;
    virDomainRef(dom);
    lm->dom = dom;
    return &lm->base;
}

void hv_libvirt_monitor_free(struct gm_monitor *m)
{
    if (!m)
        return;
    struct lv_monitor *lm = (struct lv_monitor *)m;
    virDomainFree(lm->dom);
    g_free(lm);
}

/* TRUE when /proc/pid/cmdline has the argument `uuid` (libvirt always
 * passes -uuid <domain uuid> to QEMU). */
static gboolean cmdline_has_uuid(pid_t pid, const char *uuid)
{
    char path[64];
    g_autofree char *buf = NULL;
    gsize len = 0;

    g_snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (!g_file_get_contents(path, &buf, &len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i += strlen(buf + i) + 1)
        if (strcmp(buf + i, uuid) == 0)
            return TRUE;
    return FALSE;
}

static pid_t pid_from_file(const char *path)
{
    g_autofree char *txt = NULL;
    if (!g_file_get_contents(path, &txt, NULL, NULL))
        return -1;
    long v = strtol(txt, NULL, 10);
    return v > 0 ? (pid_t)v : -1;
}

pid_t hv_libvirt_qemu_pid(virDomainPtr dom, GError **err)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *name = virDomainGetName(dom);

    if (virDomainGetUUIDString(dom, uuid) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain's UUID");
        return -1;
    }
    /* The system and the session daemon keep pid files in different places. */
    g_autofree char *sys = g_strdup_printf("/run/libvirt/qemu/%s.pid", name);
    g_autofree char *ses = g_build_filename(g_get_user_runtime_dir(),
                                            "libvirt", "qemu", "run", NULL);
    g_autofree char *ses_file = g_strdup_printf("%s/%s.pid", ses, name);
    const char *cands[] = { sys, ses_file };
    for (size_t i = 0; i < G_N_ELEMENTS(cands); i++) {
        pid_t pid = pid_from_file(cands[i]);
        if (pid > 0 && cmdline_has_uuid(pid, uuid))
            return pid;
    }

    /* Remote URIs or unusual layouts: look for the process itself. */
    DIR *d = opendir("/proc");
    if (d) {
        struct dirent *de;
        pid_t found = -1;
        while ((de = readdir(d)) && found < 0) {
            char *end;
            long v = strtol(de->d_name, &end, 10);
            if (*end == '\0' && v > 0 && cmdline_has_uuid((pid_t)v, uuid))
                found = (pid_t)v;
        }
        closedir(d);
        if (found > 0)
            return found;
    }
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                "cannot find the QEMU process of domain '%s' (UUID %s) on this host; "
                "hvdump must run on the domain's host with access to /proc",
                name, uuid);
    return -1;
}
