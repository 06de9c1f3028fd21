/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's control protocol: request parsing and replies (with fake
 * commands), peer authorisation, and a real socket session where errors
 * leave the connection usable. */
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "dumper/daemon/daemon_control.h"
#include "common/hv_error.h"

struct fake {
    char *last_domain, *last_format, *last_path;
    guint last_id;
    int calls;
};

static JsonNode *f_dump(void *ud, const char *domain, const char *format, const char *path,
                        const char **cls, GError **err)
{
    struct fake *f = ud;
    f->calls++;
    g_free(f->last_domain);
    g_free(f->last_format);
    g_free(f->last_path);
    f->last_domain = g_strdup(domain);
    f->last_format = g_strdup(format);
    f->last_path = g_strdup(path);
    if (!strcmp(domain, "busy")) {
        *cls = HVD_ERR_BUSY;
        g_set_error(err, HV_ERROR, HV_ERROR_BUSY, "already dumping");
        return NULL;
    }
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "id", 7);
    json_node_take_object(n, o);
    return n;
}

static JsonNode *f_query(void *ud, const char **cls, GError **err)
{
    (void)cls;
    (void)err;
    ((struct fake *)ud)->calls++;
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, json_array_new());
    return n;
}

static JsonNode *f_cancel(void *ud, guint id, const char *domain, const char **cls, GError **err)
{
    struct fake *f = ud;
    (void)cls;
    f->calls++;
    f->last_id = id;
    g_free(f->last_domain);
    f->last_domain = g_strdup(domain);
    if (id == 99) {
        g_set_error(err, HV_ERROR, HV_ERROR_NOT_FOUND, "no running dump with id 99");
        return NULL;
    }
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, json_object_new());
    return n;
}

static const struct hvd_control_ops fake_ops = { f_dump, f_query, f_cancel };

/* The reply's error class, or "return" when it succeeded. */
static char *kind_of(const char *reply, JsonNode **id_out)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, reply, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    if (id_out)
        *id_out = json_object_has_member(o, "id") ?
                  json_node_copy(json_object_get_member(o, "id")) : NULL;
    if (json_object_has_member(o, "return"))
        return g_strdup("return");
    JsonObject *e = json_object_get_object_member(o, "error");
    g_assert_nonnull(e);
    g_assert_nonnull(json_object_get_string_member(e, "desc"));
    return g_strdup(json_object_get_string_member(e, "class"));
}

static void expect(struct fake *f, const char *req, const char *kind)
{
    g_autofree char *r = hvd_control_handle_line(&fake_ops, f, req);
    g_assert_null(strchr(r, '\n')); /* one line */
    g_autofree char *k = kind_of(r, NULL);
    if (g_strcmp0(k, kind) != 0)
        g_error("request %s: got %s, expected %s (%s)", req, k, kind, r);
}

