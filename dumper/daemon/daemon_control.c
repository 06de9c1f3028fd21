/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket (see daemon_control.h): request lines to reply lines,
 * kept free of I/O so the unit tests can drive it, then the GSocketService
 * that reads them.  Peers are checked with SO_PEERCRED plus their
 * supplementary groups from /proc, since the socket's group is what grants
 * access and SO_PEERCRED carries only the primary gid. */
#include "dumper/daemon/daemon_control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gio/gunixsocketaddress.h>

#include "common/hv_error.h"
#include "common/json_bounds.h"
#include "common/line_reader.h"

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

    /* Before json-glib, whose parser recurses once per level. */
    if (!hv_json_depth_ok(line, strlen(line), HV_JSON_MAX_DEPTH))
        return reply_line(NULL, cls, "request nested too deeply", NULL);
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

gboolean hvd_control_admit(const struct hvd_control_limits *l, uid_t uid, unsigned n_uid,
                           unsigned n_total)
{
    if (uid == 0)
        return n_total < l->max_total;
    return n_uid < l->max_per_uid && n_total + l->root_reserve < l->max_total;
}

/* ---- the socket ---- */

struct hvd_control {
    GSocketService *service;
    char *path;
    int lock_fd;            /* flock on path.lock while we listen */
    gid_t sock_gid;
    const struct hvd_control_ops *ops;
    void *ud;
    GList *conns;
    struct hvd_control_limits limits;
    guint idle_timer;
    gint64 refused_logged_at;   /* when "too many connections" was last logged */
    unsigned refused_unlogged;  /* refusals since */
};

struct conn {
    struct hvd_control *c;
    GSocketConnection *sc;
    struct hv_line_reader *in;
    GCancellable *cancel;
    uid_t uid;
    gint64 last_active;     /* g_get_monotonic_time() of the last request */
};

static void conn_free(struct conn *k)
{
    k->c->conns = g_list_remove(k->c->conns, k);
    hv_line_reader_free(k->in);
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
    size_t len = 0;
    GError *err = NULL;
    (void)src;
    /* Bytes are validated below: not-UTF-8 gets an answer, not a hang-up. */
    char *line = hv_line_reader_read_finish(NULL, res, &len, &err);
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(err);
        return; /* k already freed (hvd_control_free, idle close) */
    }
    struct conn *k = ud;
    if (!line) {
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
            /* No way to find the next request in what follows: say why and close. */
            g_autofree char *r = hvd_control_error_line(HVD_ERR_GENERIC, "request line too long");
            send_line(k->sc, r);
        }
        g_clear_error(&err);
        conn_free(k);
        return;
    }
    k->last_active = g_get_monotonic_time();
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
    hv_line_reader_read_async(k->in, k->cancel, on_line, k);
}

/* The peer's supplementary groups as the kernel saw them at connect()
 * (SO_PEERGROUPS, Linux 4.13): unlike /proc/PID/status, no pid that may
 * have been reused, and no file descriptor spent. */
static GArray *peer_groups(GSocket *s)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(gid_t));
    socklen_t len = 64 * sizeof(gid_t);
    for (int tries = 0; tries < 2; tries++) {
        g_array_set_size(a, len / sizeof(gid_t));
        if (getsockopt(g_socket_get_fd(s), SOL_SOCKET, SO_PEERGROUPS, a->data, &len) == 0) {
            g_array_set_size(a, len / sizeof(gid_t));
            return a;
        }
        if (errno != ERANGE || len > 65536 * sizeof(gid_t))
            break;
    }
    g_array_set_size(a, 0);
    return a;
}

static unsigned conns_of(const struct hvd_control *c, uid_t uid)
{
    unsigned n = 0;
    for (GList *l = c->conns; l; l = l->next)
        n += ((struct conn *)l->data)->uid == uid;
    return n;
}

static void refuse(GSocketConnection *sc, const char *cls, const char *why)
{
    g_autofree char *r = hvd_control_error_line(cls, why);
    /* The socket is fresh: a short reply fits its buffer without waiting. */
    g_socket_set_blocking(g_socket_connection_get_socket(sc), FALSE);
    send_line(sc, r);
    g_io_stream_close(G_IO_STREAM(sc), NULL, NULL);
}

