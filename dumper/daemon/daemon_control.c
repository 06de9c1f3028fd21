/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket (see daemon_control.h): request lines to reply lines,
 * kept free of I/O so the unit tests can drive it, then the GSocketService
 * that reads them.  Peers are checked with SO_PEERCRED plus their
 * supplementary groups from /proc, since the socket's group is what grants
 * access and SO_PEERCRED carries only the primary gid. */
#include "dumper/daemon/daemon_control.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gio/gunixsocketaddress.h>

#include "common/hv_error.h"

char *hvd_control_error_line(const char *cls, const char *desc)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, cls);
    json_builder_set_member_name(b, "desc");
    json_builder_add_string_value(b, desc);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

static char *reply_line(JsonNode *ret, const char *cls, const char *desc, JsonNode *id)
{
    g_autoptr(JsonObject) o = json_object_new();
    if (ret) {
        json_object_set_member(o, "return", ret);
    } else {
        JsonObject *e = json_object_new();
        json_object_set_string_member(e, "class", cls);
        json_object_set_string_member(e, "desc", desc);
        json_object_set_object_member(o, "error", e);
    }
    if (id)
        json_object_set_member(o, "id", json_node_copy(id));
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(root, o);
    return json_to_string(root, FALSE);
}

/* A string member, NULL when absent; FALSE when present but not a string. */
static gboolean opt_string(JsonObject *args, const char *name, const char **out)
{
    *out = NULL;
    if (!args || !json_object_has_member(args, name))
        return TRUE;
    JsonNode *n = json_object_get_member(args, name);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return FALSE;
    *out = json_node_get_string(n);
    return TRUE;
}

char *hvd_control_handle_line(const struct hvd_control_ops *ops, void *ud, const char *line)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    const char *cls = HVD_ERR_GENERIC;

    if (!json_parser_load_from_data(p, line, -1, &err))
        return reply_line(NULL, cls, "malformed JSON request", NULL);
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return reply_line(NULL, cls, "request must be a JSON object", NULL);
    JsonObject *req = json_node_get_object(root);
    JsonNode *id = json_object_get_member(req, "id");
    JsonNode *ex = json_object_get_member(req, "execute");
    if (!ex || !JSON_NODE_HOLDS_VALUE(ex) || json_node_get_value_type(ex) != G_TYPE_STRING)
        return reply_line(NULL, cls, "request needs an \"execute\" string", id);
    const char *cmd = json_node_get_string(ex);
    JsonObject *args = NULL;
    JsonNode *an = json_object_get_member(req, "arguments");
    if (an && !JSON_NODE_HOLDS_OBJECT(an))
        return reply_line(NULL, cls, "\"arguments\" must be an object", id);
    if (an)
        args = json_node_get_object(an);

    JsonNode *ret = NULL;
    if (strcmp(cmd, "dump") == 0) {
        const char *dom, *fmt, *path;
        if (!opt_string(args, "domain", &dom) || !opt_string(args, "format", &fmt) ||
            !opt_string(args, "path", &path))
            return reply_line(NULL, cls, "dump: domain, format and path must be strings", id);
        if (!dom)
            return reply_line(NULL, cls, "dump: missing argument \"domain\"", id);
        ret = ops->dump(ud, dom, fmt, path, &cls, &err);
    } else if (strcmp(cmd, "query-dumps") == 0) {
        ret = ops->query_dumps(ud, &cls, &err);
    } else if (strcmp(cmd, "cancel") == 0) {
        const char *dom = NULL;
        gint64 jid = 0;
        JsonNode *idn = args ? json_object_get_member(args, "id") : NULL;
        if (idn) {
            if (!JSON_NODE_HOLDS_VALUE(idn) || json_node_get_value_type(idn) != G_TYPE_INT64 ||
                (jid = json_node_get_int(idn)) <= 0 || jid > G_MAXUINT)
                return reply_line(NULL, cls, "cancel: \"id\" must be a positive integer", id);
        }
        if (!opt_string(args, "domain", &dom))
            return reply_line(NULL, cls, "cancel: \"domain\" must be a string", id);
        if (!jid && !dom)
            return reply_line(NULL, cls, "cancel: give \"id\" or \"domain\"", id);
        ret = ops->cancel(ud, (guint)jid, dom, &cls, &err);
    } else {
        g_autofree char *d = g_strdup_printf("the command %s has not been found", cmd);
        return reply_line(NULL, HVD_ERR_NOT_FOUND, d, id);
    }
    if (!ret)
        return reply_line(NULL, cls, err ? err->message : "failed", id);
    return reply_line(ret, NULL, NULL, id);
}

