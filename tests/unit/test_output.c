/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output files: partial + rename, modes, refusal, symlinks, errors. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumper/engine/output.h"
#include "common/hv_error.h"

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static gboolean put(struct hv_output *o, uint64_t off, const char *s)
{
    GError *err = NULL;
    gboolean ok = hv_sink_write(hv_output_sink(o), off, s, strlen(s), &err);
    g_assert_no_error(err);
    return ok;
}

static char *slurp(const char *path)
{
    char *s = NULL;
    if (!g_file_get_contents(path, &s, NULL, NULL))
        return NULL;
    return s;
}

/* Zero pages handed to write_zeros: long runs become holes (the bytes read
 * back as zeros, the blocks are not allocated), short runs are written, a
 * run at the very end still gives the file its full size. */
static void test_holes(void)
{
    enum { PG = 4096, N = 96 };
    g_autofree char *path = tpath("sparse.bin");
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(path, FALSE, &err);
    g_assert_no_error(err);
    struct hv_sink *sk = hv_output_sink(o);
    /* Layout, in pages: 0 data, 1-2 zero (short: written), 3 data,
     * 4-67 zero (256 KiB: a hole), 68 data, 69-95 zero (108 KiB, at the end). */
    uint8_t *want = g_malloc0((size_t)N * PG), page[PG];
    for (int i = 0; i < N; i++) {
        gboolean data = i == 0 || i == 3 || i == 68;
        if (data) {
            memset(page, 'a' + i % 26, PG);
            memcpy(want + (size_t)i * PG, page, PG);
        }
        if (data)
            g_assert_true(hv_sink_write(sk, (uint64_t)i * PG, page, PG, &err));
        else
            g_assert_true(hv_sink_write_zeros(sk, (uint64_t)i * PG, PG, &err));
        g_assert_no_error(err);
    }
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);

    gchar *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpmem(got, len, want, (size_t)N * PG);
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, N * PG);
    /* Holes where the long runs were (tmpfs, ext4, xfs, btrfs all keep
     * them): at most the 5 written pages plus filesystem slack. */
    g_assert_cmpint((gint64)st.st_blocks * 512, <=, 16 * PG);
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    off_t hole = lseek(fd, 4 * PG, SEEK_HOLE);
    close(fd);
    g_assert_cmpint(hole, <=, 4 * PG + 16 * 1024); /* the 256 KiB run is a hole */
    g_free(got);
    g_free(want);
}

