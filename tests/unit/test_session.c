/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hv_session_run without root or QEMU: a fake monitor (answers `info
 * registers -a`), an in-memory source, a recording pauser and a recording
 * guard.  A failure is injected at every step; for each: the guest is
 * resumed exactly once if the pauser stopped it (never if it was already
 * paused), before the source is closed, the guardian is released, and no
 * output file nor PATH.partial is left.  Plus success, live, a failed
 * resume and a guest that shut down; and the QMP pauser against a tiny fake
 * QMP server. */
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dumper/engine/session.h"
#include "common/hv_error.h"

#define PS 4096u
#define PAGES 4096u   /* 16 MiB: many pipeline batches, so a cancel is seen */

enum step {
    FAIL_NONE,
    FAIL_SOURCE_OPEN,
    FAIL_GUARD_START,
    FAIL_PAUSE,
    FAIL_CPUS,
    FAIL_META,
    FAIL_CANCEL_BEFORE_JOB, /* a signal while the metadata is read */
    FAIL_JOB,               /* the source cannot be read */
    FAIL_CANCEL_IN_JOB,     /* a signal while pages are read */
    FAIL_COMMIT,            /* the final name is taken while the dump is written */
};

/* The guest, as the fakes below see it, and what they recorded. */
struct fake_guest {
    struct gm_monitor mon;   /* first: the source factory gets only the monitor */
    enum step fail;
    gboolean already_paused; /* paused before the session began */
    gboolean resume_fails;
    gboolean shuts_down;
    gboolean paused;         /* the guest's state now */
    int stops, resumes, guard_starts, guard_releases;
    uint64_t partial_dev, partial_ino;  /* what the guard was told */
    GString *log;            /* events in order, space separated */
    volatile gint cancel;
    volatile gint name_taken; /* FAIL_COMMIT: a directory at the output path */
    char *output;            /* the dump's path */
    GPtrArray *reports;      /* lines given to the report callback */
};

static void record(struct fake_guest *g, const char *what)
{
    g_string_append_printf(g->log, "%s ", what);
}

/* ---- monitor ---- */

static char *fake_hmp(struct gm_monitor *m, const char *line, GError **err)
{
    struct fake_guest *g = (struct fake_guest *)m;
    g_assert_cmpstr(line, ==, "info registers -a");
    record(g, "cpus");
    if (g->fail == FAIL_CPUS) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "info registers: injected");
        return NULL;
    }
    if (g->fail == FAIL_CANCEL_BEFORE_JOB)
        g_atomic_int_set(&g->cancel, 1);
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data",
                                                  "hmp-info-registers-a-2cpu.txt", NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static char *fake_qmp(struct gm_monitor *m, const char *json, GError **err)
{
    (void)m;
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "%s: not faked", json);
    return NULL;
}

static pid_t fake_pid(struct gm_monitor *m, GError **err)
{
    (void)m;
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "no QEMU here");
    return -1;
}

static const struct gm_monitor_ops fake_monitor_ops = {
    .hmp = fake_hmp, .qmp = fake_qmp, .pid = fake_pid,
};

/* ---- source ---- */

struct mem_source {
    struct gm_source base;
    struct gm_block block;
    struct fake_guest *g;
    uint8_t *mem;
};

static gboolean mem_read(struct gm_source *s, uint64_t gpa, size_t n, uint8_t *buf,
                         enum gm_page_state *state, GError **err)
{
    struct mem_source *ms = (struct mem_source *)s;
    if (ms->g->fail == FAIL_JOB) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "read at 0x%" G_GINT64_MODIFIER "x: injected",
                    gpa);
        return FALSE;
    }
    if (ms->g->fail == FAIL_CANCEL_IN_JOB)
        g_atomic_int_set(&ms->g->cancel, 1);
    /* The final name is taken while the dump is being written (reads run
     * in several threads: once). */
    if (ms->g->fail == FAIL_COMMIT && g_atomic_int_compare_and_exchange(&ms->g->name_taken, 0, 1))
        g_assert_cmpint(g_mkdir(ms->g->output, 0700), ==, 0);
    memcpy(buf, ms->mem + gpa, n * PS);
    if (state)
        gm_page_state_fill(state, n, GM_PAGE_READ);
    return TRUE;
}

static void mem_close(struct gm_source *s)
{
    struct mem_source *ms = (struct mem_source *)s;
    record(ms->g, "close");
    g_free(ms->mem);
    g_free(ms);
}

