/* SPDX-License-Identifier: GPL-2.0-or-later */
/* struct gm_monitor over libvirt (see libvirt_monitor.h): QMP and HMP go
 * through virDomainQemuMonitorCommand, since libvirt holds QEMU's only
 * monitor connection.  libvirt's API gives neither QEMU's pid nor its
 * monitor socket, so both are found on the host: libvirt's pid file or
 * /proc, checked against the domain's UUID on QEMU's command line. */
#include "dumper/libvirt/libvirt_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>

#include "dumper/libvirt/libvirt_conn.h"
#include "common/hv_error.h"
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

/* TRUE when /proc/pid/cmdline has "-uuid UUID" (libvirt always passes
 * the domain's UUID that way).  Anywhere else in argv proves nothing: any
 * local user can run `sleep 1d UUID`. */
static gboolean cmdline_has_uuid(pid_t pid, const char *uuid)
{
    char path[64];
    g_autofree char *buf = NULL;
    gsize len = 0;

    g_snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (!g_file_get_contents(path, &buf, &len, NULL) || len == 0 || buf[len - 1] != '\0')
        return FALSE;
    gboolean after_flag = FALSE;
    for (gsize i = 0; i < len; i += strlen(buf + i) + 1) {
        if (after_flag && strcmp(buf + i, uuid) == 0)
            return TRUE;
        after_flag = strcmp(buf + i, "-uuid") == 0;
    }
    return FALSE;
}

/* TRUE when pid runs a QEMU system emulator (its executable, not its
 * claimed name). */
static gboolean is_qemu(pid_t pid)
{
    char path[64];
    g_snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    g_autofree char *exe = g_file_read_link(path, NULL);
    if (!exe)
        return FALSE;
    g_autofree char *base = g_path_get_basename(exe);
    return g_str_has_prefix(base, "qemu-system-") || g_str_has_prefix(base, "qemu-kvm");
}

pid_t hv_libvirt_pid_from_pidfile(const char *pidfile, const char *uuid, GError **err)
{
    /* libvirt writes the pid file in a directory only it can write: one
     * that anyone else could have written vouches for nothing. */
    int fd = open(pidfile, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "%s: %s", pidfile, g_strerror(errno));
        return -1;
    }
    struct stat st;
    char txt[32] = "";
    ssize_t n = -1;
    gboolean trusted = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                       (st.st_uid == 0 || st.st_uid == geteuid()) &&
                       !(st.st_mode & (S_IWGRP | S_IWOTH));
    if (trusted)
        n = read(fd, txt, sizeof txt - 1);
    close(fd);
    if (!trusted) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "%s: not a pid file libvirt wrote (owner or mode)", pidfile);
        return -1;
    }
    char *end;
    long v = n > 0 ? strtol(txt, &end, 10) : 0;
    if (v <= 0 || v > INT32_MAX) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "%s: no pid in it", pidfile);
        return -1;
    }
    pid_t pid = (pid_t)v;
    if (!is_qemu(pid) || !cmdline_has_uuid(pid, uuid)) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "%s: pid %d is not the domain's QEMU (stale pid file?)", pidfile, (int)pid);
        return -1;
    }
    return pid;
}

pid_t hv_libvirt_qemu_pid(virDomainPtr dom, GError **err)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *name = virDomainGetName(dom);

    if (virDomainGetUUIDString(dom, uuid) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "cannot get the domain's UUID");
        return -1;
    }
    /* The system and the session daemon keep pid files in different
     * places.  Only a pid libvirt vouches for is taken: no scan of /proc
     * for a process that merely mentions the UUID. */
    g_autofree char *sys = g_strdup_printf("/run/libvirt/qemu/%s.pid", name);
    g_autofree char *ses = g_build_filename(g_get_user_runtime_dir(),
                                            "libvirt", "qemu", "run", NULL);
    g_autofree char *ses_file = g_strdup_printf("%s/%s.pid", ses, name);
    const char *cands[] = { sys, ses_file };
    g_autoptr(GError) first = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(cands); i++) {
        GError *e = NULL;
        pid_t pid = hv_libvirt_pid_from_pidfile(cands[i], uuid, &e);
        if (pid > 0)
            return pid;
        if (!first)
            first = e;
        else
            g_error_free(e);
    }
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                "cannot find the QEMU process of domain '%s' (UUID %s): %s; "
                "hvdump must run on the domain's host as root",
                name, uuid, first->message);
    return -1;
}

/* The inodes of the sockets pid has open ("socket:[N]" links in fd/). */
static GHashTable *socket_inodes(pid_t pid)
{
    GHashTable *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return set;
    const char *n;
    while ((n = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(dir, n, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        gint64 ino;
        if (target && sscanf(target, "socket:[%" G_GINT64_FORMAT "]", &ino) == 1) {
            gint64 *key = g_new(gint64, 1);
            *key = ino;
            g_hash_table_add(set, key);
        }
    }
    g_dir_close(d);
    return set;
}

/* Unix sockets' listening flag in /proc/net/unix (__SO_ACCEPTCON). */
#define UNIX_LISTENING 0x10000

char *hv_libvirt_monitor_socket(pid_t pid, GError **err)
{
    /* libvirt may hand QEMU the listening socket as an fd, so the path is
     * not always on QEMU's command line; the kernel's table has it. */
    g_autofree char *table = NULL;
    g_autofree char *tpath = g_strdup_printf("/proc/%d/net/unix", (int)pid);
    char *found = NULL;
    if (!g_file_get_contents(tpath, &table, NULL, NULL)) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "cannot read %s", tpath);
        return NULL;
    }
    GHashTable *mine = socket_inodes(pid);
    g_auto(GStrv) lines = g_strsplit(table, "\n", -1);
    for (size_t i = 1; lines[i] && !found; i++) {
        /* Num RefCount Protocol Flags Type St Inode Path */
        unsigned long flags = 0;
        gint64 ino = 0;
        char path[4096];
        if (sscanf(lines[i], "%*s %*s %*s %lx %*s %*s %" G_GINT64_FORMAT " %4095s",
                   &flags, &ino, path) == 3 &&
            (flags & UNIX_LISTENING) && g_hash_table_contains(mine, &ino) &&
            g_str_has_suffix(path, "/monitor.sock"))
            found = g_strdup(path);
    }
    g_hash_table_destroy(mine);
    if (!found)
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "no monitor socket found among QEMU (pid %d)'s open files", (int)pid);
    return found;
}