static void test_protocol(void)
{
    struct fake f = { 0 };
    expect(&f, "{", HVD_ERR_GENERIC);
    expect(&f, "[1,2]", HVD_ERR_GENERIC);
    expect(&f, "\"dump\"", HVD_ERR_GENERIC);
    expect(&f, "{}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":5}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"reboot-host\"}", HVD_ERR_NOT_FOUND);
    expect(&f, "{\"execute\":\"dump\"}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"dump\",\"arguments\":[]}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"dump\",\"arguments\":{\"domain\":1}}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"x\",\"path\":{}}}", HVD_ERR_GENERIC);
    g_assert_cmpint(f.calls, ==, 0); /* none of those reached a command */

    expect(&f, "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"vm\",\"format\":\"elf\",\"path\":\"a/b.elf\"}}", "return");
    g_assert_cmpstr(f.last_domain, ==, "vm");
    g_assert_cmpstr(f.last_format, ==, "elf");
    g_assert_cmpstr(f.last_path, ==, "a/b.elf");
    expect(&f, "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"vm2\"}}", "return");
    g_assert_null(f.last_format);
    g_assert_null(f.last_path);
    expect(&f, "{\"execute\":\"dump\",\"arguments\":{\"domain\":\"busy\"}}", HVD_ERR_BUSY);
    expect(&f, "{\"execute\":\"query-dumps\"}", "return");

    expect(&f, "{\"execute\":\"cancel\"}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"cancel\",\"arguments\":{\"id\":-3}}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"cancel\",\"arguments\":{\"id\":\"3\"}}", HVD_ERR_GENERIC);
    expect(&f, "{\"execute\":\"cancel\",\"arguments\":{\"id\":3}}", "return");
    g_assert_cmpuint(f.last_id, ==, 3);
    expect(&f, "{\"execute\":\"cancel\",\"arguments\":{\"domain\":\"vm\"}}", "return");
    g_assert_cmpuint(f.last_id, ==, 0);
    g_assert_cmpstr(f.last_domain, ==, "vm");
    expect(&f, "{\"execute\":\"cancel\",\"arguments\":{\"id\":99}}", HVD_ERR_GENERIC);

    /* QMP-style id echo, on success and on error. */
    JsonNode *id = NULL;
    g_autofree char *r = hvd_control_handle_line(&fake_ops, &f,
        "{\"execute\":\"query-dumps\",\"id\":\"abc\"}");
    g_autofree char *k = kind_of(r, &id);
    g_assert_cmpstr(k, ==, "return");
    g_assert_nonnull(id);
    g_assert_cmpstr(json_node_get_string(id), ==, "abc");
    json_node_unref(id);
    g_autofree char *r2 = hvd_control_handle_line(&fake_ops, &f, "{\"execute\":\"nope\",\"id\":4}");
    g_autofree char *k2 = kind_of(r2, &id);
    g_assert_cmpstr(k2, ==, HVD_ERR_NOT_FOUND);
    g_assert_cmpint(json_node_get_int(id), ==, 4);
    json_node_unref(id);
    g_free(f.last_domain);
    g_free(f.last_format);
    g_free(f.last_path);
}

static void test_peer(void)
{
    gid_t groups[] = { 10, 20 };
    g_assert_true(hvd_control_peer_allowed(0, 0, NULL, 0, 0, 100));        /* root */
    g_assert_true(hvd_control_peer_allowed(1000, 5, NULL, 0, 1000, 100));  /* our user */
    g_assert_true(hvd_control_peer_allowed(1000, 100, NULL, 0, 0, 100));   /* primary group */
    g_assert_true(hvd_control_peer_allowed(1000, 5, groups, 2, 0, 20));    /* supplementary */
    g_assert_false(hvd_control_peer_allowed(1000, 5, groups, 2, 0, 100));
    g_assert_false(hvd_control_peer_allowed(65534, 65534, NULL, 0, 0, 0));
}

struct session {
    char *path;
    GPtrArray *replies;
    gboolean done;
};

static gpointer client_thread(gpointer ud)
{
    struct session *s = ud;
    g_autoptr(GSocketClient) c = g_socket_client_new();
    g_autoptr(GSocketAddress) a = g_unix_socket_address_new(s->path);
    g_autoptr(GSocketConnection) conn = g_socket_client_connect(c, G_SOCKET_CONNECTABLE(a), NULL, NULL);
    g_assert_nonnull(conn);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_autoptr(GDataInputStream) in =
        g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    const char *reqs[] = {
        "this is not json\n",
        "\n", /* blank lines are ignored, no reply */
        "{\"execute\":\"frobnicate\"}\n",
        "{\"execute\":\"query-dumps\"}\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(reqs); i++) {
        g_assert_true(g_output_stream_write_all(out, reqs[i], strlen(reqs[i]), NULL, NULL, NULL));
        if (reqs[i][0] == '\n')
            continue;
        char *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL);
        g_assert_nonnull(line);
        g_ptr_array_add(s->replies, line);
    }
    g_atomic_int_set(&s->done, TRUE);
    return NULL;
}

