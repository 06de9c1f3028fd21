/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt's event loop on a thread of its own, handing domain crashes and
 * connection loss to the GLib main context (see daemon_events.h).  libvirt
 * calls back on its thread, while the daemon's state lives on the main
 * loop: the callbacks only queue work there. */
#include "dumper/daemon/daemon_events.h"

#include <stdlib.h>

#include "dumper/libvirt/libvirt_conn.h"

#define RETRY_SECONDS 3

struct hvd_events {
    char *uri;
    hvd_crash_fn fn;
    void *ud;
    GMainContext *ctx;
    virConnectPtr conn;
    int lifecycle_id;
    guint retry_source;
    GThread *loop_thread;
    volatile gint quit;
    int tick_timer;
};

/* Always queued for the main loop: g_main_context_invoke() would run the
 * function right here when nobody owns the context at that moment. */
static void run_in_main(GMainContext *ctx, GSourceFunc fn, gpointer data)
{
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, fn, data, NULL);
    g_source_attach(s, ctx);
    g_source_unref(s);
}

struct crash_msg {
    struct hvd_events *ev;
    virDomainPtr dom;
    const char *why;
};

static gboolean crash_in_main(gpointer ud)
{
    struct crash_msg *m = ud;
    m->ev->fn(m->ev->ud, m->dom, m->why);
    virDomainFree(m->dom);
    g_free(m);
    return G_SOURCE_REMOVE;
}

/* Runs in the libvirt event thread. */
static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *ud)
{
    struct hvd_events *ev = ud;
    const char *why = NULL;
    (void)conn;
    /* pvpanic + <on_crash>preserve</on_crash>: libvirt reports CRASHED
     * (detail PANICKED) and keeps the QEMU process with its vCPUs stopped. */
    if (event == VIR_DOMAIN_EVENT_CRASHED)
        why = detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED ? "panicked" : "crashed";
    if (!why)
        return 0;
    struct crash_msg *m = g_new0(struct crash_msg, 1);
    m->ev = ev;
    virDomainRef(dom);
    m->dom = dom;
    m->why = why;
    run_in_main(ev->ctx, crash_in_main, m);
    return 0;
}

static gboolean try_connect(gpointer ud);

/* Crashes while we were away (hvdumpd down, libvirtd restarting) sent
 * their events to nobody: a domain libvirt still shows crashed, or paused
 * after a panic, is handed on as if its event had come now. */
static void queue_crashed(struct hvd_events *ev, virConnectPtr c)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        virResetLastError();
        return;
    }
    for (int i = 0; i < n; i++) {
        int state = 0, reason = 0;
        if (virDomainGetState(doms[i], &state, &reason, 0) == 0 &&
            (state == VIR_DOMAIN_CRASHED ||
             (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_CRASHED))) {
            struct crash_msg *m = g_new0(struct crash_msg, 1);
            m->ev = ev;
            m->dom = doms[i];   /* the reference moves to the message */
            m->why = "found crashed (its event came while hvdumpd was not listening)";
            run_in_main(ev->ctx, crash_in_main, m);
        } else {
            virDomainFree(doms[i]);
        }
    }
    free(doms);
}

static void drop_connection(struct hvd_events *ev)
{
    if (!ev->conn)
        return;
    if (ev->lifecycle_id >= 0)
        virConnectDomainEventDeregisterAny(ev->conn, ev->lifecycle_id);
    ev->lifecycle_id = -1;
    virConnectClose(ev->conn);
    virResetLastError();
    ev->conn = NULL;
}

static gboolean closed_in_main(gpointer ud)
{
    struct hvd_events *ev = ud;
    if (!ev->conn)
        return G_SOURCE_REMOVE;
    g_printerr("hvdumpd: lost the connection to libvirt; reconnecting every %d s\n",
               RETRY_SECONDS);
    drop_connection(ev);
    if (!ev->retry_source)
        ev->retry_source = g_timeout_add_seconds(RETRY_SECONDS, try_connect, ev);
    return G_SOURCE_REMOVE;
}