static const struct gm_source_ops mem_ops = {
    .name = "test", .read = mem_read, .close = mem_close, .thread_safe = TRUE,
};

static struct gm_source *open_mem_source(struct gm_monitor *mon, uint32_t page_size,
                                         GError **err)
{
    struct fake_guest *g = (struct fake_guest *)mon;
    g_assert_cmpuint(page_size, ==, PS);
    record(g, "open");
    if (g->fail == FAIL_SOURCE_OPEN) {
        g_set_error(err, HV_ERROR, HV_ERROR_PERMISSION, "cannot read QEMU's memory: injected");
        return NULL;
    }
    struct mem_source *ms = g_new0(struct mem_source, 1);
    ms->base.ops = &mem_ops;
    ms->base.page_size = PS;
    ms->block = (struct gm_block){.gpa = 0, .size = (uint64_t)PAGES * PS};
    ms->base.blocks = &ms->block;
    ms->base.n_blocks = 1;
    ms->g = g;
    ms->mem = g_malloc0((gsize)PAGES * PS);
    /* Every 3rd page not zero, so the dump has data to write. */
    for (uint64_t p = 0; p < PAGES; p += 3)
        memset(ms->mem + p * PS, (int)(p & 0xff) | 1, 64);
    return &ms->base;
}

/* ---- recording pauser ---- */

struct rec_pauser {
    struct hv_pauser base;
    struct fake_guest *g;
    gboolean we_paused;
};

static gboolean rec_begin(struct hv_pauser *p, GError **err)
{
    struct rec_pauser *rp = (struct rec_pauser *)p;
    struct fake_guest *g = rp->g;
    if (g->paused && g->fail == FAIL_PAUSE) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "query-status: injected");
        return FALSE;
    }
    if (g->paused)
        return TRUE;
    if (p->before_pause)
        p->before_pause(p->before_pause_ud);
    if (g->fail == FAIL_PAUSE) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "cannot pause the guest: injected");
        return FALSE;
    }
    record(g, "stop");
    g->stops++;
    g->paused = TRUE;
    rp->we_paused = TRUE;
    return TRUE;
}

static gboolean rec_end(struct hv_pauser *p, GError **err)
{
    struct rec_pauser *rp = (struct rec_pauser *)p;
    struct fake_guest *g = rp->g;
    if (!rp->we_paused)
        return TRUE;
    rp->we_paused = FALSE;
    record(g, "resume");
    g->resumes++;
    if (g->resume_fails) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "cannot resume the guest: injected");
        return FALSE;
    }
    g->paused = FALSE;
    return TRUE;
}

static gboolean rec_paused_by_us(const struct hv_pauser *p)
{
    return ((const struct rec_pauser *)p)->we_paused;
}

static const char *rec_describe(const struct hv_pauser *p)
{
    (void)p;
    return NULL;
}

static gboolean rec_guest_shut_down(struct hv_pauser *p)
{
    return ((struct rec_pauser *)p)->g->shuts_down;
}

static void rec_free(struct hv_pauser *p)
{
    g_free(p);
}

static const struct hv_pauser_ops rec_pauser_ops = {
    .begin = rec_begin, .end = rec_end, .paused_by_us = rec_paused_by_us,
    .describe = rec_describe, .guest_shut_down = rec_guest_shut_down, .free = rec_free,
};

/* ---- recording guard ---- */

struct rec_guard {
    struct hv_guard base;
    struct fake_guest *g;
    gboolean started;
};

static gboolean guard_start(struct hv_guard *gd, const char *partial, GError **err)
{
    struct rec_guard *rg = (struct rec_guard *)gd;
    g_autofree char *want = g_strconcat(rg->g->output, ".partial", NULL);
    g_assert_cmpstr(partial, ==, want);
    record(rg->g, "guard");
    rg->g->guard_starts++;
    if (rg->g->fail == FAIL_GUARD_START) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "cannot start the guardian: injected");
        return FALSE;
    }
    rg->started = TRUE;
    return TRUE;
}

static void guard_arm(struct hv_guard *gd)
{
    record(((struct rec_guard *)gd)->g, "arm");
}

