/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's dump jobs (see daemon_jobs.h): a worker thread per dump runs
 * the dump, writes the sidecar and applies after=; the job table lives on
 * the main loop, which a worker reaches only through a queued callback
 * (pruning goes through the shared struct hvd_spool_room).  The last
 * MAX_FINISHED finished jobs are kept for query-dumps. */
#include "dumper/daemon/daemon_jobs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumper/daemon/daemon_sidecar.h"
#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/daemon/daemon_spool.h"
#include "dumper/engine/output.h"
#include "common/hv_error.h"

#define MAX_FINISHED 64
/* How much of the end of a console log is searched for the panic message:
 * the panic is among the last lines the guest wrote. */
#define CONSOLE_TAIL_BYTES (256 * 1024)

enum job_state { JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED };
static const char *const state_names[] = { "running", "completed", "failed", "cancelled" };

struct job {
    struct hvd_jobs *owner;
    guint id;
    virDomainPtr dom;
    char *domain, *uuid, *path, *sidecar, *format, *trigger;
    gboolean apply_after;
    int64_t qemu_pid;
    uint64_t qemu_start;
    volatile gint cancel;
    enum job_state state;
    char *error;
    char *after_error;
    int64_t start_usec, end_usec;
    uint64_t total;           /* guest RAM (for progress), 0 when unknown */
    uint64_t dump_bytes;
    GThread *thread;
};

struct hvd_jobs {
    const struct hvd_config *cfg;
    hvd_dump_fn fn;
    GMainContext *ctx;
    guint next_id;
    GHashTable *running;      /* domain name -> struct job */
    GQueue finished;          /* struct job, newest last */
    struct hvd_spool_room *room; /* pruning, shared by workers and main loop */
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

static void job_free(struct job *jb)
{
    if (jb->thread)
        g_thread_join(jb->thread);
    if (jb->dom)
        virDomainFree(jb->dom);
    g_free(jb->domain);
    g_free(jb->uuid);
    g_free(jb->path);
    g_free(jb->sidecar);
    g_free(jb->format);
    g_free(jb->trigger);
    g_free(jb->error);
    g_free(jb->after_error);
    g_free(jb);
}

struct hvd_jobs *hvd_jobs_new(const struct hvd_config *cfg, hvd_dump_fn fn)
{
    struct hvd_jobs *j = g_new0(struct hvd_jobs, 1);
    j->cfg = cfg;
    j->fn = fn;
    j->ctx = g_main_context_ref_thread_default();
    j->next_id = 1;
    j->running = g_hash_table_new(g_str_hash, g_str_equal);
    g_queue_init(&j->finished);
    j->room = hvd_spool_room_new(cfg->spool);
    return j;
}

void hvd_jobs_free(struct hvd_jobs *j)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, j->running);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_atomic_int_set(&((struct job *)v)->cancel, 1);
    /* Workers hand their completion to the main loop; run it until every
     * worker has returned so no job is leaked half-finished. */
    while (g_hash_table_size(j->running) > 0)
        g_main_context_iteration(j->ctx, TRUE);
    g_queue_clear_full(&j->finished, (GDestroyNotify)job_free);
    g_hash_table_unref(j->running);
    hvd_spool_room_free(j->room);
    g_main_context_unref(j->ctx);
    g_free(j);
}

/* after=: only for dumps of a crashed guest.  Restart = destroy + start
 * again, keeping a transient domain's definition across the destroy. */
static gboolean apply_after(struct job *jb, GError **err)
{
    enum hvd_after a = jb->owner->cfg->after;
    if (a == HVD_AFTER_NONE || !jb->dom)
        return TRUE;
    /* libvirtd may have restarted during the dump: the job's handle is then
     * on a dead connection; act on the same domain over a new one. */
    virDomainPtr live = hv_libvirt_domain_reopen(jb->dom, 30000, err);
    if (!live) {
        g_prefix_error(err, "after=: ");
        return FALSE;
    }
    virDomainFree(jb->dom);
    jb->dom = live;
    g_autofree char *xml = NULL;
    int persistent = virDomainIsPersistent(jb->dom);
    if (a == HVD_AFTER_RESTART && persistent != 1) {
        char *x = virDomainGetXMLDesc(jb->dom, VIR_DOMAIN_XML_SECURE);
        xml = g_strdup(x);
        free(x);
    }
    if (virDomainDestroy(jb->dom) < 0) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "after=: cannot destroy the domain");
        return FALSE;
    }
    if (a == HVD_AFTER_DESTROY)
        return TRUE;
    if (persistent == 1) {
        if (virDomainCreate(jb->dom) < 0) {
            hv_libvirt_error(err, HV_ERROR_GUEST, "after=restart: cannot start the domain");
            return FALSE;
        }
        return TRUE;
    }
    virDomainPtr nd = xml ? virDomainCreateXML(virDomainGetConnect(jb->dom), xml, 0) : NULL;
    if (!nd) {
        hv_libvirt_error(err, HV_ERROR_GUEST, "after=restart: cannot start the domain again");
        return FALSE;
    }
    virDomainFree(nd);
    return TRUE;
}