static void test_mode_and_content(void)
{
    char *p = tpath("mode.dump");
    mode_t old = umask(0); /* a careless umask must not widen the mode */
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    umask(old);
    g_assert_no_error(err);
    g_assert_true(hv_output_is_random_access(o));
    /* Out of order: random access must put bytes where asked. */
    put(o, 5, "world");
    put(o, 0, "hello");
    char *partial = hv_output_partial_path(p);
    g_assert_true(g_str_has_prefix(partial, p));
    g_assert_cmpstr(partial + strlen(p), ==, ".partial");
    g_assert_true(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(hv_output_bytes_written(o), ==, 10);
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    struct stat st;
    g_assert_cmpint(stat(p, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    char *c = slurp(p);
    g_assert_cmpstr(c, ==, "helloworld");
    g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_free(c);
    g_free(partial);
    g_free(p);
}

static void test_exists_and_force(void)
{
    char *p = tpath("exists.dump");
    g_assert_true(g_file_set_contents(p, "old", -1, NULL));
    GError *err = NULL;
    g_assert_null(hv_output_open_path(p, FALSE, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_assert_nonnull(strstr(err->message, "use --force"));
    g_clear_error(&err);
    char *c = slurp(p);
    g_assert_cmpstr(c, ==, "old");
    g_free(c);

    struct hv_output *o = hv_output_open_path(p, TRUE, &err);
    g_assert_no_error(err);
    put(o, 0, "new");
    g_assert_true(hv_output_commit(o, &err));
    c = slurp(p);
    g_assert_cmpstr(c, ==, "new");
    g_free(c);
    g_free(p);
}

static void test_appeared_meanwhile(void)
{
    /* Without --force, a file created while we write is not clobbered. */
    char *p = tpath("race.dump");
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    put(o, 0, "ours");
    g_assert_true(g_file_set_contents(p, "theirs", -1, NULL));
    g_assert_false(hv_output_commit(o, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_clear_error(&err);
    char *c = slurp(p);
    g_assert_cmpstr(c, ==, "theirs");
    g_free(c);
    char *partial = hv_output_partial_path(p);
    g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_free(partial);
    g_free(p);
}

static void test_abort(void)
{
    char *p = tpath("abort.dump");
    char *partial = hv_output_partial_path(p);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    put(o, 0, "data");
    g_assert_true(hv_sink_write(hv_output_sink(o), 0, "x", 1, NULL));
    hv_output_abort(o);
    g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_free(partial);
    g_free(p);
}

static void test_symlinks(void)
{
    char *victim = tpath("victim");
    char *p = tpath("link.dump");
    char *partial = hv_output_partial_path(p);
    GError *err = NULL;
    g_assert_true(g_file_set_contents(victim, "precious", -1, NULL));

    /* A symlink at PATH.partial is never followed nor removed. */
    g_assert_cmpint(symlink(victim, partial), ==, 0);
    g_assert_null(hv_output_open_path(p, FALSE, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_true(g_file_test(partial, G_FILE_TEST_IS_SYMLINK));
    g_unlink(partial);

    /* A symlink at PATH: refused without force; replaced (not followed) with. */
    g_assert_cmpint(symlink(victim, p), ==, 0);
    g_assert_null(hv_output_open_path(p, FALSE, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_clear_error(&err);
    struct hv_output *o = hv_output_open_path(p, TRUE, &err);
    g_assert_no_error(err);
    put(o, 0, "dump");
    g_assert_true(hv_output_commit(o, &err));
    g_assert_false(g_file_test(p, G_FILE_TEST_IS_SYMLINK));
    char *c = slurp(victim);
    g_assert_cmpstr(c, ==, "precious");
    g_free(c);
    c = slurp(p);
    g_assert_cmpstr(c, ==, "dump");
    g_free(c);
    g_free(partial);
    g_free(p);
    g_free(victim);
}

static void test_stale_partial(void)
{
    char *p = tpath("stale.dump");
    char *partial = hv_output_partial_path(p);
    GError *err = NULL;
    g_assert_true(g_file_set_contents(partial, "left by a dead run", -1, NULL));
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    /* While we hold it, a second writer is refused. */
    g_assert_null(hv_output_open_path(p, FALSE, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_EXISTS);
    g_clear_error(&err);
    put(o, 0, "fresh");
    g_assert_true(hv_output_commit(o, &err));
    char *c = slurp(p);
    g_assert_cmpstr(c, ==, "fresh");
    g_free(c);
    g_free(partial);
    g_free(p);
}

static void test_missing_dir(void)
{
    char *p = tpath("no/such/dir/x.dump");
    GError *err = NULL;
    g_assert_null(hv_output_open_path(p, FALSE, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "does not exist"));
    g_clear_error(&err);
    g_free(p);
}

static void test_epipe_and_sequential(void)
{
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_fd(fds[1], &err);
    g_assert_no_error(err);
    g_assert_false(hv_output_is_random_access(o));
    struct hv_sink *s = hv_output_sink(o);
    g_assert_true(hv_sink_write(s, 0, "abc", 3, &err));
    /* A stream only takes the next offset. */
    g_assert_false(hv_sink_write(s, 10, "x", 1, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_true(s->flush(s, &err));
    char buf[4] = {0};
    g_assert_cmpint(read(fds[0], buf, 3), ==, 3);
    g_assert_cmpstr(buf, ==, "abc");
    close(fds[0]);
    g_assert_true(hv_sink_write(s, 3, "more", 4, &err));
    g_assert_false(hv_output_commit(o, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_PIPE);
    g_assert_cmpstr(err->message, ==, "output closed by reader");
    g_clear_error(&err);
    close(fds[1]);
}

/* A fresh tmpfs of the given size under the test dir, or NULL (the test
 * is marked skipped, saying what goes untested). */
static char *mount_tiny(const char *name, const char *size, const char *untested)
{
    char *mnt = tpath(name);
    g_assert_cmpint(g_mkdir(mnt, 0700), ==, 0);
    char *opts = g_strdup_printf("size=%s", size);
    int rc = mount("tmpfs", mnt, "tmpfs", 0, opts);
    g_free(opts);
    if (rc == 0)
        return mnt;
    char *msg = g_strdup_printf("cannot mount a tmpfs (%s): %s", g_strerror(errno), untested);
    g_test_skip(msg);
    g_free(msg);
    g_rmdir(mnt);
    g_free(mnt);
    return NULL;
}

static void unmount_tiny(char *mnt)
{
    umount(mnt);
    g_rmdir(mnt);
    g_free(mnt);
}

static void test_enospc(void)
{
    char *mnt = mount_tiny("tiny", "64k", "ENOSPC not tested");
    if (!mnt)
        return;
    char *p = g_build_filename(mnt, "full.dump", NULL);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    size_t len = 1 << 20;
    char *junk = g_malloc0(len);
    /* Buffered: the error shows when commit flushes; commit then removes
     * the partial. */
    g_assert_true(hv_sink_write(hv_output_sink(o), 0, junk, len, &err));
    g_assert_false(hv_output_commit(o, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_NOSPACE);
    g_assert_nonnull(strstr(err->message, "no space left on device writing"));
    g_clear_error(&err);
    g_free(junk);
    g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
    unmount_tiny(mnt);
    g_free(p);
}

struct freer {
    char *victim;  /* removed on the first call */
    int calls;
};

static gboolean free_space(void *ud)
{
    struct freer *f = ud;
    f->calls++;
    if (!f->victim || g_unlink(f->victim) != 0)
        return FALSE;
    g_clear_pointer(&f->victim, g_free);
    return TRUE;
}

/* The nospace handler: called on ENOSPC, the write retried while it frees
 * space; the output then completes intact.  When it cannot free, the
 * write fails as before. */
static void test_enospc_handler(void)
{
    /* /dev/full: every write is ENOSPC, nothing can help. */
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct freer none = {0};
        GError *err = NULL;
        struct hv_output *o = hv_output_open_fd(fd, &err);
        g_assert_no_error(err);
        hv_output_set_nospace_handler(o, free_space, &none);
        g_assert_true(hv_sink_write(hv_output_sink(o), 0, "x", 1, &err));
        g_assert_false(hv_output_commit(o, &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_NOSPACE);
        g_assert_cmpint(none.calls, ==, 1);
        g_clear_error(&err);
        close(fd);
    }
    char *mnt = mount_tiny("tiny2", "128k", "the retry is not tested");
    if (!mnt)
        return;
    struct freer f = {.victim = g_build_filename(mnt, "old.dump", NULL)};
    size_t len = 96 << 10;
    char *data = g_malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 7 + 3);
    g_assert_true(g_file_set_contents(f.victim, data, (gssize)len, NULL));
    char *p = g_build_filename(mnt, "new.dump", NULL);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    hv_output_set_nospace_handler(o, free_space, &f);
    g_assert_true(hv_sink_write(hv_output_sink(o), 0, data, len, &err));
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    g_assert_cmpint(f.calls, ==, 1);
    g_assert_null(f.victim); /* removed */
    char *got = NULL;
    gsize got_len = 0;
    g_assert_true(g_file_get_contents(p, &got, &got_len, NULL));
    g_assert_cmpuint(got_len, ==, len);
    g_assert_cmpint(memcmp(got, data, len), ==, 0);
    g_free(got);
    g_free(data);
    unmount_tiny(mnt);
    g_free(p);
}

/* Several buffers' worth goes out in the background while the next one
 * fills: contiguous data across buffers, a rewrite of an earlier region
 * (as writers do for headers) and a write far ahead must all land, in
 * order, by commit. */
static void test_background_writes(void)
{
    char *p = tpath("bg.dump");
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    struct hv_sink *sk = hv_output_sink(o);
    const size_t chunk = 64 << 10, total = 40u << 20;
    uint8_t *buf = g_malloc(chunk);
    for (size_t off = 0; off < total; off += chunk) {
        for (size_t i = 0; i < chunk; i += 8)
            memcpy(buf + i, &(uint64_t){off + i + 1}, 8);
        g_assert_true(hv_sink_write(sk, off, buf, chunk, &err));
    }
    g_assert_true(hv_sink_write(sk, 4096, "HEADER", 6, &err));       /* rewrite */
    g_assert_true(hv_sink_write(sk, total + 4096, "TAIL", 4, &err)); /* ahead */
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    gchar *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(p, &got, &len, NULL));
    g_assert_cmpuint(len, ==, total + 4096 + 4);
    g_assert_cmpmem(got + 4096, 6, "HEADER", 6);
    g_assert_cmpmem(got + total + 4096, 4, "TAIL", 4);
    for (size_t i = 0; i < total; i += 8) {
        if (i >= 4096 && i < 4096 + 8)
            continue;
        uint64_t v;
        memcpy(&v, got + i, 8);
        if (v != i + 1)
            g_error("byte %zu: %" G_GUINT64_FORMAT " instead of %zu", i, v, i + 1);
    }
    g_free(got);
    g_free(buf);
    g_unlink(p);
    g_free(p);
}

/* A background write that fails (disk full) is reported by a later write
 * or the commit, long before the writer would have finished, and the
 * partial file goes away. */
static void test_background_enospc(void)
{
    char *mnt = mount_tiny("tiny3", "10m", "ENOSPC not tested");
    if (!mnt)
        return;
    char *p = g_build_filename(mnt, "full.dump", NULL);
    char *partial = hv_output_partial_path(p);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(p, FALSE, &err);
    g_assert_no_error(err);
    const size_t chunk = 64 << 10, total = 64u << 20;
    uint8_t *buf = g_malloc(chunk);
    memset(buf, 0x5a, chunk);
    size_t off = 0;
    gboolean ok = TRUE;
    for (; off < total && ok; off += chunk)
        ok = hv_sink_write(hv_output_sink(o), off, buf, chunk, &err);
    if (ok) {
        ok = hv_output_commit(o, &err);
        g_assert_false(ok);
    } else {
        g_assert_cmpuint(off, <, 40u << 20);   /* reported within ~3 buffers */
        g_assert_true(g_file_test(partial, G_FILE_TEST_EXISTS));
        hv_output_abort(o);
    }
    g_assert_error(err, HV_ERROR, HV_ERROR_NOSPACE);
    g_clear_error(&err);
    g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
    g_free(buf);
    unmount_tiny(mnt);
    g_free(partial);
    g_free(p);
}

/* Deferred raw pages: fetch() gives byte i of ref r as pattern_byte(r + i),
 * so a region in the file shows which ref filled it. */
static uint8_t pattern_byte(uint64_t x)
{
    return (uint8_t)(x * 2654435761u >> 13);
}

struct fetcher {
    gint calls;
    gint64 bytes;
    gboolean fail;
};

static gboolean fetch_pattern(void *ud, uint64_t ref, uint8_t *dst, size_t len, GError **err)
{
    struct fetcher *f = ud;
    g_atomic_int_inc(&f->calls);
    f->bytes += (gint64)len;   /* the io thread alone calls it */
    if (f->fail) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "guest memory gone");
        return FALSE;
    }
    for (size_t i = 0; i < len; i++)
        dst[i] = pattern_byte(ref + i);
    return TRUE;
}

/* Raw pages handed by reference land in the file whatever surrounds them:
 * buffered bytes at unaligned offsets before and after, a zero run, runs
 * that continue or jump in the source, runs of several fetch chunks.  A
 * run's first 64 KiB are buffered (from buf, which holds the same bytes
 * here), the rest is fetched: exactly that many bytes go through fetch. */
static void test_deferred_raw(void)
{
    enum { PG = 4096 };
    g_autofree char *path = tpath("deferred.dump");
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(path, FALSE, &err);
    g_assert_no_error(err);
    struct fetcher f = {0};
    g_assert_true(hv_output_set_fetch(o, fetch_pattern, &f));
    struct hv_sink *sk = hv_output_sink(o);
    const size_t total = 24u << 20;
    uint8_t *want = g_malloc0(total), *buf = g_malloc(PG);
    uint64_t off = 0, ref = 1 + (1u << 30), deferred = 0;
    GRand *r = g_rand_new_with_seed(7);
    while (off + 40 * PG < total) {
        /* Some "compressed" bytes: odd sizes, so what follows is unaligned. */
        size_t n = (size_t)g_rand_int_range(r, 1, 3 * PG);
        for (size_t i = 0; i < n; i++)
            want[off + i] = (uint8_t)g_rand_int(r);
        g_assert_true(hv_sink_write(sk, off, want + off, n, &err));
        off += n;
        if (g_rand_int_range(r, 0, 4) == 0) {   /* a stored zero page */
            g_assert_true(hv_sink_write_zeros(sk, off, PG, &err));
            off += PG;
        }
        /* A run of raw pages: 1-8, or now and then ~3 fetch chunks. */
        int pages = g_rand_int_range(r, 0, 10) == 0 ? 1500 : g_rand_int_range(r, 1, 9);
        if (off + (uint64_t)pages * PG > total)
            break;
        if (g_rand_boolean(r))
            ref += (uint64_t)g_rand_int_range(r, 1, 64) * PG;   /* jump in the source */
        for (int i = 0; i < pages; i++) {
            for (size_t b = 0; b < PG; b++)
                buf[b] = want[off + b] = pattern_byte(ref + b);
            g_assert_true(hv_sink_write_ref(sk, off, buf, PG, ref, &err));
            off += PG;
            ref += PG;
        }
        if (pages > (64 << 10) / PG)
            deferred += (uint64_t)(pages - (64 << 10) / PG) * PG;
    }
    g_assert_no_error(err);
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    g_assert_cmpint(f.bytes, ==, (gint64)deferred);
    g_assert_cmpint(deferred, >, 8u << 20);
    gchar *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpuint(len, ==, off);
    for (size_t i = 0; i < off; i++)
        if ((uint8_t)got[i] != want[i])
            g_error("byte %zu: 0x%02x instead of 0x%02x", i, (uint8_t)got[i], want[i]);
    g_rand_free(r);
    g_free(got);
    g_free(want);
    g_free(buf);
}

/* Raw pages scattered among compressed ones (runs shorter than 64 KiB)
 * are buffered like any bytes: deferring each would end a buffer per page. */
static void test_deferred_raw_scattered(void)
{
    enum { PG = 4096, RUNS = 3000 };
    g_autofree char *path = tpath("deferred-scattered.dump");
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(path, FALSE, &err);
    g_assert_no_error(err);
    struct fetcher f = {0};
    g_assert_true(hv_output_set_fetch(o, fetch_pattern, &f));
    struct hv_sink *sk = hv_output_sink(o);
    const size_t step = 3 * PG + 3;
    uint8_t *page = g_malloc(PG);
    for (uint64_t i = 0; i < RUNS; i++) {
        uint64_t off = i * step, ref = 1 + i * 4 * PG;  /* 3 pages, then a gap */
        uint8_t sep[3] = {(uint8_t)i, 0x5a, (uint8_t)(i >> 8)};
        g_assert_true(hv_sink_write(sk, off, sep, sizeof sep, &err));
        for (int k = 0; k < 3; k++) {
            for (size_t b = 0; b < PG; b++)
                page[b] = pattern_byte(ref + (uint64_t)k * PG + b);
            g_assert_true(hv_sink_write_ref(sk, off + 3 + (uint64_t)k * PG, page, PG,
                                            ref + (uint64_t)k * PG, &err));
        }
    }
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    g_assert_cmpint(f.calls, ==, 0);
    gchar *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpuint(len, ==, RUNS * step);
    for (uint64_t i = 0; i < RUNS; i++) {
        const uint8_t *at = (const uint8_t *)got + i * step;
        uint64_t ref = 1 + i * 4 * PG;
        g_assert_cmpuint(at[0], ==, (uint8_t)i);
        g_assert_cmpuint(at[1], ==, 0x5a);
        for (size_t b = 0; b < 3 * PG; b += 97)
            if (at[3 + b] != pattern_byte(ref + b))
                g_error("run %" G_GUINT64_FORMAT " byte %zu wrong", i, b);
    }
    g_free(got);
    g_free(page);
}

/* A fetch that fails (QEMU gone) fails the commit with its message, and no
 * file is left; an abort with runs still queued leaves nothing either. */
static void test_deferred_raw_errors(void)
{
    enum { PG = 4096 };
    static uint8_t page[PG] = {1};
    for (int abort_it = 0; abort_it < 2; abort_it++) {
        g_autofree char *path = tpath(abort_it ? "deferred-abort.dump" : "deferred-fail.dump");
        g_autofree char *partial = hv_output_partial_path(path);
        GError *err = NULL;
        struct hv_output *o = hv_output_open_path(path, FALSE, &err);
        g_assert_no_error(err);
        struct fetcher f = {.fail = !abort_it};
        g_assert_true(hv_output_set_fetch(o, fetch_pattern, &f));
        struct hv_sink *sk = hv_output_sink(o);
        /* A failed fetch shows at a later write (when a buffer is handed
         * over) or at the commit. */
        gboolean ok = TRUE;
        uint64_t off = 0;
        for (int i = 0; i < 8 && ok; i++) {   /* runs of 32 pages: deferred */
            ok = hv_sink_write(sk, off, page, PG, &err);
            off += PG;
            for (int k = 0; k < 32 && ok; k++, off += PG)
                ok = hv_sink_write_ref(sk, off, page, PG, 1 + ((uint64_t)i * 64 + k) * PG, &err);
        }
        if (abort_it) {
            g_assert_no_error(err);
            hv_output_abort(o);
        } else {
            if (ok)
                g_assert_false(hv_output_commit(o, &err));
            else
                hv_output_abort(o);
            g_assert_error(err, HV_ERROR, HV_ERROR_IO);
            g_assert_nonnull(strstr(err->message, "guest memory gone"));
            g_clear_error(&err);
        }
        g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    }
}

/* Only files we write at offsets defer: a pipe takes the bytes at once. */
static void test_deferred_raw_stream(void)
{
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_fd(fds[1], &err);
    g_assert_no_error(err);
    struct fetcher f = {0};
    g_assert_false(hv_output_set_fetch(o, fetch_pattern, &f));
    g_assert_true(hv_sink_write_ref(hv_output_sink(o), 0, "raw!", 4, 1, &err));
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    char got[8] = {0};
    g_assert_cmpint(read(fds[0], got, sizeof got), ==, 4);
    g_assert_cmpstr(got, ==, "raw!");
    g_assert_cmpint(f.calls, ==, 0);
    close(fds[0]);
    close(fds[1]);
}

/* Bytes a reader thread takes from a pipe until EOF. */
static gpointer drain_pipe(gpointer data)
{
    int fd = GPOINTER_TO_INT(data);
    GByteArray *got = g_byte_array_new();
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        g_byte_array_append(got, buf, (guint)n);
    return got;
}

/* data, a zero run long enough to be a hole in our own file, data again:
 * what write_zeros must turn into bytes where there can be no hole. */
enum { ZRUN = 200 << 10 };

static void put_with_zeros(struct hv_output *o)
{
    GError *err = NULL;
    struct hv_sink *sk = hv_output_sink(o);
    g_assert_true(hv_sink_write(sk, 0, "head", 4, &err));
    g_assert_true(hv_sink_write_zeros(sk, 4, ZRUN, &err));
    g_assert_true(hv_sink_write(sk, 4 + ZRUN, "tail", 4, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(hv_output_bytes_written(o), ==, 8 + ZRUN);
}

static void check_with_zeros(const uint8_t *got, size_t len)
{
    g_assert_cmpuint(len, ==, 8 + ZRUN);
    g_assert_cmpmem(got, 4, "head", 4);
    for (size_t i = 4; i < 4 + ZRUN; i++)
        if (got[i])
            g_error("byte %zu: 0x%02x instead of 0", i, got[i]);
    g_assert_cmpmem(got + 4 + ZRUN, 4, "tail", 4);
}

/* A pipe has no holes: write_zeros writes the zeros, in order. */
static void test_zeros_pipe(void)
{
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    GThread *reader = g_thread_new("drain", drain_pipe, GINT_TO_POINTER(fds[0]));
    GError *err = NULL;
    struct hv_output *o = hv_output_open_fd(fds[1], &err);
    g_assert_no_error(err);
    struct hv_sink *sk = hv_output_sink(o);
    put_with_zeros(o);
    /* The stream's order holds for zeros too. */
    g_assert_false(hv_sink_write_zeros(sk, 0, 4096, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INTERNAL);
    g_clear_error(&err);
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    close(fds[1]);
    GByteArray *got = g_thread_join(reader);
    check_with_zeros(got->data, got->len);
    g_byte_array_free(got, TRUE);
    close(fds[0]);
}

/* A file given as an fd may hold other data or be read as it grows: it
 * gets zeros written, not holes (ours alone, output_sparse.c, gets those). */
static void test_zeros_fd(void)
{
    g_autofree char *path = tpath("zeros-fd.bin");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    g_assert_cmpint(fd, >=, 0);
    GError *err = NULL;
    struct hv_output *o = hv_output_open_fd(fd, &err);
    g_assert_no_error(err);
    g_assert_true(hv_output_is_random_access(o));
    put_with_zeros(o);
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    close(fd);
    gchar *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    check_with_zeros((const uint8_t *)got, len);
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint((gint64)st.st_blocks * 512, >=, 8 + ZRUN); /* written, no hole */
    g_free(got);
}

/* The same run in our own file is a hole, and a run at the end still
 * gives the file its size. */
static void test_zeros_hole_at_end(void)
{
    g_autofree char *path = tpath("zeros-end.bin");
    GError *err = NULL;
    struct hv_output *o = hv_output_open_path(path, FALSE, &err);
    g_assert_no_error(err);
    g_assert_true(hv_sink_write(hv_output_sink(o), 0, "head", 4, &err));
    g_assert_true(hv_sink_write_zeros(hv_output_sink(o), 4, ZRUN, &err));
    g_assert_cmpuint(hv_output_bytes_written(o), ==, 4 + ZRUN);
    g_assert_true(hv_output_commit(o, &err));
    g_assert_no_error(err);
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 4 + ZRUN);
    g_assert_cmpint((gint64)st.st_blocks * 512, <, ZRUN);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN); /* as main() does: EPIPE, not death */
    tmpdir = g_dir_make_tmp("hvdump-output-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/output/mode-and-content", test_mode_and_content);
    g_test_add_func("/output/exists-and-force", test_exists_and_force);
    g_test_add_func("/output/appeared-meanwhile", test_appeared_meanwhile);
    g_test_add_func("/output/abort", test_abort);
    g_test_add_func("/output/symlinks", test_symlinks);
    g_test_add_func("/output/stale-partial", test_stale_partial);
    g_test_add_func("/output/missing-dir", test_missing_dir);
    g_test_add_func("/output/epipe-and-sequential", test_epipe_and_sequential);
    g_test_add_func("/output/enospc", test_enospc);
    g_test_add_func("/output/enospc-handler", test_enospc_handler);
    g_test_add_func("/output/holes", test_holes);
    g_test_add_func("/output/zeros-pipe", test_zeros_pipe);
    g_test_add_func("/output/zeros-fd", test_zeros_fd);
    g_test_add_func("/output/zeros-hole-at-end", test_zeros_hole_at_end);
    g_test_add_func("/output/background-writes", test_background_writes);
    g_test_add_func("/output/background-enospc", test_background_enospc);
    g_test_add_func("/output/deferred-raw", test_deferred_raw);
    g_test_add_func("/output/deferred-raw-scattered", test_deferred_raw_scattered);
    g_test_add_func("/output/deferred-raw-errors", test_deferred_raw_errors);
    g_test_add_func("/output/deferred-raw-stream", test_deferred_raw_stream);
    int rc = g_test_run();
    char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        g_printerr("could not remove %s\n", tmpdir);
    g_free(cmd);
    g_free(tmpdir);
    return rc;
}
