/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/engine/guardian.h"
#include "common/hv_error.h"
#include "guest-mem/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define GUARDIAN_FD 3
#define RECONNECT_TRIES 100   /* x 100 ms: QEMU may need a moment */

static gboolean start(struct hv_guardian *g, char *const argv[], GError **err)
{
    int p[2];
    g->pid = 0;
    g->fd = -1;
    if (pipe2(p, O_CLOEXEC) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "cannot start the guardian: %s",
                    g_strerror(errno));
        return FALSE;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], GUARDIAN_FD);
    posix_spawnattr_init(&attr);
    /* Own session: ^C on the terminal must not take the guardian along. */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(p[0]);
    if (rc != 0) {
        close(p[1]);
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "cannot start the guardian: %s",
                    g_strerror(rc));
        return FALSE;
    }
    g->pid = pid;
    g->fd = p[1];
    return TRUE;
}

static void say(struct hv_guardian *g, char c)
{
    if (g->fd < 0)
        return;
    ssize_t n;
    do
        n = write(g->fd, &c, 1);
    while (n < 0 && errno == EINTR);
}

gboolean hv_guardian_start_qmp(struct hv_guardian *g, const char *qmp_path,
                               const char *partial, GError **err)
{
    char *const argv[] = {"hvdump", "__guardian", "qmp", (char *)qmp_path,
                          (char *)(partial ? partial : "-"), NULL};
    return start(g, argv, err);
}

gboolean hv_guardian_start_libvirt(struct hv_guardian *g, const char *uri,
                                   const char *uuid, const char *partial,
                                   GError **err)
{
    char *const argv[] = {"hvdump", "__guardian", "libvirt", (char *)(uri ? uri : "-"),
                          (char *)uuid, (char *)(partial ? partial : "-"), NULL};
    return start(g, argv, err);
}

void hv_guardian_arm(struct hv_guardian *g)
{
    say(g, 'A');
}