static char *panic_message(struct job *jb)
{
    if (!jb->dom)
        return NULL;
    char *xml = virDomainGetXMLDesc(jb->dom, 0);
    if (!xml) {
        virResetLastError();
        return NULL;
    }
    g_autofree char *log = hvd_console_log_path(xml);
    free(xml);
    if (!log)
        return NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = hvd_console_tail(log, CONSOLE_TAIL_BYTES, &err);
    if (!text) {
        g_printerr("hvdumpd: %s: no panic message: %s\n", jb->domain, err->message);
        return NULL;
    }
    return hvd_panic_message_from_log(text, strlen(text));
}

static gboolean job_done_in_main(gpointer ud);

/* The output hit ENOSPC (worker thread): the oldest finished dump goes. */
static gboolean job_nospace(void *ud)
{
    struct job *jb = ud;
    g_autofree char *why = g_strdup_printf("spool full (%s, dump %u)", jb->domain, jb->id);
    return hvd_spool_room_prune(jb->owner->room, why);
}

/* The dump may have taken the last free blocks: its sidecar is worth an
 * old dump, but only when space is really what is missing. */
static gboolean write_sidecar(struct job *jb, const struct hvd_sidecar *sc, GError **err)
{
    uint64_t avail;
    while (!hvd_sidecar_write(jb->sidecar, sc, err)) {
        if (!hvd_spool_free_bytes(jb->owner->cfg->spool, &avail, NULL) || avail >= (1u << 20) ||
            !job_nospace(jb))
            return FALSE;
        g_clear_error(err);
    }
    return TRUE;
}

/* The guardian (resumes the guest if hvdumpd dies while holding it
 * paused) is only needed when the dump pauses a running guest. */
static gboolean dom_running(virDomainPtr dom)
{
    int state = 0, reason = 0;
    if (!dom)
        return FALSE;
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        virResetLastError();
        return FALSE;
    }
    return state == VIR_DOMAIN_RUNNING;
}

static gpointer job_thread(gpointer ud)
{
    struct job *jb = ud;
    struct hv_libvirt_dump_opts o = { 0 };
    struct hv_libvirt_dump_result res;
    g_autoptr(GError) err = NULL;

    o.job.output_path = jb->path;
    o.job.output_fd = -1;
    o.job.format = jb->format;
    o.job.progress = HV_PROGRESS_NONE;
    o.job.cancel = &jb->cancel;
    o.live = FALSE;
    o.job.on_nospace = job_nospace;
    o.job.on_nospace_ud = jb;
    o.guardian = dom_running(jb->dom);
    o.uri = jb->owner->cfg->uri;
    hvd_spool_room_make_room(jb->owner->room, jb->owner->cfg->min_free);
    /* Read before the dump: after=destroy would take the console with it. */
    g_autofree char *panic = g_strcmp0(jb->trigger, "crash") == 0 ? panic_message(jb) : NULL;

    gboolean ok = jb->owner->fn(jb->dom, &o, &res, &err);
    jb->end_usec = g_get_real_time();
    if (ok) {
        struct stat st;
        jb->dump_bytes = stat(jb->path, &st) == 0 ? (uint64_t)st.st_size : res.job.bytes_written;
        struct hvd_sidecar sc = {
            .domain = jb->domain, .uuid = jb->uuid, .trigger = jb->trigger,
            .format = jb->format, .dump_path = jb->path,
            .start_usec = jb->start_usec, .end_usec = jb->end_usec,
            .dump_bytes = jb->dump_bytes, .guest_bytes = res.guest_bytes,
            .kernel_release = res.kernel_release, .panic_message = panic,
            .vmcoreinfo_untrusted = res.vmcoreinfo_untrusted,
            .qemu_pid = jb->qemu_pid, .qemu_start = jb->qemu_start,
        };
        if (!write_sidecar(jb, &sc, &err)) {
            /* The dump is good; a missing sidecar is worth a line, not a failure. */
            g_printerr("hvdumpd: %s: sidecar: %s\n", jb->domain, err->message);
            g_clear_error(&err);
        }
        jb->state = JOB_COMPLETED;
        g_autoptr(GError) ae = NULL;
        if (jb->apply_after && !apply_after(jb, &ae))
            jb->after_error = g_strdup(ae->message);
    } else {
        jb->state = g_error_matches(err, HV_ERROR, HV_ERROR_CANCELLED) ? JOB_CANCELLED : JOB_FAILED;
        if (g_error_matches(err, HV_ERROR, HV_ERROR_NOSPACE))
            jb->error = g_strdup_printf("%s; no finished dump left in the spool to remove",
                                        err->message);
        else
            jb->error = g_strdup(err ? err->message : "unknown error");
    }
    hv_libvirt_dump_result_clear(&res);
    run_in_main(jb->owner->ctx, job_done_in_main, jb);
    return NULL;
}

