/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QMP speaks one JSON object per line.  GIO gives us the socket with a
 * timeout and peer credentials; json-glib does all JSON. */
#include "guest-mem/qmp.h"
#include "guest-mem/qmp_msg.h"
#include "common/hv_error.h"
#include "common/line_reader.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

/* QEMU is outside input: a compromised one may send endless lines, floods
 * of events or replies to ids we never sent.  Every wait is bounded, and
 * so is what we keep. */

/* Commands like `info mtree` answer at once; allow slow hosts anyway.  The
 * whole command, however many unrelated messages come in between. */
#define COMMAND_TIMEOUT_S 60
/* How often a blocked read looks at the cancel flag. */
#define POLL_INTERVAL_S 1
/* Longest line accepted: `info registers -a` of a 1,024-vCPU guest is ~2 MiB
 * as a JSON string. */
#define QMP_MAX_LINE (8u << 20)
/* Messages that are not the awaited reply (events, other ids) skipped in
 * one command: QEMU sends a few; a flood is a broken or hostile peer. */
#define MAX_SKIPPED 100000
/* Event names remembered: QEMU 7.2 has ~70 kinds; each name is recorded
 * once, and names longer than any QEMU event are ignored. */
#define MAX_EVENT_KINDS 128
#define MAX_EVENT_NAME 64

struct qmp_client {
    struct gm_monitor mon; /* first: qmp_monitor() hands out &mon */
    GSocketConnection *conn;
    struct hv_line_reader *in;
    GOutputStream *out;
    char *path;
    pid_t pid;
    GHashTable *events;    /* event names seen (a set) */
    char *last_error_class;
    guint64 next_id;
    volatile gint *cancel; /* may be NULL */
};

static void set_timeout(struct qmp_client *c, guint seconds)
{
    g_socket_set_timeout(g_socket_connection_get_socket(c->conn), seconds);
}

static gboolean cancelled(const struct qmp_client *c, GError **err)
{
    if (c->cancel && g_atomic_int_get(c->cancel)) {
        g_set_error(err, HV_ERROR, HV_ERROR_CANCELLED, "cancelled");
        return TRUE;
    }
    return FALSE;
}

/* Next message from QEMU, parsed and type-checked, or FALSE with err.  Waits
 * until deadline (g_get_monotonic_time() scale), looking at the cancel flag
 * every POLL_INTERVAL_S. */
static gboolean read_message(struct qmp_client *c, struct qmp_msg *m, gint64 deadline,
                             GError **err)
{
    GError *lerr = NULL;
    char *line;

    for (;;) {
        if (cancelled(c, err))
            return FALSE;
        line = hv_line_reader_read(c->in, NULL, NULL, &lerr);
        if (line || !g_error_matches(lerr, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
            g_get_monotonic_time() >= deadline)
            break;
        g_clear_error(&lerr);
    }
    if (!line) {
        if (lerr) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QMP %s: %s", c->path,
                        lerr->message);
            g_error_free(lerr);
        } else {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "QEMU closed the QMP connection on %s", c->path);
        }
        return FALSE;
    }
    gboolean ok = qmp_msg_parse(line, m, err);
    if (!ok)
        g_prefix_error(err, "QMP %s: ", c->path);
    g_free(line);
    return ok;
}

static void record_event(struct qmp_client *c, struct qmp_msg *m)
{
    if (strlen(m->event) > MAX_EVENT_NAME || g_hash_table_contains(c->events, m->event) ||
        g_hash_table_size(c->events) >= MAX_EVENT_KINDS)
        return;
    g_hash_table_add(c->events, m->event);
    m->event = NULL; /* the set owns it now */
}

static gboolean send_object(struct qmp_client *c, JsonObject *o, GError **err)
{
    JsonNode *n = json_node_init_object(json_node_alloc(), o);
    char *text = json_to_string(n, FALSE);
    char *line = g_strconcat(text, "\n", NULL);
    GError *lerr = NULL;
    gboolean ok = g_output_stream_write_all(c->out, line, strlen(line), NULL, NULL, &lerr);

    if (!ok) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QMP %s: %s", c->path, lerr->message);
        g_error_free(lerr);
    }
    g_free(line);
    g_free(text);
    json_node_unref(n);
    return ok;
}

