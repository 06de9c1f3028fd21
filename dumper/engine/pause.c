/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pause policy over QMP.  `stop` takes effect before QEMU answers (the vCPUs
 * are out of the guest when the reply arrives), so reading may start right
 * after it. */
#include "dumper/engine/pause.h"
#include "common/hv_error.h"

gboolean hv_pause_begin(struct hv_pause *p, struct qmp_client *qmp, GError **err)
{
    p->qmp = qmp;
    p->we_paused = FALSE;
    g_clear_pointer(&p->status_before, g_free);

    JsonNode *st = qmp_execute(qmp, "query-status", NULL, err);
    if (!st)
        return FALSE;
    gboolean running = FALSE;
    if (JSON_NODE_HOLDS_OBJECT(st)) {
        JsonObject *o = json_node_get_object(st);
        running = json_object_get_boolean_member_with_default(o, "running", FALSE);
        p->status_before = g_strdup(json_object_get_string_member_with_default(o, "status", "?"));
    }
    json_node_unref(st);
    if (!running)
        return TRUE;

    if (p->before_stop)
        p->before_stop(p->before_stop_ud);
    JsonNode *r = qmp_execute(qmp, "stop", NULL, err);
    if (!r) {
        g_prefix_error(err, "cannot pause the guest: ");
        return FALSE;
    }
    json_node_unref(r);
    p->we_paused = TRUE;
    return TRUE;
}

gboolean hv_pause_end(struct hv_pause *p, GError **err)
{
    if (!p->we_paused || !p->qmp)
        return TRUE;
    /* Cleared first: one attempt only, even if `cont` fails. */
    p->we_paused = FALSE;
    JsonNode *r = qmp_execute(p->qmp, "cont", NULL, err);
    if (!r) {
        g_prefix_error(err, "cannot resume the guest: ");
        return FALSE;
    }
    json_node_unref(r);
    return TRUE;
}

void hv_pause_clear(struct hv_pause *p)
{
    g_clear_pointer(&p->status_before, g_free);
    p->qmp = NULL;
    p->we_paused = FALSE;
}