static void guard_partial_created(struct hv_guard *gd, uint64_t dev, uint64_t ino)
{
    struct rec_guard *rg = (struct rec_guard *)gd;
    /* The file exists now, and it is the one named. */
    g_autofree char *partial = g_strconcat(rg->g->output, ".partial", NULL);
    struct stat st;
    g_assert_cmpint(lstat(partial, &st), ==, 0);
    g_assert_cmpuint(st.st_dev, ==, dev);
    g_assert_cmpuint(st.st_ino, ==, ino);
    rg->g->partial_dev = dev;
    rg->g->partial_ino = ino;
    record(rg->g, "partial");
}

static void guard_release(struct hv_guard *gd)
{
    struct rec_guard *rg = (struct rec_guard *)gd;
    if (!rg->started)
        return;
    rg->started = FALSE;
    record(rg->g, "release");
    rg->g->guard_releases++;
}

static void guard_free(struct hv_guard *gd)
{
    g_free(gd);
}

static const struct hv_guard_ops rec_guard_ops = {
    .start = guard_start, .arm = guard_arm, .partial_created = guard_partial_created,
    .release = guard_release, .free = guard_free,
};

/* ---- running one session ---- */

static void keep_report(void *ud, const char *line)
{
    struct fake_guest *g = ud;
    g_ptr_array_add(g->reports, g_strdup(line));
}

static gboolean reported(const struct fake_guest *g, const char *part)
{
    for (guint i = 0; i < g->reports->len; i++)
        if (strstr(g_ptr_array_index(g->reports, i), part))
            return TRUE;
    return FALSE;
}

struct outcome {
    gboolean ok;
    GError *err;
    struct hv_session_result res;
};

static void run(struct fake_guest *g, const char *dir, gboolean live, GBytes *vmcoreinfo,
                struct outcome *out)
{
    g->mon.ops = &fake_monitor_ops;
    g->paused = g->already_paused;
    g->log = g_string_new("");
    g->reports = g_ptr_array_new_with_free_func(g_free);
    g->output = g_build_filename(dir, "vmcore", NULL);

    struct rec_pauser *rp = g_new0(struct rec_pauser, 1);
    rp->base.ops = &rec_pauser_ops;
    rp->g = g;
    struct rec_guard *rg = g_new0(struct rec_guard, 1);
    rg->base.ops = &rec_guard_ops;
    rg->g = g;
    struct hv_session_guest guest = {
        .mon = &g->mon, .pauser = &rp->base, .guard = live ? NULL : &rg->base,
        .open_source = open_mem_source,
    };
    struct hv_session_opts so = {
        .job = {
            .output_path = g->output, .output_fd = -1, .format = "kdump-zstd",
            .threads = 2, .progress = HV_PROGRESS_NONE, .cancel = &g->cancel,
        },
        .live = live, .vmcoreinfo = vmcoreinfo, .report = keep_report, .report_ud = g,
    };
    out->err = NULL;
    out->ok = hv_session_run(&guest, &so, &out->res, &out->err);
    g_test_message("log: %s", g->log->str);
    hv_pauser_free(&rp->base);
    hv_guard_free(&rg->base);
}

static void fake_guest_clear(struct fake_guest *g, struct outcome *out)
{
    g_string_free(g->log, TRUE);
    g_ptr_array_unref(g->reports);
    g_free(g->output);
    g_clear_error(&out->err);
    hv_session_result_clear(&out->res);
}