JsonNode *qmp_execute(struct qmp_client *c, const char *command, JsonObject *args,
                      GError **err)
{
    JsonObject *o = json_object_new();
    guint64 id = c->next_id++;

    json_object_set_string_member(o, "execute", command);
    if (args)
        json_object_set_object_member(o, "arguments", json_object_ref(args));
    json_object_set_int_member(o, "id", (gint64)id);
    gboolean sent = send_object(c, o, err);
    json_object_unref(o);
    if (!sent)
        return NULL;

    gint64 deadline = g_get_monotonic_time() + (gint64)COMMAND_TIMEOUT_S * G_USEC_PER_SEC;
    for (unsigned skipped = 0;; skipped++) {
        struct qmp_msg m;
        if (skipped > MAX_SKIPPED) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "QMP %s: %s: no reply among %u other messages", c->path, command,
                        MAX_SKIPPED);
            return NULL;
        }
        GError *lerr = NULL;
        if (!read_message(c, &m, deadline, &lerr)) {
            if (g_error_matches(lerr, HV_ERROR, HV_ERROR_GUEST) &&
                g_get_monotonic_time() >= deadline)
                g_prefix_error(&lerr, "%s: no reply within %d s: ", command, COMMAND_TIMEOUT_S);
            g_propagate_error(err, lerr);
            return NULL;
        }
        if (m.kind == QMP_MSG_EVENT)
            record_event(c, &m);
        /* A second greeting and replies to other ids (none expected) are
         * skipped. */
        if (m.kind == QMP_MSG_EVENT || m.kind == QMP_MSG_GREETING ||
            (m.has_id && (m.id_str || (guint64)m.id != id))) {
            qmp_msg_clear(&m);
            continue;
        }
        JsonNode *ret = NULL;
        if (m.kind == QMP_MSG_RETURN) {
            ret = m.ret;
            m.ret = NULL;
        } else {
            g_free(c->last_error_class);
            c->last_error_class = g_strdup(m.error_class);
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QMP %s: %s (%s)", command,
                        m.error_desc, m.error_class);
        }
        qmp_msg_clear(&m);
        return ret;
    }
}

const char *qmp_last_error_class(const struct qmp_client *c)
{
    return c->last_error_class;
}

char *qmp_hmp(struct qmp_client *c, const char *command_line, GError **err)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "command-line", command_line);
    JsonNode *r = qmp_execute(c, "human-monitor-command", args, err);
    json_object_unref(args);
    if (!r)
        return NULL;
    char *out = NULL;
    if (JSON_NODE_HOLDS_VALUE(r) && json_node_get_value_type(r) == G_TYPE_STRING)
        out = g_strdup(json_node_get_string(r));
    else
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "QMP human-monitor-command: the answer is not a string");
    json_node_unref(r);
    return out;
}

char *qmp_query_status(struct qmp_client *c, GError **err)
{
    JsonNode *st = qmp_execute(c, "query-status", NULL, err);
    if (!st)
        return NULL;
    JsonNode *n = JSON_NODE_HOLDS_OBJECT(st)
                      ? json_object_get_member(json_node_get_object(st), "status") : NULL;
    char *status = NULL;
    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
        status = g_strdup(json_node_get_string(n));
    else
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "QMP %s: query-status: no \"status\" string in the reply", c->path);
    json_node_unref(st);
    return status;
}

gboolean qmp_poll_events(struct qmp_client *c, GError **err)
{
    GSocket *s = g_socket_connection_get_socket(c->conn);

    /* Buffered bytes first, then whatever the kernel holds; a peer that
     * keeps sending cannot keep us here past the command timeout. */
    gint64 deadline = g_get_monotonic_time() + (gint64)COMMAND_TIMEOUT_S * G_USEC_PER_SEC;
    while (hv_line_reader_buffered(c->in) > 0 ||
           (g_socket_condition_check(s, G_IO_IN | G_IO_HUP) & (G_IO_IN | G_IO_HUP))) {
        struct qmp_msg m;
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QMP %s: endless stream of events",
                        c->path);
            return FALSE;
        }
        if (!read_message(c, &m, deadline, err))
            return FALSE;
        if (m.kind == QMP_MSG_EVENT)
            record_event(c, &m);
        qmp_msg_clear(&m);
    }
    return TRUE;
}

gboolean qmp_event_seen(const struct qmp_client *c, const char *name)
{
    return g_hash_table_contains(c->events, name);
}

void qmp_events_clear(struct qmp_client *c)
{
    g_hash_table_remove_all(c->events);
}

void qmp_set_cancel(struct qmp_client *c, volatile gint *cancel)
{
    c->cancel = cancel;
}

pid_t qmp_peer_pid(const struct qmp_client *c)
{
    return c->pid;
}

/* ---- gm_monitor ---- */

static char *mon_hmp(struct gm_monitor *m, const char *line, GError **err)
{
    return qmp_hmp((struct qmp_client *)m, line, err);
}

