/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/engine/session.h"

#include <string.h>

#include "dumper/engine/guest_meta.h"
#include "common/hv_error.h"
#include "common/page.h"
#include "formats/vmcoreinfo.h"
#include "guest-mem/source_qemu.h"

/* Everything one live dump holds, released in one place (teardown). */
struct session {
    const struct hv_session_guest *guest;
    const struct hv_session_opts *opts;
    struct gm_source *src;
    GArray *cpus;
    struct hv_guest_meta gm;
    gboolean have_meta;
    GError *resume_err; /* from resume_when_read: the dump is good, the guest paused */
};

static void report(const struct session *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void report(const struct session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (s->opts->report)
        s->opts->report(s->opts->report_ud, line);
    else
        g_printerr("hvdump: %s\n", line);
}

static void arm_guard(void *ud)
{
    struct hv_guard *g = ud;
    g->ops->arm(g);
}

static void stand_down_guard(const struct session *s)
{
    if (s->guest->guard)
        s->guest->guard->ops->release(s->guest->guard);
}

/* After an end() that did something: the one line worth telling, if any. */
static void report_resume_way(const struct session *s)
{
    const char *how = s->guest->pauser->ops->describe(s->guest->pauser);
    if (how)
        report(s, "%s", how);
}

/* The job's source_done: the guest's memory is read, let it run.  The
 * guardian stands down only once the guest runs again. */
static void resume_when_read(void *ud)
{
    struct session *s = ud;
    struct hv_pauser *p = s->guest->pauser;
    gboolean ours = p->ops->paused_by_us(p);
    if (s->resume_err)
        return;
    if (!ours || p->ops->end(p, &s->resume_err))
        stand_down_guard(s);
    if (ours)
        report_resume_way(s);
}

static char *kernel_release_of(const struct hv_guest_meta *gm)
{
    if (gm->meta.uts.release[0])
        return g_strndup(gm->meta.uts.release, sizeof gm->meta.uts.release);
    if (gm->meta.vmcoreinfo)
        return hv_vmcoreinfo_get(gm->meta.vmcoreinfo, gm->meta.vmcoreinfo_len, "OSRELEASE");
    return NULL;
}

/* Nothing here changes the guest: a failure leaves it untouched. */
static gboolean open_guest(struct session *s, struct hv_session_result *res, GError **err)
{
    const struct hv_session_guest *g = s->guest;
    s->src = g->open_source ? g->open_source(g->mon, HV_PAGE_SIZE, err)
                            : gm_source_qemu_open(g->mon, HV_PAGE_SIZE, err);
    if (!s->src)
        return FALSE;
    for (size_t i = 0; i < s->src->n_blocks; i++)
        res->guest_bytes += s->src->blocks[i].size;
    return TRUE;
}

/* The guardian first, so that it is there when the pauser arms it. */
static gboolean pause_guest(struct session *s, GError **err)
{
    struct hv_guard *guard = s->guest->guard;
    struct hv_pauser *p = s->guest->pauser;

    if (guard) {
        g_autofree char *partial = hv_job_partial_path(&s->opts->job);
        if (!guard->ops->start(guard, partial, err))
            return FALSE;
        p->before_pause = arm_guard;
        p->before_pause_ud = guard;
    }
    return p->ops->begin(p, err);
}

/* With the guest stopped (unless live): vCPUs and guest metadata. */
static gboolean collect_meta(struct session *s, struct hv_session_result *res, GError **err)
{
    gint64 now = g_get_real_time();

    s->cpus = gm_qemu_read_cpus(s->guest->mon, err);
    if (!s->cpus)
        return FALSE;
    hv_guest_meta_init(&s->gm, s->src->page_size);
    s->gm.cancel = s->opts->job.cancel;   /* the VMCOREINFO scan looks at it */
    s->have_meta = TRUE;
    if (!hv_guest_meta_fill(&s->gm, s->src, s->opts->vmcoreinfo, err))
        return FALSE;
    if (s->gm.warning)
        report(s, "warning: %s", s->gm.warning);
    hv_guest_meta_set_cpus(&s->gm, (const struct hv_cpu_state *)(void *)s->cpus->data,
                           s->cpus->len);
    s->gm.meta.timestamp_sec = now / G_USEC_PER_SEC;
    s->gm.meta.timestamp_usec = now % G_USEC_PER_SEC;
    s->gm.meta.live = s->opts->live;
    res->kernel_release = kernel_release_of(&s->gm);
    res->vmcoreinfo_untrusted = s->gm.meta.vmcoreinfo_untrusted;
    return TRUE;
}

static gboolean cancelled(const struct session *s, GError **err)
{
    if (!s->opts->job.cancel || !g_atomic_int_get(s->opts->job.cancel))
        return FALSE;
    g_set_error(err, HV_ERROR, HV_ERROR_CANCELLED, "cancelled");
    return TRUE;
}

/* The guardian removes the partial file after a crash only once it knows
 * which file that is. */
static void tell_guard_partial(void *ud, uint64_t dev, uint64_t ino)
{
    struct hv_guard *g = ud;
    g->ops->partial_created(g, dev, ino);
}

static gboolean write_dump(struct session *s, struct hv_session_result *res, GError **err)
{
    struct hv_job_opts job = s->opts->job;
    job.source_done = s->opts->live ? NULL : resume_when_read;
    job.source_done_ud = s;
    if (s->guest->guard && s->guest->guard->ops->partial_created) {
        job.partial_created = tell_guard_partial;
        job.partial_created_ud = s->guest->guard;
    }
    if (!hv_job_run(s->src, &s->gm.meta, &job, &res->job, err)) {
        /* The dump's own failure is the error; a failed resume too is
         * worth its line. */
        if (s->resume_err)
            report(s, "%s", s->resume_err->message);
        g_clear_error(&s->resume_err);
        return FALSE;
    }
    res->written = TRUE;
    if (s->guest->pauser->ops->guest_shut_down(s->guest->pauser))
        report(s, "warning: the guest shut down during the dump");
    if (s->resume_err) {
        /* The file stays; the error says the guest needs the operator. */
        g_propagate_prefixed_error(err, g_steal_pointer(&s->resume_err), "dump written, but ");
        return FALSE;
    }
    return TRUE;
}

/* Resume before anything else goes away: the guest matters most. */
static void teardown(struct session *s)
{
    struct hv_pauser *p = s->guest->pauser;
    if (p->ops->paused_by_us(p)) {
        GError *e = NULL;
        if (!p->ops->end(p, &e)) {
            report(s, "%s", e->message);
            g_error_free(e);
        }
        report_resume_way(s);
    }
    p->before_pause = NULL;
    p->before_pause_ud = NULL;
    stand_down_guard(s);
    if (s->have_meta)
        hv_guest_meta_clear(&s->gm);
    if (s->cpus)
        g_array_unref(s->cpus);
    gm_source_close(s->src);
    g_clear_error(&s->resume_err);
}

gboolean hv_session_run(const struct hv_session_guest *guest,
                        const struct hv_session_opts *opts,
                        struct hv_session_result *res, GError **err)
{
    struct session s = {.guest = guest, .opts = opts};

    memset(res, 0, sizeof *res);
    gboolean ok = open_guest(&s, res, err) &&
                  (opts->live || pause_guest(&s, err)) &&
                  collect_meta(&s, res, err) &&
                  !cancelled(&s, err) &&
                  write_dump(&s, res, err);
    teardown(&s);
    return ok;
}

void hv_session_result_clear(struct hv_session_result *r)
{
    g_clear_pointer(&r->kernel_release, g_free);
}