static gboolean job_done_in_main(gpointer ud)
{
    struct job *jb = ud;
    struct hvd_jobs *j = jb->owner;
    double secs = (double)(jb->end_usec - jb->start_usec) / G_USEC_PER_SEC;

    g_hash_table_remove(j->running, jb->domain);
    if (jb->state == JOB_COMPLETED) {
        g_printerr("hvdumpd: %s: dump %u completed: %s (%" G_GUINT64_FORMAT " bytes, %.1f s)\n",
                   jb->domain, jb->id, jb->path, jb->dump_bytes, secs);
        if (jb->after_error)
            g_printerr("hvdumpd: %s: %s\n", jb->domain, jb->after_error);
        else if (jb->apply_after && j->cfg->after != HVD_AFTER_NONE)
            g_printerr("hvdumpd: %s: after=%s done\n", jb->domain, hvd_after_name(j->cfg->after));
        hvd_spool_room_enforce(j->room, &(struct hvd_retention){ j->cfg->keep,
                               j->cfg->domain_max_bytes, j->cfg->max_bytes }, jb->path);
    } else {
        g_printerr("hvdumpd: %s: dump %u %s: %s\n", jb->domain, jb->id,
                   state_names[jb->state], jb->error);
        /* Destroying or restarting would lose the memory we failed to save. */
        if (jb->apply_after && j->cfg->after != HVD_AFTER_NONE)
            g_printerr("hvdumpd: %s: after=%s not applied: no dump was saved, the domain "
                       "is left as it is\n", jb->domain, hvd_after_name(j->cfg->after));
    }
    hvd_spool_room_set_busy(j->room, jb->path, FALSE);
    g_thread_join(jb->thread);
    jb->thread = NULL;
    g_queue_push_tail(&j->finished, jb);
    while (g_queue_get_length(&j->finished) > MAX_FINISHED)
        job_free(g_queue_pop_head(&j->finished));
    return G_SOURCE_REMOVE;
}

guint hvd_jobs_start(struct hvd_jobs *j, const struct hvd_job_request *r, GError **err)
{
    const char *format = r->format ? r->format : j->cfg->format;
    const struct hv_writer_ops *wops;
    enum hv_codec_id codec;
    struct job *other = g_hash_table_lookup(j->running, r->domain);

    if (other) {
        g_set_error(err, HV_ERROR, HV_ERROR_BUSY,
                    "domain '%s' already has a dump running (id %u)", r->domain, other->id);
        return 0;
    }
    if (!hv_format_parse(format, &wops, &codec, err))
        return 0;

    char *path = NULL, *sidecar = NULL;
    if (r->path) {
        path = hvd_spool_resolve_request(j->cfg->spool, r->domain, r->path,
                                         hvd_format_ext(format), err);
        if (!path)
            return 0;
        sidecar = hvd_spool_sidecar_for(path);
        if (g_file_test(sidecar, G_FILE_TEST_EXISTS) || g_strcmp0(sidecar, path) == 0) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS,
                        "sidecar %s would clash; choose another path", sidecar);
            g_free(path);
            g_free(sidecar);
            return 0;
        }
    } else if (!hvd_spool_new_name(j->cfg->spool, r->domain, hvd_format_ext(format),
                                   &path, &sidecar, err)) {
        return 0;
    }

    struct job *jb = g_new0(struct job, 1);
    jb->owner = j;
    jb->id = j->next_id++;
    if (r->dom) {
        virDomainRef(r->dom);
        jb->dom = r->dom;
    }
    jb->domain = g_strdup(r->domain);
    jb->uuid = g_strdup(r->uuid ? r->uuid : "");
    jb->path = path;
    jb->sidecar = sidecar;
    jb->format = g_strdup(format);
    jb->trigger = g_strdup(r->trigger ? r->trigger : "request");
    jb->apply_after = r->apply_after;
    jb->qemu_pid = r->qemu_pid;
    jb->qemu_start = r->qemu_start;
    jb->start_usec = g_get_real_time();
    if (r->dom) {
        virDomainInfo info;
        if (virDomainGetInfo(r->dom, &info) == 0)
            jb->total = (uint64_t)info.memory * 1024;
        virResetLastError();
    }
    g_hash_table_insert(j->running, jb->domain, jb);
    hvd_spool_room_set_busy(j->room, jb->path, TRUE);
    g_printerr("hvdumpd: %s: dump %u started (%s, %s) -> %s\n", jb->domain, jb->id,
               jb->trigger, jb->format, jb->path);
    jb->thread = g_thread_new("hvdumpd-dump", job_thread, jb);
    return jb->id;
}

