/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The QMP client (guest-mem/qmp.c) reading whatever a hostile or broken
 * "QEMU" says.  qmp.c has no parser separate from its socket, so the input
 * is served verbatim as the whole byte stream of a fake QMP server (greeting,
 * replies, events), then the server hangs up.  The client connects, runs a
 * command and an HMP command, polls events, and must fail cleanly. */
#include "guest-mem/qmp.h"
#include "fuzz_common.h"

#include <sys/socket.h>
#include <sys/un.h>

struct server {
    int lfd;
    const uint8_t *data;
    size_t size;
};

static char sock_path[108];
static int listen_fd = -1;

static void setup_listener(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *dir = g_dir_make_tmp("hvdump-fuzz-qmp-XXXXXX", NULL);

    if (!dir)
        abort();
    snprintf(sock_path, sizeof sock_path, "%s/qmp.sock", dir);
    g_free(dir);
    g_strlcpy(sa.sun_path, sock_path, sizeof sa.sun_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listen_fd, 4) != 0)
        abort();
}

static gpointer serve(gpointer ud)
{
    struct server *s = ud;
    int fd = accept(s->lfd, NULL, NULL);
    char drain[4096];

    if (fd < 0)
        return NULL;
    for (size_t done = 0; done < s->size;) {
        /* MSG_NOSIGNAL: the client may hang up before reading it all. */
        ssize_t n = send(fd, s->data + done, s->size - done, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    while (read(fd, drain, sizeof drain) > 0)
        ;
    close(fd);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct server s = { .data = data, .size = size };
    GError *err = NULL;

    if (listen_fd < 0)
        setup_listener();
    s.lfd = listen_fd;
    GThread *t = g_thread_new("fuzz-qmp", serve, &s);
    struct qmp_client *c = qmp_connect(sock_path, 1000, &err);
    if (c) {
        JsonNode *r = qmp_execute(c, "query-status", NULL, &err);
        if (r)
            json_node_unref(r);
        g_clear_error(&err);
        g_free(qmp_hmp(c, "info mtree -f", &err));
        g_clear_error(&err);
        if (!qmp_poll_events(c, &err))
            g_clear_error(&err);
        qmp_event_seen(c, "STOP");
        qmp_last_error_class(c);
        qmp_close(c);
    } else {
        if (!err)
            abort();
        g_clear_error(&err);
    }
    g_thread_join(t);
    return 0;
}
