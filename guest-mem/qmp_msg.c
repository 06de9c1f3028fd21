/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QMP message parsing.  json-glib's typed getters (get_int_member, ...)
 * print a critical and return a default when the member has another type,
 * so members are fetched as nodes and their type checked here first. */
#include "guest-mem/qmp_msg.h"
#include "common/hv_error.h"
#include "common/json_bounds.h"

#include <string.h>

static gboolean holds_type(JsonNode *n, GType t)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == t;
}

static gboolean malformed(GError **err, const char *what, const char *line)
{
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "malformed QMP reply: %s: %.60s",
                what, line);
    return FALSE;
}

/* An optional string member: absent gives dflt, any other type fails. */
static gboolean opt_string(JsonObject *o, const char *name, const char *dflt,
                           char **out)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n) {
        *out = g_strdup(dflt);
        return TRUE;
    }
    if (!holds_type(n, G_TYPE_STRING))
        return FALSE;
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

static gboolean parse_object(JsonObject *o, const char *line, struct qmp_msg *m,
                             GError **err)
{
    JsonNode *n;

    if ((n = json_object_get_member(o, "event"))) {
        if (!holds_type(n, G_TYPE_STRING))
            return malformed(err, "\"event\" is not a string", line);
        m->kind = QMP_MSG_EVENT;
        m->event = g_strdup(json_node_get_string(n));
        return TRUE;
    }
    if ((n = json_object_get_member(o, "QMP"))) {
        if (!JSON_NODE_HOLDS_OBJECT(n))
            return malformed(err, "\"QMP\" greeting is not an object", line);
        m->kind = QMP_MSG_GREETING;
        return TRUE;
    }
    /* QMP echoes whatever id the client sent: we send integers, libvirt
     * strings.  Anything else is no id a client of ours sent. */
    if ((n = json_object_get_member(o, "id"))) {
        if (holds_type(n, G_TYPE_INT64))
            m->id = json_node_get_int(n);
        else if (holds_type(n, G_TYPE_STRING))
            m->id_str = g_strdup(json_node_get_string(n));
        else
            return malformed(err, "\"id\" is neither an integer nor a string", line);
        m->has_id = TRUE;
    }
    if ((n = json_object_get_member(o, "return"))) {
        m->kind = QMP_MSG_RETURN;
        m->ret = json_node_copy(n);
        return TRUE;
    }
    if ((n = json_object_get_member(o, "error"))) {
        if (!JSON_NODE_HOLDS_OBJECT(n))
            return malformed(err, "\"error\" is not an object", line);
        JsonObject *e = json_node_get_object(n);
        m->kind = QMP_MSG_ERROR;
        if (!opt_string(e, "class", "?", &m->error_class) ||
            !opt_string(e, "desc", "", &m->error_desc))
            return malformed(err, "error \"class\" or \"desc\" is not a string", line);
        return TRUE;
    }
    return malformed(err, "neither return, error nor event", line);
}

gboolean qmp_msg_parse(const char *line, struct qmp_msg *m, GError **err)
{
    GError *lerr = NULL;

    memset(m, 0, sizeof *m);
    if (!hv_json_depth_ok(line, strlen(line), HV_JSON_MAX_DEPTH)) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "JSON nested deeper than %d levels: %.60s",
                    HV_JSON_MAX_DEPTH, line);
        return FALSE;
    }
    JsonNode *node = json_from_string(line, &lerr);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "not a JSON object: %.60s", line);
        g_clear_error(&lerr);
        if (node)
            json_node_unref(node);
        return FALSE;
    }
    gboolean ok = parse_object(json_node_get_object(node), line, m, err);
    json_node_unref(node);
    if (!ok)
        qmp_msg_clear(m);
    return ok;
}

void qmp_msg_clear(struct qmp_msg *m)
{
    g_free(m->event);
    g_free(m->id_str);
    g_free(m->error_class);
    g_free(m->error_desc);
    if (m->ret)
        json_node_unref(m->ret);
    memset(m, 0, sizeof *m);
}