/* Runs in the libvirt event thread. */
static void on_close(virConnectPtr conn, int reason, void *ud)
{
    struct hvd_events *ev = ud;
    (void)conn;
    (void)reason;
    run_in_main(ev->ctx, closed_in_main, ev);
}

static gboolean try_connect(gpointer ud)
{
    struct hvd_events *ev = ud;
    g_autoptr(GError) err = NULL;
    virConnectPtr c = hv_libvirt_connect(ev->uri, &err);
    if (!c) {
        g_printerr("hvdumpd: %s (retrying)\n", err->message);
        return G_SOURCE_CONTINUE;
    }
    /* Keepalive lets a hung or restarted libvirtd be noticed. */
    virConnectSetKeepAlive(c, 5, 3);
    ev->lifecycle_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                        VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                                                        ev, NULL);
    if (ev->lifecycle_id < 0 || virConnectRegisterCloseCallback(c, on_close, ev, NULL) < 0) {
        g_autoptr(GError) e = NULL;
        hv_libvirt_error(&e, 0, "cannot subscribe to libvirt events");
        g_printerr("hvdumpd: %s (retrying)\n", e->message);
        if (ev->lifecycle_id >= 0)
            virConnectDomainEventDeregisterAny(c, ev->lifecycle_id);
        ev->lifecycle_id = -1;
        virConnectClose(c);
        return G_SOURCE_CONTINUE;
    }
    ev->conn = c;
    g_printerr("hvdumpd: connected to %s\n", ev->uri ? ev->uri : hv_libvirt_default_uri());
    ev->retry_source = 0;
    queue_crashed(ev, c);
    return G_SOURCE_REMOVE;
}

static void tick(int timer, void *ud)
{
    (void)timer;
    (void)ud;
}

static gpointer loop_thread(gpointer ud)
{
    struct hvd_events *ev = ud;
    while (!g_atomic_int_get(&ev->quit))
        virEventRunDefaultImpl();
    return NULL;
}

struct hvd_events *hvd_events_new(const char *uri, hvd_crash_fn fn, void *ud)
{
    static gsize registered;
    if (g_once_init_enter(&registered)) {
        virEventRegisterDefaultImpl();
        g_once_init_leave(&registered, 1);
    }
    struct hvd_events *ev = g_new0(struct hvd_events, 1);
    ev->uri = g_strdup(uri);
    ev->fn = fn;
    ev->ud = ud;
    ev->ctx = g_main_context_ref_thread_default();
    ev->lifecycle_id = -1;
    /* A periodic timer so the loop thread wakes up to notice quit. */
    ev->tick_timer = virEventAddTimeout(500, tick, NULL, NULL);
    ev->loop_thread = g_thread_new("libvirt-events", loop_thread, ev);
    if (try_connect(ev) == G_SOURCE_CONTINUE)
        ev->retry_source = g_timeout_add_seconds(RETRY_SECONDS, try_connect, ev);
    return ev;
}

virConnectPtr hvd_events_conn(struct hvd_events *ev)
{
    return ev->conn;
}

void hvd_events_free(struct hvd_events *ev)
{
    if (!ev)
        return;
    if (ev->retry_source)
        g_source_remove(ev->retry_source);
    if (ev->conn)
        virConnectUnregisterCloseCallback(ev->conn, on_close);
    drop_connection(ev);
    g_atomic_int_set(&ev->quit, 1);
    g_thread_join(ev->loop_thread);
    if (ev->tick_timer >= 0)
        virEventRemoveTimeout(ev->tick_timer);
    /* Deliveries already queued for the main context point at ev. */
    while (g_main_context_pending(ev->ctx))
        g_main_context_iteration(ev->ctx, FALSE);
    g_main_context_unref(ev->ctx);
    g_free(ev->uri);
    g_free(ev);
}