static char *mon_qmp(struct gm_monitor *m, const char *command_json, GError **err)
{
    struct qmp_client *c = (struct qmp_client *)m;
    GError *lerr = NULL;
    JsonNode *cmd = json_from_string(command_json, &lerr);
    char *out = NULL;

    JsonNode *exe = cmd && JSON_NODE_HOLDS_OBJECT(cmd)
                        ? json_object_get_member(json_node_get_object(cmd), "execute") : NULL;
    JsonNode *argn = cmd && JSON_NODE_HOLDS_OBJECT(cmd)
                         ? json_object_get_member(json_node_get_object(cmd), "arguments") : NULL;
    if (!exe || !JSON_NODE_HOLDS_VALUE(exe) || json_node_get_value_type(exe) != G_TYPE_STRING ||
        (argn && !JSON_NODE_HOLDS_OBJECT(argn))) {
        hv_error_internal(err, "not a QMP command: %s", command_json);
        g_clear_error(&lerr);
        if (cmd)
            json_node_unref(cmd);
        return NULL;
    }
    JsonObject *args = argn ? json_node_get_object(argn) : NULL;
    JsonNode *r = qmp_execute(c, json_node_get_string(exe), args, err);
    if (r) {
        out = json_to_string(r, FALSE);
        json_node_unref(r);
    }
    json_node_unref(cmd);
    return out;
}

static pid_t mon_pid(struct gm_monitor *m, GError **err)
{
    struct qmp_client *c = (struct qmp_client *)m;
    if (c->pid <= 0)
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "cannot tell QEMU's pid from the QMP socket %s", c->path);
    return c->pid > 0 ? c->pid : -1;
}

static const struct gm_monitor_ops qmp_monitor_ops = {
    .hmp = mon_hmp,
    .qmp = mon_qmp,
    .pid = mon_pid,
};

struct gm_monitor *qmp_monitor(struct qmp_client *c)
{
    return &c->mon;
}

/* ---- connect ---- */

static gboolean open_socket(struct qmp_client *c, unsigned timeout_ms, GError **err)
{
    GSocketClient *cl = g_socket_client_new();
    GSocketAddress *addr = g_unix_socket_address_new(c->path);
    GError *lerr = NULL;

    g_socket_client_set_timeout(cl, (timeout_ms + 999) / 1000);
    c->conn = g_socket_client_connect(cl, G_SOCKET_CONNECTABLE(addr), NULL, &lerr);
    g_object_unref(addr);
    g_object_unref(cl);
    if (!c->conn) {
        int code = g_error_matches(lerr, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
                       ? HV_ERROR_PERMISSION : HV_ERROR_GUEST;
        const char *hint = g_error_matches(lerr, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)
                               ? " (is QEMU running?)" : "";
        g_set_error(err, HV_ERROR, code, "cannot connect to QMP socket %s: %s%s",
                    c->path, lerr->message, hint);
        g_error_free(lerr);
        return FALSE;
    }
    c->in = hv_line_reader_new(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)),
                               QMP_MAX_LINE);
    c->out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));

    GCredentials *cred = g_socket_get_credentials(g_socket_connection_get_socket(c->conn), NULL);
    c->pid = cred ? g_credentials_get_unix_pid(cred, NULL) : -1;
    if (cred)
        g_object_unref(cred);
    return TRUE;
}

static gboolean read_greeting(struct qmp_client *c, unsigned timeout_ms, GError **err)
{
    GError *lerr = NULL;
    char *line;

    set_timeout(c, (timeout_ms + 999) / 1000);
    line = hv_line_reader_read(c->in, NULL, NULL, &lerr);
    if (!line) {
        if (g_error_matches(lerr, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "no QMP greeting on %s within %u ms: QMP socket busy "
                        "(another client connected?) or not a QEMU QMP socket",
                        c->path, timeout_ms);
        else
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "no QMP greeting on %s: %s", c->path,
                        lerr ? lerr->message : "connection closed");
        g_clear_error(&lerr);
        return FALSE;
    }
    struct qmp_msg m;
    gboolean ok = qmp_msg_parse(line, &m, NULL) && m.kind == QMP_MSG_GREETING;
    if (!ok)
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "%s is not a QMP socket (greeting: %.40s)", c->path, line);
    qmp_msg_clear(&m);
    g_free(line);
    return ok;
}

struct qmp_client *qmp_connect(const char *path, unsigned timeout_ms, GError **err)
{
    struct qmp_client *c = g_new0(struct qmp_client, 1);

    c->mon.ops = &qmp_monitor_ops;
    c->path = g_strdup(path);
    c->events = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->next_id = 1;
    if (timeout_ms == 0)
        timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
    if (!open_socket(c, timeout_ms, err) || !read_greeting(c, timeout_ms, err)) {
        qmp_close(c);
        return NULL;
    }
    set_timeout(c, POLL_INTERVAL_S);
    JsonNode *r = qmp_execute(c, "qmp_capabilities", NULL, err);
    if (!r) {
        qmp_close(c);
        return NULL;
    }
    json_node_unref(r);
    return c;
}

void qmp_close(struct qmp_client *c)
{
    if (!c)
        return;
    hv_line_reader_free(c->in);
    if (c->conn) {
        g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
        g_object_unref(c->conn);
    }
    g_hash_table_unref(c->events);
    g_free(c->last_error_class);
    g_free(c->path);
    g_free(c);
}