static gboolean is_regular(const char *path)
{
    struct stat st;
    return g_lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static gboolean exists(const char *path)
{
    struct stat st;
    return g_lstat(path, &st) == 0;
}

/* "a b c": a before b in the log (both present). */
static void assert_order(const struct fake_guest *g, const char *first, const char *then)
{
    g_autofree char *a = g_strconcat(first, " ", NULL);
    g_autofree char *b = g_strconcat(then, " ", NULL);
    const char *pa = strstr(g->log->str, a), *pb = strstr(g->log->str, b);
    g_assert_nonnull(pa);
    g_assert_nonnull(pb);
    g_assert_true(pa < pb);
}

static void remove_tree(const char *dir)
{
    g_autofree char *out = g_build_filename(dir, "vmcore", NULL);
    g_autofree char *partial = g_build_filename(dir, "vmcore.partial", NULL);
    g_unlink(partial);
    if (g_unlink(out) != 0)
        g_rmdir(out);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

struct fail_case {
    const char *name;
    enum step step;
    int error_code;
    gboolean already_paused;
};

static void test_failure(gconstpointer data)
{
    const struct fail_case *fc = data;
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {.fail = fc->step, .already_paused = fc->already_paused};
    struct outcome out;
    g_autoptr(GBytes) bad_vmcoreinfo = g_bytes_new_static("PAGESIZE=8192\n", 14);

    run(&g, dir, FALSE, fc->step == FAIL_META ? bad_vmcoreinfo : NULL, &out);
    g_assert_false(out.ok);
    g_assert_error(out.err, HV_ERROR, fc->error_code);
    g_assert_false(out.res.written);

    /* Stopped by us only when the pause was reached and the guest ran. */
    gboolean stopped = fc->step > FAIL_PAUSE && !fc->already_paused;
    g_assert_cmpint(g.stops, ==, stopped ? 1 : 0);
    g_assert_cmpint(g.resumes, ==, stopped ? 1 : 0);
    g_assert_cmpint(g.paused, ==, fc->already_paused);
    if (stopped) {
        assert_order(&g, "arm", "stop");
        assert_order(&g, "resume", "close");
    }
    /* Started once past source discovery, and then always released. */
    g_assert_cmpint(g.guard_starts, ==, fc->step > FAIL_SOURCE_OPEN ? 1 : 0);
    g_assert_cmpint(g.guard_releases, ==, fc->step > FAIL_GUARD_START ? 1 : 0);
    if (stopped)
        assert_order(&g, "resume", "release");

    g_autofree char *partial = g_strconcat(g.output, ".partial", NULL);
    g_assert_false(exists(partial));
    g_assert_false(is_regular(g.output)); /* FAIL_COMMIT: only the test's directory */
    if (fc->step != FAIL_COMMIT)
        g_assert_false(exists(g.output));
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

static void test_success(gconstpointer data)
{
    gboolean already_paused = GPOINTER_TO_INT(data);
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {.already_paused = already_paused};
    struct outcome out;

    run(&g, dir, FALSE, NULL, &out);
    g_assert_no_error(out.err);
    g_assert_true(out.ok);
    g_assert_true(out.res.written);
    g_assert_cmpuint(out.res.guest_bytes, ==, (uint64_t)PAGES * PS);
    g_assert_cmpint(g.stops, ==, already_paused ? 0 : 1);
    g_assert_cmpint(g.resumes, ==, already_paused ? 0 : 1);
    g_assert_cmpint(g.paused, ==, already_paused);
    g_assert_cmpint(g.guard_starts, ==, 1);
    g_assert_cmpint(g.guard_releases, ==, 1);
    if (!already_paused) {
        assert_order(&g, "guard", "arm");
        assert_order(&g, "arm", "stop");
        assert_order(&g, "stop", "cpus");
        assert_order(&g, "resume", "release");
        assert_order(&g, "resume", "close");
    }
    /* Zeroed memory holds no VMCOREINFO: a warning, not a failure. */
    g_assert_true(reported(&g, "warning: VMCOREINFO not found"));
    g_assert_false(reported(&g, "shut down"));
    g_assert_true(is_regular(g.output));
    g_assert_cmpuint(out.res.job.bytes_written, >, 0);
    /* The guard learnt the partial file's identity, which the final file
     * keeps (a rename). */
    struct stat st;
    g_assert_cmpint(stat(g.output, &st), ==, 0);
    g_assert_cmpuint(g.partial_ino, ==, st.st_ino);
    assert_order(&g, "guard", "partial");
    g_autofree char *partial = g_strconcat(g.output, ".partial", NULL);
    g_assert_false(exists(partial));
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

/* --vmcoreinfo text is used instead of searching the guest. */
static void test_vmcoreinfo_given(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {0};
    struct outcome out;
    static const char text[] = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n";
    g_autoptr(GBytes) vi = g_bytes_new_static(text, sizeof text - 1);

    run(&g, dir, FALSE, vi, &out);
    g_assert_no_error(out.err);
    g_assert_cmpstr(out.res.kernel_release, ==, "6.1.0-test");
    g_assert_false(reported(&g, "VMCOREINFO not found"));
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

static void test_live(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {0};
    struct outcome out;

    run(&g, dir, TRUE, NULL, &out);
    g_assert_no_error(out.err);
    g_assert_true(out.ok);
    g_assert_cmpint(g.stops, ==, 0);
    g_assert_cmpint(g.resumes, ==, 0);
    g_assert_cmpint(g.guard_starts, ==, 0);
    g_assert_true(is_regular(g.output));
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

/* The dump is good, the guest stays paused: one attempt, the file stays,
 * the error says so. */
static void test_resume_fails_after_dump(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {.resume_fails = TRUE};
    struct outcome out;

    run(&g, dir, FALSE, NULL, &out);
    g_assert_false(out.ok);
    g_assert_true(out.res.written);
    g_assert_error(out.err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_true(g_str_has_prefix(out.err->message, "dump written, but cannot resume"));
    g_assert_cmpint(g.resumes, ==, 1);
    g_assert_true(is_regular(g.output));
    g_assert_cmpint(g.guard_releases, ==, 1);
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

/* The dump failed and so did the resume: the dump's error is returned, the
 * resume's is reported. */
static void test_resume_fails_after_failure(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {.resume_fails = TRUE, .fail = FAIL_CPUS};
    struct outcome out;

    run(&g, dir, FALSE, NULL, &out);
    g_assert_false(out.ok);
    g_assert_false(out.res.written);
    g_assert_true(strstr(out.err->message, "info registers") != NULL);
    g_assert_cmpint(g.resumes, ==, 1);
    g_assert_true(reported(&g, "cannot resume the guest: injected"));
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

static void test_guest_shut_down(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvdump-session-XXXXXX", NULL);
    struct fake_guest g = {.shuts_down = TRUE};
    struct outcome out;

    run(&g, dir, FALSE, NULL, &out);
    g_assert_true(out.ok);
    g_assert_true(reported(&g, "warning: the guest shut down during the dump"));
    fake_guest_clear(&g, &out);
    remove_tree(dir);
}

/* ---- the QMP pauser against a fake QMP server ---- */

struct fake_qmp {
    gboolean running;        /* what query-status answers */
    gboolean shutdown_event; /* send SHUTDOWN before the reply to `cont` */
    int lfd;
    char path[108];
    GString *commands;       /* every command after qmp_capabilities, in order */
};

static void qmp_send(int fd, const char *s)
{
    g_assert_cmpint(write(fd, s, strlen(s)), ==, (ssize_t)strlen(s));
}

/* One command line, or NULL at end of file. */
static char *qmp_read_line(int fd)
{
    GString *l = g_string_new(NULL);
    char c;
    while (read(fd, &c, 1) == 1) {
        if (c == '\n')
            return g_string_free(l, FALSE);
        g_string_append_c(l, c);
    }
    g_string_free(l, TRUE);
    return NULL;
}

static gpointer fake_qmp_main(gpointer data)
{
    struct fake_qmp *f = data;
    int fd = accept(f->lfd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    qmp_send(fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
    char *line;
    while ((line = qmp_read_line(fd))) {
        g_autoptr(JsonParser) p = json_parser_new();
        g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        const char *cmd = json_object_get_string_member(o, "execute");
        gint64 id = json_object_get_int_member(o, "id");
        g_autofree char *ret = NULL;
        if (strcmp(cmd, "query-status") == 0)
            ret = g_strdup_printf("{\"running\": %s, \"status\": \"%s\"}",
                                  f->running ? "true" : "false",
                                  f->running ? "running" : "paused");
        if (strcmp(cmd, "qmp_capabilities") != 0)
            g_string_append_printf(f->commands, "%s ", cmd);
        if (strcmp(cmd, "stop") == 0)
            f->running = FALSE;
        if (strcmp(cmd, "cont") == 0) {
            f->running = TRUE;
            if (f->shutdown_event)
                qmp_send(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                             "\"event\": \"SHUTDOWN\"}\r\n");
        }
        g_autofree char *reply = g_strdup_printf("{\"return\": %s, \"id\": %" G_GINT64_FORMAT
                                                 "}\r\n", ret ? ret : "{}", id);
        qmp_send(fd, reply);
        g_free(line);
    }
    close(fd);
    return NULL;
}

static GThread *fake_qmp_start(struct fake_qmp *f, gboolean running)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_autofree char *dir = g_dir_make_tmp("hvdump-qmp-XXXXXX", NULL);
    f->running = running;
    f->commands = g_string_new("");
    g_snprintf(f->path, sizeof f->path, "%s/qmp.sock", dir);
    g_strlcpy(sa.sun_path, f->path, sizeof sa.sun_path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_assert_cmpint(listen(f->lfd, 1), ==, 0);
    return g_thread_new("fake-qmp", fake_qmp_main, f);
}

static void fake_qmp_stop(struct fake_qmp *f, GThread *t)
{
    g_thread_join(t);
    close(f->lfd);
    g_unlink(f->path);
    g_autofree char *dir = g_path_get_dirname(f->path);
    g_rmdir(dir);
    g_string_free(f->commands, TRUE);
}

static void count_hook(void *ud)
{
    struct fake_qmp *f = ud;
    /* Called before `stop` is sent: nothing but query-status so far. */
    g_assert_cmpstr(f->commands->str, ==, "query-status ");
    g_string_append(f->commands, "(hook) ");
}

static void test_qmp_pauser(gconstpointer data)
{
    gboolean running = GPOINTER_TO_INT(data);
    struct fake_qmp f = {0};
    GThread *t = fake_qmp_start(&f, running);
    f.shutdown_event = TRUE;
    GError *err = NULL;
    struct qmp_client *c = qmp_connect(f.path, 2000, &err);
    g_assert_no_error(err);

    struct hv_pauser *p = hv_qmp_pauser_new(c);
    p->before_pause = count_hook;
    p->before_pause_ud = &f;
    g_assert_true(p->ops->end(p, &err));   /* before begin: nothing */
    g_assert_true(p->ops->begin(p, &err));
    g_assert_no_error(err);
    g_assert_cmpint(p->ops->paused_by_us(p), ==, running);
    g_assert_true(p->ops->end(p, &err));
    g_assert_false(p->ops->paused_by_us(p));
    g_assert_true(p->ops->end(p, &err));   /* twice: one `cont` at most */
    g_assert_null(p->ops->describe(p));
    /* The SHUTDOWN event came with the reply to `cont`: only when we sent it. */
    g_assert_cmpint(p->ops->guest_shut_down(p), ==, running);
    hv_pauser_free(p);
    qmp_close(c);
    g_assert_cmpstr(f.commands->str, ==,
                    running ? "query-status (hook) stop cont " : "query-status ");
    fake_qmp_stop(&f, t);
}

static const struct fail_case fail_cases[] = {
    {"source-open", FAIL_SOURCE_OPEN, HV_ERROR_PERMISSION, FALSE},
    {"guardian-start", FAIL_GUARD_START, HV_ERROR_IO, FALSE},
    {"pause", FAIL_PAUSE, HV_ERROR_GUEST, FALSE},
    {"cpus", FAIL_CPUS, HV_ERROR_GUEST, FALSE},
    {"metadata", FAIL_META, HV_ERROR_UNSUPPORTED, FALSE},
    {"cancel-before-job", FAIL_CANCEL_BEFORE_JOB, HV_ERROR_CANCELLED, FALSE},
    {"job", FAIL_JOB, HV_ERROR_IO, FALSE},
    {"cancel-in-job", FAIL_CANCEL_IN_JOB, HV_ERROR_CANCELLED, FALSE},
    {"commit", FAIL_COMMIT, HV_ERROR_EXISTS, FALSE},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    static struct fail_case paused_cases[G_N_ELEMENTS(fail_cases)];
    for (size_t i = 0; i < G_N_ELEMENTS(fail_cases); i++) {
        g_autofree char *path = g_strdup_printf("/session/fail/running/%s", fail_cases[i].name);
        g_test_add_data_func(path, &fail_cases[i], test_failure);
        paused_cases[i] = fail_cases[i];
        paused_cases[i].already_paused = TRUE;
        g_autofree char *ppath = g_strdup_printf("/session/fail/already-paused/%s",
                                                 fail_cases[i].name);
        g_test_add_data_func(ppath, &paused_cases[i], test_failure);
    }
    g_test_add_data_func("/session/success/running", GINT_TO_POINTER(FALSE), test_success);
    g_test_add_data_func("/session/success/already-paused", GINT_TO_POINTER(TRUE),
                         test_success);
    g_test_add_func("/session/vmcoreinfo-given", test_vmcoreinfo_given);
    g_test_add_func("/session/live", test_live);
    g_test_add_func("/session/resume-fails/after-dump", test_resume_fails_after_dump);
    g_test_add_func("/session/resume-fails/after-failure", test_resume_fails_after_failure);
    g_test_add_func("/session/guest-shut-down", test_guest_shut_down);
    g_test_add_data_func("/session/qmp-pauser/running", GINT_TO_POINTER(TRUE), test_qmp_pauser);
    g_test_add_data_func("/session/qmp-pauser/already-paused", GINT_TO_POINTER(FALSE),
                         test_qmp_pauser);
    return g_test_run();
}