static void test_socket(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvd-ctl-XXXXXX", NULL);
    struct fake f = { 0 };
    struct session s = { g_build_filename(dir, "ctl.sock", NULL),
                         g_ptr_array_new_with_free_func(g_free), FALSE };
    /* A stale socket file from an earlier run is replaced... */
    GError *err = NULL;
    struct hvd_control *c = hvd_control_new(s.path, NULL, &fake_ops, &f, &err);
    g_assert_no_error(err);
    hvd_control_free(c);
    c = hvd_control_new(s.path, NULL, &fake_ops, &f, &err);
    g_assert_no_error(err);
    GStatBuf st;
    g_assert_cmpint(g_lstat(s.path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0660);

    GThread *t = g_thread_new("client", client_thread, &s);
    while (!g_atomic_int_get(&s.done))
        g_main_context_iteration(NULL, TRUE);
    g_thread_join(t);
    g_assert_cmpuint(s.replies->len, ==, 3);
    g_autofree char *k0 = kind_of(s.replies->pdata[0], NULL);
    g_autofree char *k1 = kind_of(s.replies->pdata[1], NULL);
    g_autofree char *k2 = kind_of(s.replies->pdata[2], NULL);
    g_assert_cmpstr(k0, ==, HVD_ERR_GENERIC);
    g_assert_cmpstr(k1, ==, HVD_ERR_NOT_FOUND);
    g_assert_cmpstr(k2, ==, "return");
    hvd_control_free(c);
    g_assert_false(g_file_test(s.path, G_FILE_TEST_EXISTS)); /* removed on exit */

    /* ...but never a regular file. */
    g_assert_true(g_file_set_contents(s.path, "keep me", -1, NULL));
    g_assert_null(hvd_control_new(s.path, NULL, &fake_ops, &f, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_clear_error(&err);
    g_assert_null(hvd_control_new(s.path, "no-such-group-hvd", &fake_ops, &f, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
    g_unlink(s.path);
    g_autofree char *lock = g_strconcat(s.path, ".lock", NULL);
    g_unlink(lock);
    g_rmdir(dir);
    g_free(s.path);
    g_ptr_array_unref(s.replies);
}

/* json-glib's parser recursed once per level: 100,000 '[' crashed hvdumpd. */
static void test_deep_nesting(void)
{
    struct fake f = { 0 };
    size_t n = 100000;
    char *line = g_malloc(n + 1);
    memset(line, '[', n);
    line[n] = '\0';
    g_autofree char *r = hvd_control_handle_line(&fake_ops, &f, line);
    g_autofree char *k = kind_of(r, NULL);
    g_assert_cmpstr(k, ==, HVD_ERR_GENERIC);
    g_assert_nonnull(strstr(r, "nested too deeply"));
    /* Deep but legal nesting inside a string is no nesting. */
    g_autofree char *inside = g_strdup_printf("{\"execute\":\"query-dumps\",\"x\":\"%s\"}", line);
    g_autofree char *r2 = hvd_control_handle_line(&fake_ops, &f, inside);
    g_autofree char *k2 = kind_of(r2, NULL);
    g_assert_cmpstr(k2, ==, "return");
    g_free(line);
}

static void test_admit(void)
{
    struct hvd_control_limits l = { 1024, 2, 10, 3, 60 };
    g_assert_true(hvd_control_admit(&l, 1000, 0, 0));
    g_assert_true(hvd_control_admit(&l, 1000, 1, 5));
    g_assert_false(hvd_control_admit(&l, 1000, 2, 5));   /* per uid */
    g_assert_true(hvd_control_admit(&l, 1001, 0, 6));
    g_assert_false(hvd_control_admit(&l, 1001, 0, 7));   /* root's reserve */
    g_assert_true(hvd_control_admit(&l, 0, 9, 9));       /* root: reserve and no per-uid cap */
    g_assert_false(hvd_control_admit(&l, 0, 0, 10));     /* but the total holds */
}

static GSocketConnection *connect_to(const char *path)
{
    g_autoptr(GSocketClient) c = g_socket_client_new();
    g_autoptr(GSocketAddress) a = g_unix_socket_address_new(path);
    return g_socket_client_connect(c, G_SOCKET_CONNECTABLE(a), NULL, NULL);
}

/* One request, its reply line (g_free) or NULL when the server closed. */
static char *ask(GSocketConnection *conn, const char *req)
{
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    if (!g_output_stream_write_all(out, req, strlen(req), NULL, NULL, NULL))
        return NULL;
    g_autoptr(GDataInputStream) in =
        g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(in), FALSE);
    return g_data_input_stream_read_line(in, NULL, NULL, NULL);
}

struct flood {
    char *path;
    gboolean done;
};

static gpointer flood_thread(gpointer ud)
{
    struct flood *fl = ud;
    /* A line without end: an error, then the connection is closed. */
    g_autoptr(GSocketConnection) longc = connect_to(fl->path);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    g_autofree char *rl = ask(longc, big);
    g_assert_nonnull(rl);
    g_assert_nonnull(strstr(rl, "request line too long"));
    g_autofree char *after = ask(longc, "\n{\"execute\":\"query-dumps\"}\n");
    g_assert_null(after);
    /* Limits: 4 in all, 1 of them kept for root (we are root here, so the
     * per-uid cap does not apply: the total does). */
    GSocketConnection *held[4];
    for (int i = 0; i < 4; i++) {
        held[i] = connect_to(fl->path);
        g_assert_nonnull(held[i]);
        g_autofree char *r = ask(held[i], "{\"execute\":\"query-dumps\"}\n");
        g_assert_nonnull(r);
        g_assert_nonnull(strstr(r, "\"return\""));
    }
    /* The fifth: refused with a reason, not left hanging. */
    g_autoptr(GSocketConnection) fifth = connect_to(fl->path);
    g_autofree char *r5 = ask(fifth, "{\"execute\":\"query-dumps\"}\n");
    g_assert_nonnull(r5);
    g_assert_nonnull(strstr(r5, "too many connections"));
    /* Idle connections are closed after idle_s (1 s here): reads see EOF. */
    g_usleep(1800000);
    for (int i = 0; i < 4; i++) {
        g_autofree char *r = ask(held[i], "{\"execute\":\"query-dumps\"}\n");
        g_assert_null(r);
        g_object_unref(held[i]);
    }
    /* And the socket serves again. */
    g_autoptr(GSocketConnection) fresh = connect_to(fl->path);
    g_autofree char *rf = ask(fresh, "{\"execute\":\"query-dumps\"}\n");
    g_assert_nonnull(rf);
    g_assert_nonnull(strstr(rf, "\"return\""));
    g_atomic_int_set(&fl->done, TRUE);
    return NULL;
}

static void test_socket_limits(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvd-ctl-XXXXXX", NULL);
    struct fake f = { 0 };
    struct flood fl = { g_build_filename(dir, "ctl.sock", NULL), FALSE };
    GError *err = NULL;
    struct hvd_control *c = hvd_control_new(fl.path, NULL, &fake_ops, &f, &err);
    g_assert_no_error(err);
    struct hvd_control_limits l = { 1024, 2, 4, 1, 1 };
    hvd_control_set_limits(c, &l);
    GThread *t = g_thread_new("flood", flood_thread, &fl);
    while (!g_atomic_int_get(&fl.done))
        g_main_context_iteration(NULL, TRUE);
    g_thread_join(t);
    hvd_control_free(c);
    g_autofree char *lock = g_strconcat(fl.path, ".lock", NULL);
    g_unlink(lock);
    g_rmdir(dir);
    g_free(fl.path);
}

/* A second instance must not take the first one's socket away. */
static void test_second_instance(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvd-ctl-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ctl.sock", NULL);
    struct fake f = { 0 };
    GError *err = NULL;
    struct hvd_control *first = hvd_control_new(path, NULL, &fake_ops, &f, &err);
    g_assert_no_error(err);
    GStatBuf before, after;
    g_assert_cmpint(g_lstat(path, &before), ==, 0);
    g_assert_null(hvd_control_new(path, NULL, &fake_ops, &f, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_assert_nonnull(strstr(err->message, "another hvdumpd"));
    g_clear_error(&err);
    g_assert_cmpint(g_lstat(path, &after), ==, 0);
    g_assert_cmpuint(before.st_ino, ==, after.st_ino);
    hvd_control_free(first);
    /* Once the first is gone, a new one starts. */
    struct hvd_control *again = hvd_control_new(path, NULL, &fake_ops, &f, &err);
    g_assert_no_error(err);
    hvd_control_free(again);
    g_autofree char *lock = g_strconcat(path, ".lock", NULL);
    g_unlink(lock);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon_control/protocol", test_protocol);
    g_test_add_func("/daemon_control/peer", test_peer);
    g_test_add_func("/daemon_control/socket", test_socket);
    g_test_add_func("/daemon_control/deep-nesting", test_deep_nesting);
    g_test_add_func("/daemon_control/admit", test_admit);
    g_test_add_func("/daemon_control/socket-limits", test_socket_limits);
    g_test_add_func("/daemon_control/second-instance", test_second_instance);
    return g_test_run();
}