gboolean hvd_control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                                  uid_t daemon_uid, gid_t sock_gid)
{
    if (uid == 0 || uid == daemon_uid || gid == sock_gid)
        return TRUE;
    for (size_t i = 0; i < n_groups; i++)
        if (groups[i] == sock_gid)
            return TRUE;
    return FALSE;
}

/* ---- the socket ---- */

struct hvd_control {
    GSocketService *service;
    char *path;
    gid_t sock_gid;
    const struct hvd_control_ops *ops;
    void *ud;
    GList *conns;
};

struct conn {
    struct hvd_control *c;
    GSocketConnection *sc;
    GDataInputStream *in;
    GCancellable *cancel;
};

static void conn_free(struct conn *k)
{
    k->c->conns = g_list_remove(k->c->conns, k);
    g_object_unref(k->in);
    g_io_stream_close(G_IO_STREAM(k->sc), NULL, NULL);
    g_object_unref(k->sc);
    g_object_unref(k->cancel);
    g_free(k);
}

static gboolean send_line(GSocketConnection *sc, const char *line)
{
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(sc));
    return g_output_stream_write_all(out, line, strlen(line), NULL, NULL, NULL) &&
           g_output_stream_write_all(out, "\n", 1, NULL, NULL, NULL);
}

static void read_next(struct conn *k);

/* A reply on its way out; owns the bytes until the write has finished. */
struct reply {
    struct conn *k;
    char *text;
};

static void on_written(GObject *src, GAsyncResult *res, gpointer ud)
{
    struct reply *r = ud;
    GError *err = NULL;
    gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &err);
    gboolean cancelled = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&err);
    struct conn *k = r->k;
    g_free(r->text);
    g_free(r);
    if (cancelled)
        return; /* k already freed by hvd_control_free */
    if (ok)
        read_next(k);
    else
        conn_free(k);
}

/* Replies are written asynchronously and the next request is read only once
 * the reply is out: a peer that sends requests but never reads its replies
 * stalls itself, not the main loop (a blocking write would stop every other
 * client and every job completion with it). */
static void reply_then_read(struct conn *k, char *line)
{
    struct reply *r = g_new0(struct reply, 1);
    r->k = k;
    r->text = g_strconcat(line, "\n", NULL);
    g_free(line);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(k->sc));
    g_output_stream_write_all_async(out, r->text, strlen(r->text), G_PRIORITY_DEFAULT,
                                    k->cancel, on_written, r);
}

static void on_line(GObject *src, GAsyncResult *res, gpointer ud)
{
    gsize len = 0;
    GError *err = NULL;
    /* Validated below rather than with the _utf8 variant: its error for bad
     * bytes is a G_CONVERT_ERROR, easy to mistake for a dead connection. */
    char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src), res, &len, &err);
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(err);
        return; /* k already freed by hvd_control_free */
    }
    struct conn *k = ud;
    if (!line) {
        g_clear_error(&err);
        conn_free(k);
        return;
    }
    if (!g_utf8_validate(line, (gssize)len, NULL)) {
        /* Not UTF-8 (a NUL byte fails too): answer and go on with the next line. */
        g_free(line);
        reply_then_read(k, hvd_control_error_line(HVD_ERR_GENERIC, "request is not UTF-8"));
        return;
    }
    g_strstrip(line);
    if (!*line) {
        g_free(line);
        read_next(k);
        return;
    }
    char *r = hvd_control_handle_line(k->c->ops, k->c->ud, line);
    g_free(line);
    reply_then_read(k, r);
}

static void read_next(struct conn *k)
{
    g_data_input_stream_read_line_async(k->in, G_PRIORITY_DEFAULT, k->cancel, on_line, k);
}

