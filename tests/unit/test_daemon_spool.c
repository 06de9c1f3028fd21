/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spool: retention policy (pure), client path validation, naming,
 * scanning and enforcing on real files, and the sidecar. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumper/daemon/daemon_sidecar.h"
#include "dumper/daemon/daemon_ratelimit.h"
#include "dumper/daemon/daemon_spool.h"
#include "common/hv_error.h"

static struct hvd_dump_file *mk(const char *dom, const char *path, uint64_t size, int64_t mtime)
{
    struct hvd_dump_file *f = g_new0(struct hvd_dump_file, 1);
    f->domain = g_strdup(dom);
    f->path = g_strdup(path);
    f->size = size;
    f->mtime = mtime;
    return f;
}

/* keep, max-bytes (and no per-domain cap) as a struct hvd_retention. */
#define RT(keep, max) (&(struct hvd_retention){ (keep), 0, (max) })

static gboolean chosen(GPtrArray *out, const char *path)
{
    for (guint i = 0; i < out->len; i++)
        if (!strcmp(((struct hvd_dump_file *)out->pdata[i])->path, path))
            return TRUE;
    return FALSE;
}

static GPtrArray *sample(void)
{
    GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)hvd_dump_file_free);
    /* Deliberately not in time order. */
    g_ptr_array_add(a, mk("a", "a3", 100, 30));
    g_ptr_array_add(a, mk("a", "a1", 100, 10));
    g_ptr_array_add(a, mk("b", "b1", 500, 15));
    g_ptr_array_add(a, mk("a", "a2", 100, 20));
    g_ptr_array_add(a, mk("b", "b2", 500, 40));
    return a;
}

static void test_retention_none(void)
{
    g_autoptr(GPtrArray) a = sample();
    g_autoptr(GPtrArray) out = hvd_retention_select(a, RT(0, 0), NULL);
    g_assert_cmpuint(out->len, ==, 0);
    out = (g_ptr_array_unref(out), hvd_retention_select(a, RT(0, 1300), NULL)); /* exactly the total */
    g_assert_cmpuint(out->len, ==, 0);
}

static void test_retention_keep(void)
{
    g_autoptr(GPtrArray) a = sample();
    g_autoptr(GPtrArray) out = hvd_retention_select(a, RT(2, 0), NULL);
    g_assert_cmpuint(out->len, ==, 1);
    g_assert_true(chosen(out, "a1")); /* oldest of a; b has only 2 */
    g_ptr_array_unref(out);
    out = hvd_retention_select(a, RT(1, 0), NULL);
    g_assert_cmpuint(out->len, ==, 3);
    g_assert_true(chosen(out, "a1") && chosen(out, "a2") && chosen(out, "b1"));
    g_assert_false(chosen(out, "a3") || chosen(out, "b2"));
}

static void test_retention_bytes(void)
{
    g_autoptr(GPtrArray) a = sample();
    /* 1300 total, cap 800: drop oldest overall: a1 (10), b1 (15) -> 700. */
    g_autoptr(GPtrArray) out = hvd_retention_select(a, RT(0, 800), NULL);
    g_assert_cmpuint(out->len, ==, 2);
    g_assert_true(chosen(out, "a1") && chosen(out, "b1"));
    /* Returned oldest first. */
    g_assert_cmpstr(((struct hvd_dump_file *)out->pdata[0])->path, ==, "a1");
}

static void test_retention_protect(void)
{
    g_autoptr(GPtrArray) a = sample();
    g_ptr_array_add(a, mk("a", "new", 5000, 50)); /* alone over the cap */
    g_autoptr(GPtrArray) out = hvd_retention_select(a, RT(0, 1000), "new");
    g_assert_false(chosen(out, "new"));
    /* Everything else goes but b's newest: a domain's newest dump is never
     * pruned for bytes. */
    g_assert_cmpuint(out->len, ==, 4);
    g_assert_false(chosen(out, "b2"));
    g_ptr_array_unref(out);
    /* keep=1 with the protected one the newest of a: the other a's go. */
    out = hvd_retention_select(a, RT(1, 0), "new");
    g_assert_false(chosen(out, "new"));
    g_assert_true(chosen(out, "a1") && chosen(out, "a2") && chosen(out, "a3"));
    g_ptr_array_unref(out);
    /* The protected one is older than others in its domain: still kept. */
    out = hvd_retention_select(a, RT(1, 0), "a1");
    g_assert_false(chosen(out, "a1"));
    g_assert_true(chosen(out, "a2"));
}

