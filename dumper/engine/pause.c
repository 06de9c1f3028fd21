/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The QMP pauser.  `stop` takes effect before QEMU answers (the vCPUs are
 * out of the guest when the reply arrives), so reading may start right
 * after it. */
#include "dumper/engine/pause.h"
#include "common/hv_error.h"
#include "guest-mem/source_qemu.h"

struct qmp_pauser {
    struct hv_pauser base;
    struct qmp_client *qmp; /* borrowed */
    gboolean we_paused;
};

static gboolean qmp_pauser_begin(struct hv_pauser *p, GError **err)
{
    struct qmp_pauser *q = (struct qmp_pauser *)p;
    q->we_paused = FALSE;

    /* Type-checked in one place: QEMU's reply is outside input. */
    g_autofree char *status = qmp_query_status(q->qmp, err);
    if (!status)
        return FALSE;
    if (g_strcmp0(status, "running") != 0)
        return TRUE;

    if (p->before_pause)
        p->before_pause(p->before_pause_ud);
    JsonNode *r = qmp_execute(q->qmp, "stop", NULL, err);
    if (!r) {
        g_prefix_error(err, "cannot pause the guest: ");
        return FALSE;
    }
    json_node_unref(r);
    q->we_paused = TRUE;
    return TRUE;
}

static gboolean qmp_pauser_end(struct hv_pauser *p, GError **err)
{
    struct qmp_pauser *q = (struct qmp_pauser *)p;
    if (!q->we_paused)
        return TRUE;
    /* Cleared first: one attempt only, even if `cont` fails. */
    q->we_paused = FALSE;
    /* The resume must not be cut short by the SIGINT that may have ended
     * the dump: the client's cancel flag is off from here on. */
    qmp_set_cancel(q->qmp, NULL);
    GError *lerr = NULL;
    JsonNode *r = qmp_execute(q->qmp, "cont", NULL, &lerr);
    if (!r) {
        /* A QEMU that is gone has no guest left to resume: as the libvirt
         * pauser, that is no error (the dump says QEMU exited). */
        pid_t pid = qmp_peer_pid(q->qmp);
        if (pid > 0 && !gm_qemu_alive(pid)) {
            g_error_free(lerr);
            return TRUE;
        }
        g_propagate_prefixed_error(err, lerr, "cannot resume the guest: ");
        return FALSE;
    }
    json_node_unref(r);
    return TRUE;
}

static gboolean qmp_pauser_paused_by_us(const struct hv_pauser *p)
{
    return ((const struct qmp_pauser *)p)->we_paused;
}

static const char *qmp_pauser_describe(const struct hv_pauser *p)
{
    (void)p;
    return NULL; /* `cont` has one way only */
}

/* QMP events are recorded from connect on; only those already waiting on
 * the socket are read here, without blocking. */
static gboolean qmp_pauser_guest_shut_down(struct hv_pauser *p)
{
    struct qmp_pauser *q = (struct qmp_pauser *)p;
    GError *e = NULL;
    gboolean down = qmp_poll_events(q->qmp, &e) && qmp_event_seen(q->qmp, "SHUTDOWN");
    g_clear_error(&e);
    return down;
}

static void qmp_pauser_free(struct hv_pauser *p)
{
    g_free(p);
}

static const struct hv_pauser_ops qmp_pauser_ops = {
    .begin = qmp_pauser_begin,
    .end = qmp_pauser_end,
    .paused_by_us = qmp_pauser_paused_by_us,
    .describe = qmp_pauser_describe,
    .guest_shut_down = qmp_pauser_guest_shut_down,
    .free = qmp_pauser_free,
};

struct hv_pauser *hv_qmp_pauser_new(struct qmp_client *qmp)
{
    struct qmp_pauser *q = g_new0(struct qmp_pauser, 1);
    q->base.ops = &qmp_pauser_ops;
    q->qmp = qmp;
    return &q->base;
}