/* Supplementary groups of a process, from /proc (what SO_PEERCRED lacks). */
static GArray *proc_groups(pid_t pid)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(gid_t));
    char path[64];
    g_autofree char *txt = NULL;
    g_snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (pid <= 0 || !g_file_get_contents(path, &txt, NULL, NULL))
        return a;
    char *g = strstr(txt, "\nGroups:");
    if (!g)
        return a;
    g += 8;
    while (*g && *g != '\n') {
        char *end;
        unsigned long v = strtoul(g, &end, 10);
        if (end == g) {
            g++;
            continue;
        }
        gid_t gid = (gid_t)v;
        g_array_append_val(a, gid);
        g = end;
    }
    return a;
}

static gboolean on_incoming(GSocketService *svc, GSocketConnection *sc, GObject *src,
                            gpointer ud)
{
    struct hvd_control *c = ud;
    (void)svc;
    (void)src;
    GSocket *s = g_socket_connection_get_socket(sc);
    g_autoptr(GError) err = NULL;
    g_autoptr(GCredentials) cr = g_socket_get_credentials(s, &err);
    const struct ucred *uc = cr ? g_credentials_get_native(cr, G_CREDENTIALS_TYPE_LINUX_UCRED) : NULL;
    gboolean allowed = FALSE;
    if (uc) {
        g_autoptr(GArray) groups = proc_groups(uc->pid);
        allowed = hvd_control_peer_allowed(uc->uid, uc->gid, (const gid_t *)(void *)groups->data,
                                           groups->len, geteuid(), c->sock_gid);
    }
    if (!allowed) {
        g_printerr("hvdumpd: control: refused peer uid %d pid %d\n",
                   uc ? (int)uc->uid : -1, uc ? (int)uc->pid : -1);
        g_autofree char *r = hvd_control_error_line(HVD_ERR_DENIED,
            "permission denied: not root and not in the socket's group");
        send_line(sc, r);
        g_io_stream_close(G_IO_STREAM(sc), NULL, NULL);
        return TRUE;
    }
    struct conn *k = g_new0(struct conn, 1);
    k->c = c;
    k->sc = g_object_ref(sc);
    k->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(sc)));
    g_data_input_stream_set_newline_type(k->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
    k->cancel = g_cancellable_new();
    c->conns = g_list_prepend(c->conns, k);
    read_next(k);
    return TRUE;
}

struct hvd_control *hvd_control_new(const char *path, const char *group,
                                    const struct hvd_control_ops *ops, void *ud,
                                    GError **err)
{
    struct stat st;
    gid_t gid = getegid();

    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "socket-group '%s' does not exist", group);
            return NULL;
        }
        gid = gr->gr_gid;
    }
    /* Replace a stale socket from a previous run, never anything else. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s exists and is not a socket", path);
            return NULL;
        }
        unlink(path);
    }
    g_autofree char *dir = g_path_get_dirname(path);
    g_mkdir_with_parents(dir, 0755);

    GSocketService *svc = g_socket_service_new();
    /* GLib's default backlog of 10 makes a burst of clients wait in
     * connect() for the main loop to catch up; let more queue at once. */
    g_socket_listener_set_backlog(G_SOCKET_LISTENER(svc), 128);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GError) e = NULL;
    /* No window where the socket is more open than 0660. */
    mode_t old = umask(0117);
    gboolean ok = g_socket_listener_add_address(G_SOCKET_LISTENER(svc), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                                NULL, NULL, &e);
    umask(old);
    if (!ok || chmod(path, 0660) < 0 || (group && chown(path, (uid_t)-1, gid) < 0)) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "control socket %s: %s", path,
                    e ? e->message : g_strerror(errno));
        g_object_unref(svc);
        return NULL;
    }
    struct hvd_control *c = g_new0(struct hvd_control, 1);
    c->service = svc;
    c->path = g_strdup(path);
    c->sock_gid = gid;
    c->ops = ops;
    c->ud = ud;
    g_signal_connect(svc, "incoming", G_CALLBACK(on_incoming), c);
    g_socket_service_start(svc);
    return c;
}

void hvd_control_free(struct hvd_control *c)
{
    if (!c)
        return;
    g_socket_service_stop(c->service);
    g_socket_listener_close(G_SOCKET_LISTENER(c->service));
    while (c->conns) {
        struct conn *k = c->conns->data;
        g_cancellable_cancel(k->cancel);
        conn_free(k);
    }
    g_object_unref(c->service);
    unlink(c->path);
    g_free(c->path);
    g_free(c);
}