static void test_relpath(void)
{
    const char *good[] = { "x.kdump", "dir/x.elf", "a/b/c" };
    const char *bad[] = { "", "/abs/x", "../x", "a/../../x", "a/..", "a//b", "a/", "./x", ".." };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
        g_assert_true(hvd_spool_check_relpath(good[i], NULL));
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *err = NULL;
        g_assert_false(hvd_spool_check_relpath(bad[i], &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_clear_error(&err);
    }
    g_assert_false(hvd_spool_check_relpath(NULL, NULL));
}

/* Client paths: newlines, no extension, another domain's directory, and
 * two domains that shared one directory. */
static void test_request_paths(void)
{
    g_autofree char *spool = g_dir_make_tmp("hvd-spool-XXXXXX", NULL);
    GError *err = NULL;
    g_autofree char *p = hvd_spool_resolve_request(spool, "vm1", "x.kdump", "kdump", &err);
    g_assert_no_error(err);
    g_autofree char *want = g_build_filename(spool, "vm1", "x.kdump", NULL);
    g_assert_cmpstr(p, ==, want);
    const char *bad[] = { "x\n.kdump", "x.elf", "x", ".kdump", ".hidden.kdump",
                          "vm2/x.kdump", "../vm2/x.kdump", "x.kdump.partial", "x\x1b.kdump" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(hvd_spool_resolve_request(spool, "vm1", bad[i], "kdump", &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_assert_null(strchr(err->message, '\n'));
        g_clear_error(&err);
    }
    /* One directory per domain, one domain per directory. */
    g_autofree char *a = hvd_spool_domain_dir(".x");
    g_autofree char *b = hvd_spool_domain_dir("_x");
    g_autofree char *c = hvd_spool_domain_dir("%2Ex");
    g_assert_cmpstr(a, !=, b);
    g_assert_cmpstr(a, !=, c);
    g_assert_cmpstr(b, ==, "_x");
    g_assert_cmpstr(a, ==, "%2Ex");
    g_assert_cmpstr(c, ==, "%252Ex");
    g_autofree char *d = hvd_spool_domain_dir("vm-1.example");
    g_assert_cmpstr(d, ==, "vm-1.example");
    /* A domain directory that is a symlink is refused. */
    g_autofree char *link = g_build_filename(spool, "vm3", NULL);
    g_assert_cmpint(symlink("/tmp", link), ==, 0);
    g_assert_null(hvd_spool_resolve_request(spool, "vm3", "x.kdump", "kdump", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_PERMISSION);
    g_clear_error(&err);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", spool);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_resolve(void)
{
    g_autofree char *spool = g_dir_make_tmp("hvd-spool-XXXXXX", NULL);
    g_autofree char *outside = g_dir_make_tmp("hvd-out-XXXXXX", NULL);
    GError *err = NULL;

    g_autofree char *p = hvd_spool_resolve(spool, "sub/dir/x.kdump", &err);
    g_assert_no_error(err);
    g_autofree char *want = g_build_filename(spool, "sub/dir/x.kdump", NULL);
    g_assert_cmpstr(p, ==, want);
    g_autofree char *sub = g_build_filename(spool, "sub/dir", NULL);
    g_assert_true(g_file_test(sub, G_FILE_TEST_IS_DIR)); /* created */

    /* A symlinked directory inside the spool pointing out of it. */
    g_autofree char *link = g_build_filename(spool, "evil", NULL);
    g_assert_cmpint(symlink(outside, link), ==, 0);
    g_assert_null(hvd_spool_resolve(spool, "evil/x.kdump", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_PERMISSION);
    g_clear_error(&err);
    /* A symlink as the final name (even dangling). */
    g_autofree char *flink = g_build_filename(spool, "f.kdump", NULL);
    g_assert_cmpint(symlink("/etc/passwd-nonexistent", flink), ==, 0);
    g_assert_null(hvd_spool_resolve(spool, "f.kdump", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_PERMISSION);
    g_clear_error(&err);
    /* An existing file. */
    g_assert_true(g_file_set_contents(want, "x", 1, NULL));
    g_assert_null(hvd_spool_resolve(spool, "sub/dir/x.kdump", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_clear_error(&err);
    /* A file used as a directory. */
    g_assert_null(hvd_spool_resolve(spool, "sub/dir/x.kdump/y", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(hvd_spool_resolve(spool, "../x", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s' '%s'", spool, outside);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void touch(const char *path, size_t size, time_t mtime)
{
    g_autofree char *buf = g_malloc0(size);
    g_assert_true(g_file_set_contents(path, buf, (gssize)size, NULL));
    struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
    g_assert_cmpint(utimensat(AT_FDCWD, path, ts, 0), ==, 0);
}

static void test_scan_enforce(void)
{
    g_autofree char *spool = g_dir_make_tmp("hvd-spool-XXXXXX", NULL);
    g_autofree char *d1 = g_build_filename(spool, "vm1", NULL);
    g_autofree char *d2 = g_build_filename(spool, "vm2", NULL);
    g_mkdir(d1, 0750);
    g_mkdir(d2, 0750);
    char p[4][256];
    for (int i = 0; i < 3; i++) {
        g_snprintf(p[i], sizeof p[i], "%s/2024010%dT000000Z.kdump", d1, i + 1);
        touch(p[i], 1000, 1000000 + i * 10);
        g_autofree char *sc = hvd_spool_sidecar_for(p[i]);
        touch(sc, 10, 1000000 + i * 10);
    }
    g_snprintf(p[3], sizeof p[3], "%s/x.elf", d2);
    touch(p[3], 2000, 1000005);
    /* Not dumps: in-progress output, other files, a symlink. */
    g_autofree char *partial = g_strdup_printf("%s/y.kdump.partial", d2);
    touch(partial, 5000, 1);
    g_autofree char *txt = g_strdup_printf("%s/notes.txt", d2);
    touch(txt, 5000, 1);
    g_autofree char *ln = g_strdup_printf("%s/l.kdump", d2);
    g_assert_cmpint(symlink(p[3], ln), ==, 0);

    g_autoptr(GPtrArray) all = hvd_spool_scan(spool);
    g_assert_cmpuint(all->len, ==, 4);
    uint64_t total = 0;
    for (guint i = 0; i < all->len; i++)
        total += ((struct hvd_dump_file *)all->pdata[i])->size;
    g_assert_cmpuint(total, ==, 3 * 1010 + 2000);

    /* keep=2: vm1's oldest dump and its sidecar go. */
    g_assert_cmpuint(hvd_spool_enforce(spool, RT(2, 0), NULL), ==, 1);
    g_assert_false(g_file_test(p[0], G_FILE_TEST_EXISTS));
    g_autofree char *sc0 = hvd_spool_sidecar_for(p[0]);
    g_assert_false(g_file_test(sc0, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(p[1], G_FILE_TEST_EXISTS));
    /* max-bytes: 2020 + 2000 left; cap 2500, protecting vm2's x.elf:
     * the oldest of the rest (vm1 #2) goes; vm1 #3 is vm1's newest and
     * stays, over the cap or not. */
    g_assert_cmpuint(hvd_spool_enforce(spool, RT(0, 2500), p[3]), ==, 1);
    g_assert_true(g_file_test(p[3], G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(p[1], G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(p[2], G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(txt, G_FILE_TEST_EXISTS));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", spool);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_oldest(void)
{
    g_autoptr(GPtrArray) a = sample();
    g_autoptr(GHashTable) busy = g_hash_table_new(g_str_hash, g_str_equal);
    g_assert_cmpstr(hvd_spool_oldest(a, NULL)->path, ==, "a1");
    g_hash_table_add(busy, (char *)"a1");
    g_assert_cmpstr(hvd_spool_oldest(a, busy)->path, ==, "b1");
    g_hash_table_add(busy, (char *)"b1");
    g_assert_cmpstr(hvd_spool_oldest(a, busy)->path, ==, "a2");
    g_autoptr(GPtrArray) empty = g_ptr_array_new();
    g_assert_null(hvd_spool_oldest(empty, NULL));
}

struct pspool {
    char *spool;
    char p[4][256];
};

/* Four dumps over two domains, ages p[0] < p[1] < p[2] < p[3], sidecars,
 * and things that are not dumps: a partial and a foreign file. */
static void pspool_make(struct pspool *s)
{
    s->spool = g_dir_make_tmp("hvd-prune-XXXXXX", NULL);
    static const char *const doms[] = { "vm1", "vm2", "vm1", "vm2" };
    for (int i = 0; i < 4; i++) {
        g_autofree char *d = g_build_filename(s->spool, doms[i], NULL);
        g_mkdir(d, 0750);
        g_snprintf(s->p[i], sizeof s->p[i], "%s/2024010%dT000000Z.kdump", d, i + 1);
        touch(s->p[i], 4096, 1000000 + i * 10);
        g_autofree char *sc = hvd_spool_sidecar_for(s->p[i]);
        touch(sc, 100, 1000000 + i * 10);
    }
    g_autofree char *partial = g_strdup_printf("%s/vm1/old.kdump.partial", s->spool);
    touch(partial, 4096, 1);
    g_autofree char *txt = g_strdup_printf("%s/vm2/notes.txt", s->spool);
    touch(txt, 10, 1);
}

static void pspool_free(struct pspool *s)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", s->spool);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(s->spool);
}

static gboolean exists(const char *p)
{
    return g_file_test(p, G_FILE_TEST_EXISTS);
}

static void test_prune_oldest(void)
{
    struct pspool s;
    pspool_make(&s);
    g_autoptr(GHashTable) busy = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_add(busy, s.p[1]); /* a running job's finished dump */
    uint64_t freed = 0;
    g_assert_true(hvd_spool_prune_oldest(s.spool, busy, "test", &freed));
    g_assert_cmpuint(freed, ==, 4096 + 100);
    g_assert_false(exists(s.p[0]));
    g_autofree char *sc0 = hvd_spool_sidecar_for(s.p[0]);
    g_assert_false(exists(sc0));
    /* Next: p[1] is busy, and p[2] and p[3] are their domains' newest
     * dumps, which pruning never takes: nothing. */
    g_assert_false(hvd_spool_prune_oldest(s.spool, busy, "test", NULL));
    g_assert_true(exists(s.p[1]) && exists(s.p[2]) && exists(s.p[3]));
    g_autofree char *partial = g_strdup_printf("%s/vm1/old.kdump.partial", s.spool);
    g_autofree char *txt = g_strdup_printf("%s/vm2/notes.txt", s.spool);
    g_assert_true(exists(partial) && exists(txt));
    /* Not busy any more: it goes, and the two newest stay. */
    g_assert_true(hvd_spool_prune_oldest(s.spool, NULL, "test", NULL));
    g_assert_false(exists(s.p[1]));
    g_assert_false(hvd_spool_prune_oldest(s.spool, NULL, "test", NULL));
    g_assert_true(exists(s.p[2]) && exists(s.p[3]));
    pspool_free(&s);
}

static void test_make_room(void)
{
    struct pspool s;
    pspool_make(&s);
    uint64_t avail = 0;
    g_assert_true(hvd_spool_free_bytes(s.spool, &avail, NULL));
    g_assert_cmpuint(avail, >, 0);
    /* Already enough room: nothing goes. */
    g_assert_cmpuint(hvd_spool_make_room(s.spool, 1, NULL), ==, 0);
    g_assert_cmpuint(hvd_spool_make_room(s.spool, 0, NULL), ==, 0);
    for (int i = 0; i < 4; i++)
        g_assert_true(exists(s.p[i]));
    /* More than the filesystem has: every dump goes but the busy one and
     * each domain's newest (vm1: p[0] busy, p[2] newest; vm2: p[3]
     * newest): only p[1]. */
    g_autoptr(GHashTable) busy = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_add(busy, s.p[0]);
    g_assert_cmpuint(hvd_spool_make_room(s.spool, G_MAXUINT64, busy), ==, 1);
    g_assert_true(exists(s.p[0]) && exists(s.p[2]) && exists(s.p[3]));
    g_assert_false(exists(s.p[1]));
    GError *err = NULL;
    g_assert_false(hvd_spool_free_bytes("/nonexistent/spool", &avail, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_IO);
    g_clear_error(&err);
    pspool_free(&s);
}

struct pruner {
    struct hvd_spool_room *room;
    int removed;
};

static gpointer prune_thread(gpointer ud)
{
    struct pruner *p = ud;
    while (hvd_spool_room_prune(p->room, "thread"))
        p->removed++;
    return NULL;
}

/* Workers prune at once: every dump is removed exactly once (no double
 * count, no unlink error), the busy one never. */
static void test_room_threads(void)
{
    g_autofree char *spool = g_dir_make_tmp("hvd-room-XXXXXX", NULL);
    g_autofree char *d = g_build_filename(spool, "vm", NULL);
    g_mkdir(d, 0750);
    enum { N = 40 };
    char busy_path[256] = "";
    for (int i = 0; i < N; i++) {
        char p[256];
        g_snprintf(p, sizeof p, "%s/%03d.elf", d, i);
        touch(p, 10, 1000000 + i);
        if (i == N / 2)
            g_strlcpy(busy_path, p, sizeof busy_path);
    }
    struct hvd_spool_room *room = hvd_spool_room_new(spool);
    hvd_spool_room_set_busy(room, busy_path, TRUE);
    struct pruner pr[3] = { { room, 0 }, { room, 0 }, { room, 0 } };
    GThread *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = g_thread_new("pruner", prune_thread, &pr[i]);
    g_assert_cmpuint(hvd_spool_room_enforce(room, RT(0, 0), NULL), ==, 0);
    for (int i = 0; i < 3; i++)
        g_thread_join(t[i]);
    /* All but the busy one and the domain's newest. */
    g_assert_cmpint(pr[0].removed + pr[1].removed + pr[2].removed, ==, N - 2);
    g_assert_true(exists(busy_path));
    hvd_spool_room_set_busy(room, busy_path, FALSE);
    g_assert_cmpuint(hvd_spool_room_make_room(room, G_MAXUINT64), ==, 1);
    g_assert_false(exists(busy_path));
    hvd_spool_room_free(room);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", spool);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_new_name(void)
{
    g_autofree char *spool = g_dir_make_tmp("hvd-spool-XXXXXX", NULL);
    char *d1, *s1, *d2, *s2;
    g_assert_true(hvd_spool_new_name(spool, "vm", "kdump", &d1, &s1, NULL));
    g_assert_true(g_str_has_suffix(d1, ".kdump"));
    g_assert_true(g_str_has_suffix(s1, ".json"));
    g_autofree char *prefix = g_build_filename(spool, "vm", "", NULL);
    g_assert_true(g_str_has_prefix(d1, prefix));
    g_assert_true(g_file_set_contents(d1, "", 0, NULL));
    /* Same second: a distinct name. */
    g_assert_true(hvd_spool_new_name(spool, "vm", "kdump", &d2, &s2, NULL));
    g_assert_cmpstr(d1, !=, d2);
    g_autofree char *sc = hvd_spool_sidecar_for(d1);
    g_assert_cmpstr(sc, ==, s1);
    /* A domain name cannot climb out. */
    char *d3, *s3;
    g_assert_true(hvd_spool_new_name(spool, "..", "elf", &d3, &s3, NULL));
    g_assert_true(g_str_has_prefix(d3, spool));
    g_assert_null(strstr(d3, "/../"));
    g_free(d1); g_free(s1); g_free(d2); g_free(s2); g_free(d3); g_free(s3);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", spool);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_panic_message(void)
{
    const char *log =
        "[    1.0] booting\r\n"
        "[    5.0] Kernel panic - not syncing: first\r\n"
        "[    9.1] sysrq: Trigger a crash\n"
        "[    9.2] Kernel panic - not syncing: sysrq triggered crash\r\n"
        "[    9.3] CPU: 0 PID: 1\n";
    g_autofree char *m = hvd_panic_message_from_log(log, strlen(log));
    g_assert_cmpstr(m, ==, "sysrq triggered crash");
    g_assert_null(hvd_panic_message_from_log("no panic here\n", 14));
    const char *tail = "Kernel panic - not syncing: cut";
    g_autofree char *m2 = hvd_panic_message_from_log(tail, strlen(tail));
    g_assert_cmpstr(m2, ==, "cut");
}

static void test_console_path(void)
{
    const char *xml =
        "<domain type='qemu'><devices>"
        "<serial type='pty'><source path='/dev/pts/3'/></serial>"
        "<serial type='file'><source path='/var/log/c.log'/><target port='1'/></serial>"
        "<console type='file'><source path='/other'/></console>"
        "</devices></domain>";
    g_autofree char *p = hvd_console_log_path(xml);
    g_assert_cmpstr(p, ==, "/var/log/c.log");
    g_assert_null(hvd_console_log_path("<domain><devices/></domain>"));
}

static void test_sidecar(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvd-sc-XXXXXX", NULL);
    g_autofree char *dump = g_build_filename(dir, "d.kdump", NULL);
    g_autofree char *sc = g_build_filename(dir, "d.json", NULL);
    g_assert_true(g_file_set_contents(dump, "abc", 3, NULL));
    struct hvd_sidecar s = {
        .domain = "vm1", .uuid = "u", .trigger = "crash", .format = "kdump-zstd",
        .dump_path = dump, .start_usec = 1700000000000000, .end_usec = 1700000002500000,
        .dump_bytes = 3, .guest_bytes = 4096, .kernel_release = "6.1.0",
        .panic_message = NULL,
    };
    g_assert_true(hvd_sidecar_write(sc, &s, NULL));
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_file(p, sc, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "domain"), ==, "vm1");
    /* sha256("abc") */
    g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==,
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    g_assert_cmpfloat(json_object_get_double_member(o, "duration_s"), ==, 2.5);
    g_assert_cmpstr(json_object_get_string_member(o, "start"), ==, "2023-11-14T22:13:20Z");
    g_assert_cmpstr(json_object_get_string_member(o, "kernel_release"), ==, "6.1.0");
    g_assert_true(json_object_get_null_member(o, "panic_message"));
    g_assert_cmpstr(json_object_get_string_member(o, "file"), ==, "d.kdump");
    g_assert_nonnull(json_object_get_string_member(o, "host"));
    GError *err = NULL;
    s.dump_path = "/nonexistent/x";
    g_assert_false(hvd_sidecar_write(sc, &s, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_IO);
    g_clear_error(&err);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* Guest strings with control characters and bytes that are not UTF-8 made
 * sidecars that Python's json.load refused. */
static void test_sidecar_guest_text(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvd-sc-XXXXXX", NULL);
    g_autofree char *dump = g_build_filename(dir, "d.kdump", NULL);
    g_autofree char *sc = g_build_filename(dir, "d.json", NULL);
    g_assert_true(g_file_set_contents(dump, "abc", 3, NULL));
    struct hvd_sidecar s = {
        .domain = "vm1", .uuid = "u", .trigger = "crash", .format = "kdump-zstd",
        .dump_path = dump, .kernel_release = "6.1\x1f\xff\x1b[2J",
        .panic_message = "Fatal exception\nhvdumpd: forged line",
    };
    g_assert_true(hvd_sidecar_write(sc, &s, NULL));
    g_autofree char *text = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(sc, &text, &len, NULL));
    g_assert_true(g_utf8_validate(text, (gssize)len, NULL));
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, (gssize)len, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "kernel_release"), ==,
                    "6.1\\x1f\xef\xbf\xbd\\x1b[2J");
    g_assert_cmpstr(json_object_get_string_member(o, "panic_message"), ==,
                    "Fatal exception\\x0ahvdumpd: forged line");
    g_assert_false(json_object_has_member(o, "vmcoreinfo_untrusted"));
    /* Metadata that could not be confirmed is said to be so. */
    s.vmcoreinfo_untrusted = TRUE;
    g_assert_true(hvd_sidecar_write(sc, &s, NULL));
    g_autoptr(JsonParser) p2 = json_parser_new();
    g_assert_true(json_parser_load_from_file(p2, sc, NULL));
    g_assert_true(json_object_get_boolean_member(json_node_get_object(json_parser_get_root(p2)),
                                                 "vmcoreinfo_untrusted"));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* The console log path is the domain's to name and the file the guest's to
 * fill: a symlink (root reading any file), a FIFO (a read that never
 * ends), a huge file (only its end is read). */
static void test_console_tail(void)
{
    g_autofree char *dir = g_dir_make_tmp("hvd-con-XXXXXX", NULL);
    g_autofree char *log = g_build_filename(dir, "console.log", NULL);
    g_autofree char *link = g_build_filename(dir, "link.log", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo.log", NULL);
    GString *big = g_string_new(NULL);
    while (big->len < 3u << 20)
        g_string_append(big, "[    1.000000] random boot noise\n");
    g_string_append(big, "Kernel panic - not syncing: sysrq triggered crash\n");
    g_assert_true(g_file_set_contents(log, big->str, (gssize)big->len, NULL));
    GError *err = NULL;
    g_autofree char *tail = hvd_console_tail(log, 4096, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(strlen(tail), ==, 4096);
    g_autofree char *msg = hvd_panic_message_from_log(tail, strlen(tail));
    g_assert_cmpstr(msg, ==, "sysrq triggered crash");
    g_assert_cmpint(symlink("/etc/shadow", link), ==, 0);
    g_assert_null(hvd_console_tail(link, 4096, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_IO);
    g_clear_error(&err);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    gint64 t0 = g_get_monotonic_time();
    g_assert_null(hvd_console_tail(fifo, 4096, &err));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_string_free(big, TRUE);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* A crash is one QEMU process: its identity goes into the sidecar, and a
 * crash found again (hvdumpd restarted) is known as collected while its
 * dump is there. */
static void test_crash_identity(void)
{
    uint64_t me = hvd_process_start_time(getpid());
    g_assert_cmpuint(me, >, 0);
    g_assert_cmpuint(hvd_process_start_time(getpid()), ==, me);
    g_assert_cmpuint(hvd_process_start_time(-1), ==, 0);
    g_autofree char *spool = g_dir_make_tmp("hvd-id-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(spool, "vm1", NULL);
    g_assert_cmpint(g_mkdir(dir, 0750), ==, 0);
    g_autofree char *dump = g_build_filename(dir, "20260101T000000Z.kdump", NULL);
    g_autofree char *sc = g_build_filename(dir, "20260101T000000Z.json", NULL);
    g_assert_true(g_file_set_contents(dump, "abc", 3, NULL));
    struct hvd_sidecar s = {
        .domain = "vm1", .uuid = "u", .trigger = "crash", .format = "kdump-zstd",
        .dump_path = dump, .qemu_pid = 1234, .qemu_start = 98765,
    };
    g_assert_true(hvd_sidecar_write(sc, &s, NULL));
    g_assert_true(hvd_sidecar_is_crash_of(sc, 1234, 98765));
    g_assert_false(hvd_sidecar_is_crash_of(sc, 1234, 98766));  /* pid reused */
    g_assert_true(hvd_spool_crash_collected(spool, "vm1", 1234, 98765));
    g_assert_false(hvd_spool_crash_collected(spool, "vm2", 1234, 98765));
    g_assert_false(hvd_spool_crash_collected(spool, "vm1", 0, 0));
    /* A requested dump of the same process is no crash dump. */
    s.trigger = "request";
    g_assert_true(hvd_sidecar_write(sc, &s, NULL));
    g_assert_false(hvd_spool_crash_collected(spool, "vm1", 1234, 98765));
    /* Nor does a sidecar whose dump was pruned count. */
    s.trigger = "crash";
    g_assert_true(hvd_sidecar_write(sc, &s, NULL));
    g_assert_cmpint(g_unlink(dump), ==, 0);
    g_assert_false(hvd_spool_crash_collected(spool, "vm1", 1234, 98765));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", spool);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* domain-max-bytes=: per domain, oldest first, never the newest. */
static void test_retention_domain_bytes(void)
{
    g_autoptr(GPtrArray) a = sample();
    /* a: 3 x 100, b: 2 x 500; cap 250 per domain: a1 goes (a2+a3 = 200),
     * b1 goes (b2 alone is over the cap but is b's newest). */
    struct hvd_retention rt = { 0, 250, 0 };
    g_autoptr(GPtrArray) out = hvd_retention_select(a, &rt, NULL);
    g_assert_cmpuint(out->len, ==, 2);
    g_assert_true(chosen(out, "a1") && chosen(out, "b1"));
}

/* crash-limit=: N per window per domain, others unaffected, memory bounded. */
static void test_ratelimit(void)
{
    struct hvd_ratelimit *r = hvd_ratelimit_new(3, 100, 2);
    g_assert_true(hvd_ratelimit_allow(r, "loop", 0));
    g_assert_true(hvd_ratelimit_allow(r, "loop", 10));
    g_assert_true(hvd_ratelimit_allow(r, "loop", 20));
    g_assert_false(hvd_ratelimit_allow(r, "loop", 30));   /* 3 in [0, 100) */
    g_assert_false(hvd_ratelimit_allow(r, "loop", 99));
    g_assert_true(hvd_ratelimit_allow(r, "other", 99));   /* its own count */
    g_assert_true(hvd_ratelimit_allow(r, "loop", 100));   /* the one at 0 left the window */
    g_assert_false(hvd_ratelimit_allow(r, "loop", 105));
    /* A third domain: the least recently seen ("other") is forgotten. */
    g_assert_true(hvd_ratelimit_allow(r, "third", 106));
    g_assert_false(hvd_ratelimit_allow(r, "loop", 107));  /* still remembered */
    hvd_ratelimit_free(r);
    struct hvd_ratelimit *off = hvd_ratelimit_new(0, 100, 2);
    for (int i = 0; i < 100; i++)
        g_assert_true(hvd_ratelimit_allow(off, "x", i));
    hvd_ratelimit_free(off);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon_spool/retention/none", test_retention_none);
    g_test_add_func("/daemon_spool/retention/keep", test_retention_keep);
    g_test_add_func("/daemon_spool/retention/bytes", test_retention_bytes);
    g_test_add_func("/daemon_spool/retention/protect", test_retention_protect);
    g_test_add_func("/daemon_spool/retention/domain-bytes", test_retention_domain_bytes);
    g_test_add_func("/daemon_spool/crash-limit", test_ratelimit);
    g_test_add_func("/daemon_spool/crash-identity", test_crash_identity);
    g_test_add_func("/daemon_spool/relpath", test_relpath);
    g_test_add_func("/daemon_spool/resolve", test_resolve);
    g_test_add_func("/daemon_spool/request-paths", test_request_paths);
    g_test_add_func("/daemon_spool/scan_enforce", test_scan_enforce);
    g_test_add_func("/daemon_spool/new_name", test_new_name);
    g_test_add_func("/daemon_spool/oldest", test_oldest);
    g_test_add_func("/daemon_spool/prune_oldest", test_prune_oldest);
    g_test_add_func("/daemon_spool/make_room", test_make_room);
    g_test_add_func("/daemon_spool/room_threads", test_room_threads);
    g_test_add_func("/daemon_spool/panic_message", test_panic_message);
    g_test_add_func("/daemon_spool/console_path", test_console_path);
    g_test_add_func("/daemon_spool/sidecar", test_sidecar);
    g_test_add_func("/daemon_spool/sidecar-guest-text", test_sidecar_guest_text);
    g_test_add_func("/daemon_spool/console-tail", test_console_tail);
    return g_test_run();
}