void hv_guardian_partial_created(struct hv_guardian *g, uint64_t dev, uint64_t ino)
{
    if (g->fd < 0)
        return;
    char msg[64];
    int n = g_snprintf(msg, sizeof msg, "P%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT "\n", dev, ino);
    for (int i = 0; i < n; i++)
        say(g, msg[i]);
}

void hv_guardian_release(struct hv_guardian *g)
{
    say(g, 'D');
    if (g->fd >= 0) {
        close(g->fd);
        g->fd = -1;
    }
    if (g->pid > 0) {
        while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        g->pid = 0;
    }
}

/* The guardian process behind struct hv_guard: what it rescues is fixed
 * when it is made, the partial file when it starts. */
struct process_guard {
    struct hv_guard base;
    struct hv_guardian proc;
    char *qmp_path; /* set for a QMP guest */
    char *uri;      /* else a libvirt domain: uri (NULL = default) and uuid */
    char *uuid;
};

static gboolean process_guard_start(struct hv_guard *g, const char *partial, GError **err)
{
    struct process_guard *pg = (struct process_guard *)g;
    if (pg->qmp_path)
        return hv_guardian_start_qmp(&pg->proc, pg->qmp_path, partial, err);
    return hv_guardian_start_libvirt(&pg->proc, pg->uri, pg->uuid, partial, err);
}

static void process_guard_arm(struct hv_guard *g)
{
    hv_guardian_arm(&((struct process_guard *)g)->proc);
}

static void process_guard_partial_created(struct hv_guard *g, uint64_t dev, uint64_t ino)
{
    hv_guardian_partial_created(&((struct process_guard *)g)->proc, dev, ino);
}

static void process_guard_release(struct hv_guard *g)
{
    hv_guardian_release(&((struct process_guard *)g)->proc);
}

static void process_guard_free(struct hv_guard *g)
{
    struct process_guard *pg = (struct process_guard *)g;
    hv_guardian_release(&pg->proc);
    g_free(pg->qmp_path);
    g_free(pg->uri);
    g_free(pg->uuid);
    g_free(pg);
}

static const struct hv_guard_ops process_guard_ops = {
    .start = process_guard_start,
    .arm = process_guard_arm,
    .partial_created = process_guard_partial_created,
    .release = process_guard_release,
    .free = process_guard_free,
};

static struct process_guard *process_guard_new(void)
{
    struct process_guard *pg = g_new0(struct process_guard, 1);
    pg->base.ops = &process_guard_ops;
    pg->proc.fd = -1;
    return pg;
}

struct hv_guard *hv_guardian_guard_qmp(const char *qmp_path)
{
    struct process_guard *pg = process_guard_new();
    pg->qmp_path = g_strdup(qmp_path);
    return &pg->base;
}

struct hv_guard *hv_guardian_guard_libvirt(const char *uri, const char *uuid)
{
    struct process_guard *pg = process_guard_new();
    pg->uri = g_strdup(uri);
    pg->uuid = g_strdup(uuid);
    return &pg->base;
}

/* hvdump died with the guest paused by it: resume it unless it has moved
 * on (panicked, shut down, resumed by someone else). */
static void rescue_qmp(const char *path)
{
    for (int i = 0; i < RECONNECT_TRIES; i++) {
        GError *err = NULL;
        struct qmp_client *c = qmp_connect(path, 1000, &err);
        if (!c) {
            g_clear_error(&err);
            g_usleep(100 * 1000);
            continue;
        }
        /* Type-checked: a QEMU answering {"status": 1} once crashed us here. */
        char *status = qmp_query_status(c, &err);
        if (g_strcmp0(status, "paused") == 0) {
            JsonNode *r = qmp_execute(c, "cont", NULL, &err);
            fprintf(stderr, "hvdump: guardian: hvdump died; %s\n",
                    r ? "guest resumed" : "could not resume the guest");
            if (r)
                json_node_unref(r);
        }
        g_free(status);
        g_clear_error(&err);
        qmp_close(c);
        return;
    }
    fprintf(stderr, "hvdump: guardian: hvdump died and QEMU's QMP socket %s "
                    "stayed unreachable; the guest may still be paused\n", path);
}

int hv_guardian_main(int argc, char **argv, hv_guardian_libvirt_fn rescue_libvirt)
{
    /* argv: __guardian qmp SOCKET PARTIAL | __guardian libvirt URI UUID PARTIAL */
    gboolean qmp = argc == 4 && strcmp(argv[1], "qmp") == 0;
    gboolean lv = argc == 5 && strcmp(argv[1], "libvirt") == 0 && rescue_libvirt;
    if (!qmp && !lv)
        return 2;
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    gboolean armed = FALSE, have_identity = FALSE;
    uint64_t dev = 0, ino = 0;
    char line[64];
    size_t line_len = 0;
    gboolean in_identity = FALSE;
    for (;;) {
        char c;
        ssize_t n = read(GUARDIAN_FD, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 1)
            break; /* end of file or error: hvdump is gone */
        if (in_identity) {
            /* "P<dev>:<ino>\n": the partial file hvdump created. */
            if (c != '\n' && line_len < sizeof line - 1) {
                line[line_len++] = c;
                continue;
            }
            line[line_len] = '\0';
            have_identity = sscanf(line, "%" SCNu64 ":%" SCNu64, &dev, &ino) == 2;
            in_identity = FALSE;
            continue;
        }
        if (c == 'A')
            armed = TRUE;
        else if (c == 'P') {
            in_identity = TRUE;
            line_len = 0;
        }
        else if (c == 'D')
            return 0;
    }
    if (!armed)
        return 0;
    const char *partial = argv[argc - 1];
    if (qmp)
        rescue_qmp(argv[2]);
    else
        rescue_libvirt(strcmp(argv[2], "-") ? argv[2] : NULL, argv[3]);
    /* The partial file was held with an flock by the dead process; it is
     * ours to remove now that nobody writes it -- but only that file: the
     * name must end in ".partial" and the file there must be the one hvdump
     * said it created (device and inode), not whatever a caller named. */
    struct stat st;
    if (strcmp(partial, "-") == 0)
        return 0;
    if (!g_str_has_suffix(partial, ".partial") || !have_identity ||
        lstat(partial, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino) {
        fprintf(stderr, "hvdump: guardian: %s is not the partial file of this dump; "
                        "left in place\n", partial);
        return 0;
    }
    if (unlink(partial) == 0)
        fprintf(stderr, "hvdump: guardian: removed %s\n", partial);
    return 0;
}