/* Bytes written so far: the output's .partial while running. */
static uint64_t progress_of(const struct job *jb)
{
    struct stat st;
    if (jb->state != JOB_RUNNING)
        return jb->dump_bytes;
    g_autofree char *partial = hv_output_partial_path(jb->path);
    if (stat(partial, &st) == 0 || stat(jb->path, &st) == 0)
        return (uint64_t)st.st_size;
    return 0;
}

static JsonNode *describe(const struct job *jb)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, jb->id);
    json_builder_set_member_name(b, "domain");
    json_builder_add_string_value(b, jb->domain);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, state_names[jb->state]);
    json_builder_set_member_name(b, "trigger");
    json_builder_add_string_value(b, jb->trigger);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, jb->format);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, jb->path);
    json_builder_set_member_name(b, "written");
    json_builder_add_int_value(b, (gint64)progress_of(jb));
    json_builder_set_member_name(b, "total");
    json_builder_add_int_value(b, (gint64)jb->total);
    json_builder_set_member_name(b, "start_usec");
    json_builder_add_int_value(b, jb->start_usec);
    if (jb->state != JOB_RUNNING) {
        json_builder_set_member_name(b, "end_usec");
        json_builder_add_int_value(b, jb->end_usec);
    }
    if (jb->error) {
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, jb->error);
    }
    if (jb->after_error) {
        json_builder_set_member_name(b, "after_error");
        json_builder_add_string_value(b, jb->after_error);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static int by_id(gconstpointer a, gconstpointer b)
{
    const struct job *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

JsonNode *hvd_jobs_query(struct hvd_jobs *j)
{
    JsonArray *arr = json_array_new();
    for (GList *l = j->finished.head; l; l = l->next)
        json_array_add_element(arr, describe(l->data));
    GList *run = g_list_sort(g_hash_table_get_values(j->running), by_id);
    for (GList *l = run; l; l = l->next)
        json_array_add_element(arr, describe(l->data));
    g_list_free(run);
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, arr);
    return n;
}

JsonNode *hvd_jobs_describe(struct hvd_jobs *j, guint id)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, j->running);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (((struct job *)v)->id == id)
            return describe(v);
    for (GList *l = j->finished.head; l; l = l->next)
        if (((struct job *)l->data)->id == id)
            return describe(l->data);
    return NULL;
}

gboolean hvd_jobs_cancel(struct hvd_jobs *j, guint id, const char *domain, GError **err)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, j->running);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct job *jb = v;
        if ((id && jb->id == id) || (!id && g_strcmp0(domain, jb->domain) == 0)) {
            g_atomic_int_set(&jb->cancel, 1);
            g_printerr("hvdumpd: %s: dump %u cancel requested\n", jb->domain, jb->id);
            return TRUE;
        }
    }
    if (id)
        g_set_error(err, HV_ERROR, HV_ERROR_NOT_FOUND, "no running dump with id %u", id);
    else
        g_set_error(err, HV_ERROR, HV_ERROR_NOT_FOUND, "no running dump of domain '%s'",
                    domain ? domain : "");
    return FALSE;
}

guint hvd_jobs_n_running(struct hvd_jobs *j)
{
    return g_hash_table_size(j->running);
}