/* Connections with no request for limits.idle_s are closed. */
static gboolean close_idle(gpointer ud)
{
    struct hvd_control *c = ud;
    gint64 now = g_get_monotonic_time();
    GList *l = c->conns;
    while (l) {
        struct conn *k = l->data;
        l = l->next;
        if (now - k->last_active >= (gint64)c->limits.idle_s * G_USEC_PER_SEC) {
            g_cancellable_cancel(k->cancel);
            conn_free(k);
        }
    }
    return G_SOURCE_CONTINUE;
}

static void restart_idle_timer(struct hvd_control *c)
{
    if (c->idle_timer)
        g_source_remove(c->idle_timer);
    /* Look ten times per idle period: a connection lives at most 1.1x it. */
    guint every_ms = MAX(100u, c->limits.idle_s * 100u);
    c->idle_timer = g_timeout_add(every_ms, close_idle, c);
}

void hvd_control_set_limits(struct hvd_control *c, const struct hvd_control_limits *l)
{
    c->limits = *l;
    restart_idle_timer(c);
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
        g_autoptr(GArray) groups = peer_groups(s);
        allowed = hvd_control_peer_allowed(uc->uid, uc->gid, (const gid_t *)(void *)groups->data,
                                           groups->len, geteuid(), c->sock_gid);
    }
    if (!allowed) {
        g_printerr("hvdumpd: control: refused peer uid %d pid %d\n",
                   uc ? (int)uc->uid : -1, uc ? (int)uc->pid : -1);
        refuse(sc, HVD_ERR_DENIED, "permission denied: not root and not in the socket's group");
        return TRUE;
    }
    if (!hvd_control_admit(&c->limits, uc->uid, conns_of(c, uc->uid), g_list_length(c->conns))) {
        /* At most one line every 10 s: a flood must not flood the log. */
        gint64 now = g_get_monotonic_time();
        c->refused_unlogged++;
        if (now - c->refused_logged_at >= 10 * G_USEC_PER_SEC) {
            g_printerr("hvdumpd: control: too many connections, refused uid %d pid %d "
                       "(%u refused since the last such line)\n",
                       (int)uc->uid, (int)uc->pid, c->refused_unlogged);
            c->refused_logged_at = now;
            c->refused_unlogged = 0;
        }
        refuse(sc, HVD_ERR_BUSY, "too many connections; close some and retry");
        return TRUE;
    }
    struct conn *k = g_new0(struct conn, 1);
    k->c = c;
    k->sc = g_object_ref(sc);
    k->uid = uc->uid;
    k->last_active = g_get_monotonic_time();
    k->in = hv_line_reader_new(g_io_stream_get_input_stream(G_IO_STREAM(sc)), c->limits.max_line);
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
    g_autofree char *dir = g_path_get_dirname(path);
    g_mkdir_with_parents(dir, 0755);
    /* The lock says whether the socket there is served: an instance that
     * holds it keeps its socket; a stale one (its holder died) is replaced. */
    g_autofree char *lock_path = g_strconcat(path, ".lock", NULL);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock_fd < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "control socket lock %s: %s", lock_path,
                    g_strerror(errno));
        return NULL;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(lock_fd);
        if (e == EWOULDBLOCK)
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS,
                        "another hvdumpd is serving %s (it holds %s)", path, lock_path);
        else
            g_set_error(err, HV_ERROR, HV_ERROR_IO, "control socket lock %s: %s", lock_path,
                        g_strerror(e));
        return NULL;
    }
    /* Replace a stale socket from a previous run, never anything else. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s exists and is not a socket", path);
            close(lock_fd);
            return NULL;
        }
        unlink(path);
    }

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
        close(lock_fd);
        return NULL;
    }
    struct hvd_control *c = g_new0(struct hvd_control, 1);
    c->service = svc;
    c->path = g_strdup(path);
    c->lock_fd = lock_fd;
    c->refused_logged_at = G_MININT64 / 2;
    c->limits = (struct hvd_control_limits)HVD_CONTROL_LIMITS_DEFAULT;
    restart_idle_timer(c);
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
    if (c->idle_timer)
        g_source_remove(c->idle_timer);
    /* The socket first, then the lock that guards it. */
    unlink(c->path);
    close(c->lock_fd);
    g_free(c->path);
    g_free(c);
}
