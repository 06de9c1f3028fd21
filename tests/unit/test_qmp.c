/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QMP client: error paths against a tiny fake server in a thread, the happy
 * path (and the busy socket) against a real QEMU when one is installed. */
#include "guest-mem/qmp.h"
#include "guest-mem/qmp_msg.h"
#include "common/hv_error.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum fake_mode {
    FAKE_GARBAGE, FAKE_SILENT, FAKE_ERROR,
    /* A hostile QEMU, after the greeting and capabilities: */
    FAKE_ENDLESS_LINE,  /* one line that never ends */
    FAKE_DEEP,          /* 100,000 nested arrays */
    FAKE_OTHER_IDS,     /* replies to ids never sent, forever */
    FAKE_EVENT_FLOOD,   /* events with ever new names, forever */
    FAKE_MUTE,          /* no reply at all */
    FAKE_BAD_STATUS,    /* query-status with {"status": 1} */
};

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

/* Sends until the client goes away; FALSE then. */
static gboolean flood(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return FALSE;
        s += n;
        len -= (size_t)n;
    }
    return TRUE;
}

static void hostile(int fd, enum fake_mode mode)
{
    send_str(fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
    read_line(fd);
    send_str(fd, "{\"return\": {}, \"id\": 1}\r\n");
    read_line(fd);
    static char junk[65536];
    char msg[128];
    switch (mode) {
    case FAKE_ENDLESS_LINE:
        memset(junk, 'x', sizeof junk);
        const char *open_string = "{\"return\": \"";
        flood(fd, open_string, strlen(open_string));
        for (int i = 0; i < 1024 && flood(fd, junk, sizeof junk); i++) /* 64 MiB */
            ;
        break;
    case FAKE_DEEP:
        memset(junk, '[', 100000 < sizeof junk ? 100000 : sizeof junk);
        const char *reply = "{\"id\": 2, \"return\": ";
        flood(fd, reply, strlen(reply));
        flood(fd, junk, sizeof junk);
        flood(fd, junk, 100000 - sizeof junk);
        flood(fd, "\r\n", 2);
        read_line(fd);
        break;
    case FAKE_OTHER_IDS:
        for (unsigned i = 0; i < 10000000; i++) {
            int n = g_snprintf(msg, sizeof msg, "{\"return\": {}, \"id\": %u}\r\n", 1000 + i);
            if (!flood(fd, msg, (size_t)n))
                break;
        }
        break;
    case FAKE_EVENT_FLOOD:
        for (unsigned i = 0; i < 10000000; i++) {
            int n = g_snprintf(msg, sizeof msg, "{\"event\": \"E%u\"}\r\n", i);
            if (!flood(fd, msg, (size_t)n))
                break;
        }
        break;
    case FAKE_MUTE:
        read_line(fd); /* until the client closes */
        break;
    case FAKE_BAD_STATUS:
        send_str(fd, "{\"return\": {\"status\": 1, \"running\": false}, \"id\": 2}\r\n");
        read_line(fd);
        break;
    default:
        break;
    }
}

static gpointer fake_main(gpointer data)
{
    struct fake *f = data;
    int fd = accept(f->lfd, NULL, NULL);

    g_assert_cmpint(fd, >=, 0);
    switch (f->mode) {
    case FAKE_ENDLESS_LINE:
    case FAKE_DEEP:
    case FAKE_OTHER_IDS:
    case FAKE_EVENT_FLOOD:
    case FAKE_MUTE:
    case FAKE_BAD_STATUS:
        hostile(fd, f->mode);
        break;
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

/* ASan keeps freed memory in quarantine (up to 256 MiB): RSS says nothing
 * about what the client holds there, so those bounds are checked in the
 * plain build only (the valgrind run covers leaks). */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED 0
#else
#define RSS_CHECKED 1
#endif

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Connects to a hostile fake and runs one command, which must fail with
 * HV_ERROR_GUEST (or code) and a message containing what. */
static void hostile_command(enum fake_mode mode, int code, const char *what,
                            volatile gint *cancel)
{
    struct fake f;
    GThread *t = fake_start(&f, mode);
    GError *err = NULL;
    struct qmp_client *c = qmp_connect(f.path, 2000, &err);
    g_assert_no_error(err);
    qmp_set_cancel(c, cancel);
    g_assert_null(qmp_execute(c, "query-status", NULL, &err));
    g_assert_error(err, HV_ERROR, code);
    if (!strstr(err->message, what))
        g_error("expected \"%s\" in: %s", what, err->message);
    g_clear_error(&err);
    qmp_close(c);
    fake_stop(&f, t);
}

/* One endless line: an error once the line passes 8 MiB, with memory to
 * match (it grew by gigabytes before). */
static void test_endless_line(void)
{
    long before = max_rss_kib();
    hostile_command(FAKE_ENDLESS_LINE, HV_ERROR_GUEST, "line longer than", NULL);
    if (RSS_CHECKED)
        g_assert_cmpint(max_rss_kib() - before, <, 48 * 1024);
}

/* json-glib recurses per nesting level: 100,000 '[' overflowed the stack. */
static void test_deep_nesting(void)
{
    hostile_command(FAKE_DEEP, HV_ERROR_GUEST, "nested deeper than", NULL);
}

/* Replies to other ids forever used to spin forever. */
static void test_other_ids(void)
{
    hostile_command(FAKE_OTHER_IDS, HV_ERROR_GUEST, "no reply among", NULL);
}

/* An event flood: bounded work, and only so many kinds remembered. */
static void test_event_flood(void)
{
    long before = max_rss_kib();
    hostile_command(FAKE_EVENT_FLOOD, HV_ERROR_GUEST, "no reply among", NULL);
    if (RSS_CHECKED)
        g_assert_cmpint(max_rss_kib() - before, <, 16 * 1024);
}

static gboolean set_flag(gpointer data)
{
    g_atomic_int_set((volatile gint *)data, 1);
    return G_SOURCE_REMOVE;
}

static gpointer cancel_later(gpointer data)
{
    g_usleep(300000);
    set_flag(data);
    return NULL;
}

/* A mute QEMU and SIGINT (the cancel flag): cancelled within a second or
 * two, not after the 60 s command timeout. */
static void test_cancel_while_waiting(void)
{
    static volatile gint cancel;
    g_atomic_int_set(&cancel, 0);
    GThread *t = g_thread_new("cancel", cancel_later, (gpointer)&cancel);
    gint64 t0 = g_get_monotonic_time();
    hostile_command(FAKE_MUTE, HV_ERROR_CANCELLED, "cancelled", &cancel);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    g_thread_join(t);
}

/* The guardian asked query-status and crashed on a non-string status. */
static void test_bad_status(void)
{
    struct fake f;
    GThread *t = fake_start(&f, FAKE_BAD_STATUS);
    GError *err = NULL;
    struct qmp_client *c = qmp_connect(f.path, 2000, &err);
    g_assert_no_error(err);
    g_assert_null(qmp_query_status(c, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "no \"status\" string"));
    g_clear_error(&err);
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
    g_test_add_func("/qmp/hostile/endless-line", test_endless_line);
    g_test_add_func("/qmp/hostile/deep-nesting", test_deep_nesting);
    g_test_add_func("/qmp/hostile/other-ids", test_other_ids);
    g_test_add_func("/qmp/hostile/event-flood", test_event_flood);
    g_test_add_func("/qmp/hostile/cancel-while-waiting", test_cancel_while_waiting);
    g_test_add_func("/qmp/hostile/status-not-a-string", test_bad_status);
    g_test_add_func("/qmp/msg_parse", test_msg_parse);
    g_test_add_func("/qmp/real_qemu", test_real_qemu);
    return g_test_run();
}
