/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guardian for the guest while we hold it paused.  SIGKILL (or a crash) of
 * hvdump would otherwise leave the guest frozen forever: no handler runs.
 * Before pausing, hvdump starts a small helper process (itself, re-executed
 * as `hvdump __guardian`, in its own session so a terminal's ^C does not
 * reach it) connected by a pipe.  hvdump writes 'A' (armed: we are about to
 * stop a running guest) and 'D' (done: resumed, or nothing to resume).  If
 * the pipe reaches end-of-file while armed, hvdump died: the guardian waits
 * for QEMU to accept a new QMP client (the dead process's connection closes
 * with it), sends `cont` if the guest is still paused (not if it panicked
 * meanwhile), and removes the dump's partial file. */
#ifndef HV_GUARDIAN_H
#define HV_GUARDIAN_H

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

struct hv_guardian {
    pid_t pid;   /* 0 when not started */
    int fd;      /* write end of the pipe, -1 when closed */
};

/* qmp_path: the guest's QMP socket; partial: the dump's PATH.partial or
 * NULL.  Failing to start is an error: we do not pause without one. */
gboolean hv_guardian_start_qmp(struct hv_guardian *g, const char *qmp_path,
                               const char *partial, GError **err);
/* The same for a libvirt domain (uri NULL = default): the guardian resumes
 * it with virDomainResume if it is still paused by a user request. */
gboolean hv_guardian_start_libvirt(struct hv_guardian *g, const char *uri,
                                   const char *uuid, const char *partial,
                                   GError **err);
void hv_guardian_arm(struct hv_guardian *g);
/* The partial file's identity: a rescue removes PARTIAL only when it is
 * still this file (and its name ends in ".partial").  Without it, nothing
 * is removed: `hvdump __guardian qmp X /any/path`, run by hand (or through
 * sudo), must not be a way to delete files. */
void hv_guardian_partial_created(struct hv_guardian *g, uint64_t dev, uint64_t ino);
/* Tells the guardian all is well and reaps it.  Safe on a zeroed struct
 * (with fd = -1) and twice. */
void hv_guardian_release(struct hv_guardian *g);

/* A guardian as a live dump (dumper/engine/session.h) sees it, so that the
 * session does not depend on the process above: unit tests record calls
 * instead of re-executing themselves. */
struct hv_guard;
struct hv_guard_ops {
    /* Starts watching; partial is the dump's PATH.partial (removed by a
     * rescue) or NULL.  Failing is an error: no pause without a guardian. */
    gboolean (*start)(struct hv_guard *g, const char *partial, GError **err);
    /* Just before a running guest is stopped. */
    void (*arm)(struct hv_guard *g);
    /* The partial file now exists: its identity, the only file a rescue
     * may remove.  May be NULL. */
    void (*partial_created)(struct hv_guard *g, uint64_t dev, uint64_t ino);
    /* The guest was resumed, or there is nothing to resume: stand down.
     * Safe when not started and twice. */
    void (*release)(struct hv_guard *g);
    void (*free)(struct hv_guard *g);
};
struct hv_guard {
    const struct hv_guard_ops *ops;
};

/* The guardian process above as a struct hv_guard, for a guest behind a
 * QMP socket or a libvirt domain (uri NULL = default).  The strings are
 * copied.  Freeing releases it. */
struct hv_guard *hv_guardian_guard_qmp(const char *qmp_path);
struct hv_guard *hv_guardian_guard_libvirt(const char *uri, const char *uuid);
static inline void hv_guard_free(struct hv_guard *g)
{
    if (g)
        g->ops->free(g);
}

/* The guardian process itself: `hvdump __guardian qmp SOCKET PARTIAL|-` or
 * `hvdump __guardian libvirt URI|- UUID PARTIAL|-`, reading the pipe on
 * fd 3.  rescue_libvirt is NULL in builds without libvirt. */
typedef void (*hv_guardian_libvirt_fn)(const char *uri, const char *uuid);
int hv_guardian_main(int argc, char **argv, hv_guardian_libvirt_fn rescue_libvirt);

#endif
