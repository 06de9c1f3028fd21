/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QMP client: error paths against a tiny fake server in a thread, the happy
 * path (and the busy socket) against a real QEMU when one is installed. */
#include "guest-mem/qmp.h"
#include "guest-mem/qmp_msg.h"
#include "common/hv_error.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum fake_mode { FAKE_GARBAGE, FAKE_SILENT, FAKE_ERROR };

struct fake {
    enum fake_mode mode;
    int lfd;
    char path[108];
};

static void send_str(int fd, const char *s)
{
    g_assert_cmpint(write(fd, s, strlen(s)), ==, (ssize_t)strlen(s));
}

/* Reads one line (the client's command) byte by byte: fine for a test. */
static void read_line(int fd)
{
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n')
        ;
}

static gpointer fake_main(gpointer data)
{
    struct fake *f = data;
    int fd = accept(f->lfd, NULL, NULL);

    g_assert_cmpint(fd, >=, 0);
    switch (f->mode) {
    case FAKE_GARBAGE:
        send_str(fd, "SSH-2.0-OpenSSH_9.2\r\n");
        break;
    case FAKE_SILENT:
        read_line(fd); /* until the client gives up and closes */
        break;
    case FAKE_ERROR:
        send_str(fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
        read_line(fd);
        send_str(fd, "{\"return\": {}, \"id\": 1}\r\n");
        read_line(fd);
        send_str(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                     "\"event\": \"STOP\"}\r\n");
        send_str(fd, "{\"id\": 2, \"error\": {\"class\": \"CommandNotFound\", "
                     "\"desc\": \"The command nope has not been found\"}}\r\n");
        read_line(fd);
        send_str(fd, "{\"return\": \"line1\\r\\nline2\\r\\n\", \"id\": 3}\r\n");
        read_line(fd);
        break;
    }
    close(fd);
    return NULL;
}

static GThread *fake_start(struct fake *f, enum fake_mode mode)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *dir = g_dir_make_tmp("hvdump-qmp-XXXXXX", NULL);

    g_assert_nonnull(dir);
    f->mode = mode;
    g_snprintf(f->path, sizeof f->path, "%s/qmp.sock", dir);
    g_free(dir);
    g_strlcpy(sa.sun_path, f->path, sizeof sa.sun_path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_assert_cmpint(listen(f->lfd, 1), ==, 0);
    return g_thread_new("fake-qmp", fake_main, f);
}

static void fake_stop(struct fake *f, GThread *t)
{
    g_thread_join(t);
    close(f->lfd);
    char *dir = g_path_get_dirname(f->path);
    unlink(f->path);
    rmdir(dir);
    g_free(dir);
}

static void test_garbage(void)
{
    struct fake f;
    GThread *t = fake_start(&f, FAKE_GARBAGE);
    GError *err = NULL;

    g_assert_null(qmp_connect(f.path, 2000, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "not a QMP socket"));
    g_clear_error(&err);
    fake_stop(&f, t);
}

static void test_silent(void)
{
    struct fake f;
    GThread *t = fake_start(&f, FAKE_SILENT);
    GError *err = NULL;

    g_assert_null(qmp_connect(f.path, 1000, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "QMP socket busy (another client connected?)"));
    g_clear_error(&err);
    fake_stop(&f, t);
}

static void test_error_reply_and_events(void)
{
    struct fake f;
    GThread *t = fake_start(&f, FAKE_ERROR);
    GError *err = NULL;
    struct qmp_client *c = qmp_connect(f.path, 2000, &err);

    g_assert_no_error(err);
    g_assert_cmpint(qmp_peer_pid(c), ==, getpid()); /* the fake runs in us */
    g_assert_false(qmp_event_seen(c, "STOP"));
    g_assert_null(qmp_execute(c, "nope", NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "has not been found"));
    g_assert_cmpstr(qmp_last_error_class(c), ==, "CommandNotFound");
    g_clear_error(&err);
    g_assert_true(qmp_event_seen(c, "STOP"));
    g_assert_false(qmp_event_seen(c, "SHUTDOWN"));
    char *text = qmp_hmp(c, "info nothing", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(text, ==, "line1\r\nline2\r\n");
    g_free(text);
    qmp_events_clear(c);
    g_assert_false(qmp_event_seen(c, "STOP"));
    qmp_close(c);
    fake_stop(&f, t);
}

static void test_no_socket(void)
{
    GError *err = NULL;

    g_assert_null(qmp_connect("/nonexistent/hvdump/qmp.sock", 500, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "/nonexistent/hvdump/qmp.sock"));
    g_clear_error(&err);
}

/* A real QEMU with no machine: starts in well under a second. */
static void test_real_qemu(void)
{
    char *qemu = g_find_program_in_path("qemu-system-x86_64");
    if (!qemu) {
        g_test_skip("qemu-system-x86_64 not installed");
        return;
    }
    char *dir = g_dir_make_tmp("hvdump-qemu-XXXXXX", NULL);
    char *sock = g_build_filename(dir, "qmp.sock", NULL);
    char *qmparg = g_strdup_printf("unix:%s,server=on,wait=off", sock);
    const char *argv[] = { qemu, "-machine", "none", "-nodefaults", "-display", "none",
                           "-qmp", qmparg, NULL };
    GPid pid;
    GError *err = NULL;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &pid, &err));
    struct qmp_client *c = NULL;
    for (int i = 0; i < 100 && !c; i++) {
        g_clear_error(&err);
        g_usleep(50000);
        c = qmp_connect(sock, 2000, &err);
    }
    g_assert_no_error(err);
    g_assert_cmpint(qmp_peer_pid(c), ==, pid);

    JsonNode *st = qmp_execute(c, "query-status", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(st));
    g_assert_true(json_object_has_member(json_node_get_object(st), "running"));
    json_node_unref(st);

    char *v = qmp_hmp(c, "info version", &err);
    g_assert_no_error(err);
    g_assert_true(g_ascii_isdigit(v[0]));
    g_free(v);

    /* The monitor view of the same client. */
    struct gm_monitor *m = qmp_monitor(c);
    char *ret = m->ops->qmp(m, "{\"execute\":\"query-name\"}", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(ret, ==, "{}");
    g_free(ret);
    g_assert_cmpint(m->ops->pid(m, &err), ==, pid);

    /* A second client gets no greeting while the first is connected. */
    g_assert_null(qmp_connect(sock, 1000, &err));
    g_assert_nonnull(strstr(err->message, "QMP socket busy"));
    g_clear_error(&err);

    JsonNode *q = qmp_execute(c, "quit", NULL, &err);
    g_assert_no_error(err);
    json_node_unref(q);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    qmp_close(c);
    unlink(sock);
    rmdir(dir);
    g_free(qmparg);
    g_free(sock);
    g_free(dir);
    g_free(qemu);
}

/* Lines with members of the wrong type (the fuzz_qmp_json crashes) are
 * "malformed QMP reply" errors, never a Json-CRITICAL with a default. */
static void test_msg_parse(void)
{
    static const char *const bad[] = {
        "{\"return\": {}, \"id\": {}}",
        "{\"return\": {}, \"id\": [1]}",
        "{\"return\": {}, \"id\": null}",
        "{\"event\": [\"STOP\"]}",
        "{\"error\": \"nope\"}",
        "{\"error\": {\"class\": 7, \"desc\": \"x\"}}",
        "{\"error\": {\"class\": \"X\", \"desc\": null}}",
        "{\"QMP\": 1}",
        "{\"id\": 1}",
    };
    struct qmp_msg m;
    GError *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(qmp_msg_parse(bad[i], &m, &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
        g_assert_true(g_str_has_prefix(err->message, "malformed QMP reply: "));
        g_assert_null(m.ret);
        g_clear_error(&err);
    }
    g_assert_false(qmp_msg_parse("[1]", &m, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
    g_assert_false(qmp_msg_parse("", &m, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);

    g_assert_true(qmp_msg_parse("{\"return\": \"text\", \"id\": 7}", &m, &err));
    g_assert_no_error(err);
    g_assert_cmpint(m.kind, ==, QMP_MSG_RETURN);
    g_assert_true(m.has_id);
    g_assert_cmpint(m.id, ==, 7);
    g_assert_cmpstr(json_node_get_string(m.ret), ==, "text");
    qmp_msg_clear(&m);
    g_assert_true(qmp_msg_parse("{\"return\": {}, \"id\": \"libvirt-9\"}", &m, &err));
    g_assert_true(m.has_id);
    g_assert_cmpstr(m.id_str, ==, "libvirt-9");
    qmp_msg_clear(&m);
    g_assert_true(qmp_msg_parse("{\"error\": {}}", &m, &err));
    g_assert_cmpint(m.kind, ==, QMP_MSG_ERROR);
    g_assert_false(m.has_id);
    g_assert_cmpstr(m.error_class, ==, "?");
    g_assert_cmpstr(m.error_desc, ==, "");
    qmp_msg_clear(&m);
    g_assert_true(qmp_msg_parse("{\"timestamp\": {}, \"event\": \"STOP\"}", &m, &err));
    g_assert_cmpint(m.kind, ==, QMP_MSG_EVENT);
    g_assert_cmpstr(m.event, ==, "STOP");
    qmp_msg_clear(&m);
    g_assert_true(qmp_msg_parse("{\"QMP\": {\"version\": {}}}", &m, &err));
    g_assert_cmpint(m.kind, ==, QMP_MSG_GREETING);
    qmp_msg_clear(&m);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/garbage_greeting", test_garbage);
    g_test_add_func("/qmp/silent_busy", test_silent);
    g_test_add_func("/qmp/error_reply_events", test_error_reply_and_events);
    g_test_add_func("/qmp/no_socket", test_no_socket);
    g_test_add_func("/qmp/msg_parse", test_msg_parse);
    g_test_add_func("/qmp/real_qemu", test_real_qemu);
    return g_test_run();
}
