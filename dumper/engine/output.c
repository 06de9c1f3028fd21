/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump's destination file, pipe or fd, behind a buffered struct hv_sink.
 * A path is written as PATH.partial, held with an flock while we write (so a
 * partial left by a dead run can be told from one still being written), and
 * renamed into place only once complete and fsync'd. */
#include "dumper/engine/output.h"
#include "common/hv_error.h"
#include "formats/writer_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUF_SIZE (8u << 20)
/* O_DIRECT wants buffer address, file offset and length in multiples of
 * the logical block size; 4 KiB covers every disk in use. */
#define DIRECT_ALIGN 4096u
/* Zero runs at least this long become holes in files we create; shorter
 * ones are written (a hole per stray zero page would fragment the file and
 * cost a syscall each). */
#define HOLE_MIN (64u << 10)
/* Deferred raw runs (hv_output_set_fetch) are fetched and written this
 * much at a time, so a buffer handed to the io thread waits at most one
 * chunk; and at most MAX_RUNS runs are queued (a run per raw page at
 * worst), beyond which raw pages are buffered as usual. */
#define FETCH_CHUNK (2u << 20)
#define MAX_RUNS 4096u
/* A raw streak is deferred only past its first DEFER_MIN bytes, which are
 * buffered as usual: a deferred run ends the buffer (the bytes after it
 * start a new one), which pays only for long runs, not for raw pages
 * scattered among compressed ones. */
#define DEFER_MIN (64u << 10)

/* File bytes [off, off + len) whose contents fetch(ref .. ref + len)
 * gives. */
struct fetch_run {
    uint64_t off, ref, len;
};

struct hv_output {
    struct hv_sink sink;  /* first: writers get &sink */
    int fd;
    gboolean own_fd;
    gboolean is_regular;
    char *path;           /* final path, NULL for stdout/fd */
    char *partial;        /* PATH.partial */
    char *dir;            /* directory of path, fsync'd after rename */
    char *name;           /* for messages */
    gboolean force;
    uint8_t *mem;         /* DIRECT_ALIGN-aligned, OUT_BUF_SIZE + DIRECT_ALIGN */
    uint8_t *buf;         /* mem + buf_off % DIRECT_ALIGN (when dfd >= 0) */
    size_t buf_len;
    uint64_t buf_off;     /* file offset of buf[0] */
    /* The same file opened with O_DIRECT, or -1.  Whole aligned blocks of a
     * flush go through it: the dump is written once and read by someone
     * else later, so copying it into our page cache (a fifth of hvdump's
     * CPU for a kdump) buys nothing; the unaligned ends and the scattered
     * small writes (headers, descriptors, bitmaps) stay buffered.  Linux
     * keeps the two coherent: a direct write flushes and drops cached
     * pages of its range first. */
    int dfd;
    uint64_t high;        /* highest end offset written */
    /* Sparse output: writers hand zero-filled pages as hv_zero_page (ELF
     * does for every page the guest has as zero, most of a lightly used
     * guest).  In a file we created, those bytes need not be written: a
     * hole reads back as zeros and costs neither the copy into the page
     * cache nor the disk write.  Pending zeros sit in [zero_off, +zero_len),
     * right after the buffered bytes; they are written out only when the
     * run is shorter than HOLE_MIN. */
    gboolean holes;
    uint64_t zero_off, zero_len;
    gboolean (*on_nospace)(void *ud); /* may free space; then we retry */
    void *on_nospace_ud;
    /* Background flush (regular files): a full buffer is handed to the io
     * thread and the writers go on filling the other one.  A burst of pages
     * stored raw then costs the disk's time, not the disk's plus the copy,
     * and the pipeline keeps draining its slots meanwhile.  The io thread
     * alone touches dfd, job_* and io_error (under io_lock) while busy. */
    uint8_t *mem2;        /* the buffer not being filled */
    GThread *io;
    GMutex io_lock;
    GCond io_cond;
    gboolean io_busy, io_quit;
    const uint8_t *job_p;
    uint64_t job_off;
    size_t job_len;
    GError *io_error;     /* first failed background write */
    /* Deferred raw runs: pages the writer placed but whose bytes the io
     * thread reads from the source again, when it has no buffer to write.
     * A burst of raw pages then no longer holds up the pipeline (which
     * could otherwise run only a few batches ahead of the disk): the
     * compressed pages that follow are written at once, after a gap that
     * is filled meanwhile.  cur is the run the writer is extending; runs[]
     * (a ring, under io_lock) are queued for the io thread. */
    hv_output_fetch_fn fetch;
    void *fetch_ud;
    struct fetch_run streak; /* raw bytes buffered just before, in a row */
    struct fetch_run cur;
    struct fetch_run *runs;
    guint runs_head, n_runs;
    gboolean run_busy;    /* the io thread is on a chunk of a run */
    uint8_t *fetch_mem;   /* FETCH_CHUNK + DIRECT_ALIGN; io thread only */
};

static void set_write_error(struct hv_output *o, int e, GError **err)
{
    if (e == ENOSPC || e == EDQUOT)
        g_set_error(err, HV_ERROR, HV_ERROR_NOSPACE, "no space left on device writing %s", o->name);
    else if (e == EPIPE)
        g_set_error(err, HV_ERROR, HV_ERROR_PIPE, "output closed by reader");
    else
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "writing %s: %s", o->name, g_strerror(e));
}

/* Writes all of buf at off (regular files, pwrite) or at the current
 * position (streams); retries short writes and EINTR. */
static gboolean write_all(struct hv_output *o, uint64_t off, const uint8_t *buf, size_t len,
                          GError **err)
{
    while (len > 0) {
        ssize_t n = o->sink.random_access ? pwrite(o->fd, buf, len, (off_t)off)
                                          : write(o->fd, buf, len);
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            /* Whatever was written before stays; retry the rest. */
            if ((e == ENOSPC || e == EDQUOT) && o->on_nospace && o->on_nospace(o->on_nospace_ud))
                continue;
            set_write_error(o, e, err);
            return FALSE;
        }
        if (n == 0) {
            set_write_error(o, EIO, err);
            return FALSE;
        }
        buf += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return TRUE;
}

/* Aligned blocks through dfd; anything it refuses or leaves goes through
 * write_all (which also reports errors and handles ENOSPC). */
static gboolean write_direct(struct hv_output *o, uint64_t off, const uint8_t *p, size_t len,
                             GError **err)
{
    while (len > 0) {
        ssize_t n = pwrite(o->dfd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL) { /* no O_DIRECT here after all */
            close(o->dfd);
            o->dfd = -1;
        }
        if (n > 0) {
            p += n;
            off += (uint64_t)n;
            len -= (size_t)n;
        }
        if (n <= 0 || n % DIRECT_ALIGN)
            return write_all(o, off, p, len, err);
    }
    return TRUE;
}

/* Writes a buffer's bytes: the block-aligned middle through dfd. */
static gboolean write_out(struct hv_output *o, uint64_t off, const uint8_t *p, size_t len,
                          GError **err)
{
    size_t head = 0, mid = 0;
    if (o->dfd >= 0) {
        /* buf sits at the same offset modulo DIRECT_ALIGN as the file: the
         * block-aligned middle is aligned in memory too. */
        head = (size_t)((DIRECT_ALIGN - off % DIRECT_ALIGN) % DIRECT_ALIGN);
        mid = head < len ? (len - head) / DIRECT_ALIGN * DIRECT_ALIGN : 0;
    }
    return mid == 0 ? write_all(o, off, p, len, err)
                    : write_all(o, off, p, head, err) &&
                      write_direct(o, off + head, p + head, mid, err) &&
                      write_all(o, off + head + mid, p + head + mid, len - head - mid, err);
}

/* The io thread: a submitted buffer first, else the next chunk of the
 * oldest deferred run.  On quit it finishes what it is writing and drops
 * queued runs (an abort; commit drains them first). */
static gpointer io_main(gpointer data)
{
    struct hv_output *o = data;
    g_mutex_lock(&o->io_lock);
    for (;;) {
        while (!o->io_busy && !o->io_quit && (o->n_runs == 0 || o->io_error))
            g_cond_wait(&o->io_cond, &o->io_lock);
        GError *e = NULL;
        gboolean ok;
        if (o->io_busy) {
            g_mutex_unlock(&o->io_lock);
            ok = write_out(o, o->job_off, o->job_p, o->job_len, &e);
            g_mutex_lock(&o->io_lock);
            o->io_busy = FALSE;
        } else if (!o->io_quit) {
            struct fetch_run *r = &o->runs[o->runs_head];
            uint64_t off = r->off, ref = r->ref;
            size_t n = (size_t)MIN(r->len, (uint64_t)FETCH_CHUNK);
            r->off += n;
            r->ref += n;
            r->len -= n;
            if (r->len == 0) {
                o->runs_head = (o->runs_head + 1) % MAX_RUNS;
                o->n_runs--;
            }
            o->run_busy = TRUE;
            g_mutex_unlock(&o->io_lock);
            /* Same offset modulo DIRECT_ALIGN as the file, as buffers are. */
            uint8_t *p = o->fetch_mem + off % DIRECT_ALIGN;
            ok = o->fetch(o->fetch_ud, ref, p, n, &e) && write_out(o, off, p, n, &e);
            g_mutex_lock(&o->io_lock);
            o->run_busy = FALSE;
        } else {
            break;
        }
        if (!ok && !o->io_error)
            o->io_error = e;
        else if (!ok)
            g_error_free(e);
        g_cond_broadcast(&o->io_cond);
    }
    g_mutex_unlock(&o->io_lock);
    return NULL;
}

/* Called with io_lock held, releases it: reports (once) the first failed
 * background write. */
static gboolean take_io_error_unlock(struct hv_output *o, GError **err)
{
    GError *e = o->io_error;
    o->io_error = NULL;
    g_mutex_unlock(&o->io_lock);
    if (e) {
        g_propagate_error(err, e);
        return FALSE;
    }
    return TRUE;
}

/* Waits until no background write is running; FALSE with its error if one
 * failed (reported once, then the output is unusable anyway). */
static gboolean io_wait(struct hv_output *o, GError **err)
{
    if (!o->io)
        return TRUE;
    g_mutex_lock(&o->io_lock);
    while (o->io_busy)
        g_cond_wait(&o->io_cond, &o->io_lock);
    return take_io_error_unlock(o, err);
}

/* Starts the io thread (regular files with a second buffer); FALSE when
 * there is none, and then never will be. */
static gboolean io_start(struct hv_output *o)
{
    if (o->io)
        return TRUE;
    if (!o->mem2)
        return FALSE;
    g_mutex_init(&o->io_lock);
    g_cond_init(&o->io_cond);
    if (!(o->io = g_thread_try_new("hvdump-io", io_main, o, NULL))) {
        g_mutex_clear(&o->io_lock);
        g_cond_clear(&o->io_cond);
        g_aligned_free(o->mem2);
        o->mem2 = NULL;  /* no thread: flush in place from now on */
        return FALSE;
    }
    return TRUE;
}

/* Queues the run being extended for the io thread. */
static void queue_run(struct hv_output *o)
{
    g_mutex_lock(&o->io_lock);
    o->runs[(o->runs_head + o->n_runs) % MAX_RUNS] = o->cur;
    o->n_runs++;
    g_cond_broadcast(&o->io_cond);
    g_mutex_unlock(&o->io_lock);
    o->cur.len = 0;
}

/* Waits until the io thread has written everything handed to it, deferred
 * runs included; FALSE with the first error. */
static gboolean io_drain(struct hv_output *o, GError **err)
{
    if (!o->io)
        return TRUE;
    if (o->cur.len)
        queue_run(o);
    g_mutex_lock(&o->io_lock);
    while (o->io_busy || o->run_busy || (o->n_runs && !o->io_error))
        g_cond_wait(&o->io_cond, &o->io_lock);
    return take_io_error_unlock(o, err);
}

/* Hands the buffer to the io thread and switches to the other one.  A
 * failure of the previous background write is reported here. */
static gboolean io_submit(struct hv_output *o, GError **err)
{
    if (!io_wait(o, err))
        return FALSE;
    if (!io_start(o))
        return write_out(o, o->buf_off, o->buf, o->buf_len, err);
    g_mutex_lock(&o->io_lock);
    o->job_p = o->buf;
    o->job_off = o->buf_off;
    o->job_len = o->buf_len;
    o->io_busy = TRUE;
    g_cond_broadcast(&o->io_cond);
    g_mutex_unlock(&o->io_lock);
    uint8_t *t = o->mem;
    o->mem = o->mem2;
    o->mem2 = t;
    return TRUE;
}

static void io_stop(struct hv_output *o)
{
    if (!o->io)
        return;
    g_mutex_lock(&o->io_lock);
    o->io_quit = TRUE;
    g_cond_broadcast(&o->io_cond);
    g_mutex_unlock(&o->io_lock);
    g_thread_join(o->io);   /* lets a running write finish */
    o->io = NULL;
    g_clear_error(&o->io_error);
    g_mutex_clear(&o->io_lock);
    g_cond_clear(&o->io_cond);
}

static gboolean out_flush_buf(struct hv_output *o, GError **err)
{
    if (o->buf_len == 0)
        return TRUE;
    gboolean ok = o->mem2 ? io_submit(o, err) : write_out(o, o->buf_off, o->buf, o->buf_len, err);
    o->buf_off += o->buf_len;
    o->buf_len = 0;
    return ok;
}

/* An empty buffer that will hold bytes from file offset off on, at the
 * same offset modulo DIRECT_ALIGN (for O_DIRECT; harmless without). */
static void start_buffer(struct hv_output *o, uint64_t off)
{
    o->buf_off = off;
    o->buf = o->mem + off % DIRECT_ALIGN;
}

/* Appends to the buffer (or writes through), flushing as needed. */
static gboolean buffer_write(struct hv_output *o, uint64_t off, const void *data, size_t len,
                             GError **err)
{
    /* Not contiguous with what is buffered: push that out first. */
    if (o->buf_len && off != o->buf_off + o->buf_len && !out_flush_buf(o, err))
        return FALSE;
    if (o->buf_len == 0)
        start_buffer(o, off);
    if (o->buf_len + len > OUT_BUF_SIZE) {
        if (!out_flush_buf(o, err))
            return FALSE;
        start_buffer(o, off);
    }
    if (len >= OUT_BUF_SIZE) { /* big writes go straight out, in order */
        if (!io_wait(o, err) || !write_all(o, off, data, len, err))
            return FALSE;
        start_buffer(o, off + len);
    } else {
        memcpy(o->buf + o->buf_len, data, len);
        o->buf_len += len;
    }
    return TRUE;
}

/* Settles the pending zero run: written when short, else left as a hole
 * (the file's size is set at commit if the hole is at its end). */
static gboolean settle_zeros(struct hv_output *o, GError **err)
{
    uint64_t off = o->zero_off, left = o->zero_len;
    o->zero_len = 0;
    if (left >= HOLE_MIN)
        return TRUE;
    while (left > 0) {
        size_t n = (size_t)MIN(left, (uint64_t)sizeof hv_zero_page);
        if (!buffer_write(o, off, hv_zero_page, n, err))
            return FALSE;
        off += n;
        left -= n;
    }
    return TRUE;
}

static gboolean write_plain(struct hv_output *o, uint64_t off, const void *data, size_t len,
                            GError **err)
{
    struct hv_sink *s = &o->sink;
    if (o->cur.len)
        queue_run(o);   /* what follows a deferred run starts a new buffer */
    if (!s->random_access && off != s->next_offset) {
        hv_error_internal(err,
                    "out-of-order write at %" G_GUINT64_FORMAT
                    " (expected %" G_GUINT64_FORMAT ") to the stream %s",
                    off, s->next_offset, o->name);
        return FALSE;
    }
    if (o->holes && data == hv_zero_page && len > 0) {
        if (o->zero_len && off != o->zero_off + o->zero_len && !settle_zeros(o, err))
            return FALSE;
        if (!o->zero_len)
            o->zero_off = off;
        o->zero_len += len;
    } else {
        if (o->zero_len && !settle_zeros(o, err))
            return FALSE;
        if (!buffer_write(o, off, data, len, err))
            return FALSE;
    }
    s->next_offset = off + len;
    if (off + len > o->high)
        o->high = off + len;
    return TRUE;
}

static gboolean out_write_at(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                             GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    o->streak.len = 0;
    return write_plain(o, off, data, len, err);
}

/* Whether r (non-empty) continues right before off and ref. */
static gboolean continues(const struct fetch_run *r, uint64_t off, uint64_t ref)
{
    return r->len && off == r->off + r->len && ref == r->ref + r->len;
}

/* Raw pages: extend the current deferred run when they follow it, in the
 * file and in the source; start one once a streak of them has been
 * buffered for DEFER_MIN bytes (and the io thread can take another);
 * else buffer them (buf holds the bytes). */
static gboolean out_write_ref(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                              uint64_t ref, GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    if (continues(&o->cur, off, ref)) {
        o->cur.len += len;
    } else if (continues(&o->streak, off, ref) && o->streak.len >= DEFER_MIN && io_start(o)) {
        g_mutex_lock(&o->io_lock);
        gboolean full = o->n_runs + (o->cur.len != 0) >= MAX_RUNS;
        g_mutex_unlock(&o->io_lock);
        if (full)
            return out_write_at(s, off, data, len, err);
        if (o->cur.len)
            queue_run(o);
        o->cur = (struct fetch_run){off, ref, len};
        o->streak.len = 0;
    } else {
        if (!continues(&o->streak, off, ref))
            o->streak = (struct fetch_run){off, ref, 0};
        if (!write_plain(o, off, data, len, err))
            return FALSE;
        o->streak.len += len;
        return TRUE;
    }
    s->next_offset = off + len;
    if (off + len > o->high)
        o->high = off + len;
    return TRUE;
}

/* Everything written (on its way to disk) when it returns TRUE. */
static gboolean out_flush(struct hv_sink *s, GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    return (!o->zero_len || settle_zeros(o, err)) && out_flush_buf(o, err) && io_drain(o, err);
}

gboolean hv_output_set_fetch(struct hv_output *o, hv_output_fetch_fn fn, void *ud)
{
    if (!o->sink.random_access || !o->is_regular || !o->mem2)
        return FALSE;
    o->fetch = fn;
    o->fetch_ud = ud;
    if (!o->runs) {
        o->runs = g_new(struct fetch_run, MAX_RUNS);
        o->fetch_mem = g_aligned_alloc(1, FETCH_CHUNK + DIRECT_ALIGN, DIRECT_ALIGN);
    }
    o->sink.write_ref = out_write_ref;
    return TRUE;
}

gboolean hv_output_wait_fetched(struct hv_output *o, GError **err)
{
    return out_flush(&o->sink, err);
}

/* A hole at the end of the file is not there until the size says so. */
static gboolean set_size(struct hv_output *o, GError **err)
{
    struct stat st;
    if (!o->holes)
        return TRUE;
    if (fstat(o->fd, &st) < 0) {
        set_write_error(o, errno, err);
        return FALSE;
    }
    if ((uint64_t)st.st_size < o->high && ftruncate(o->fd, (off_t)o->high) < 0) {
        set_write_error(o, errno, err);
        return FALSE;
    }
    return TRUE;
}

static struct hv_output *output_new(int fd, const char *name)
{
    struct hv_output *o = g_new0(struct hv_output, 1);
    o->fd = fd;
    o->name = g_strdup(name);
    o->dfd = -1;
    o->mem = g_aligned_alloc(1, OUT_BUF_SIZE + DIRECT_ALIGN, DIRECT_ALIGN);
    o->buf = o->mem;
    o->sink.write_at = out_write_at;
    o->sink.flush = out_flush;
    return o;
}

static void output_free(struct hv_output *o)
{
    io_stop(o);
    if (o->own_fd && o->fd >= 0)
        close(o->fd);
    g_free(o->path);
    g_free(o->partial);
    g_free(o->dir);
    g_free(o->name);
    if (o->dfd >= 0)
        close(o->dfd);
    g_aligned_free(o->mem);
    g_aligned_free(o->mem2);
    g_aligned_free(o->fetch_mem);
    g_free(o->runs);
    g_free(o);
}

struct hv_output *hv_output_open_fd(int fd, GError **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "fd %d: %s", fd, g_strerror(errno));
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "fd %d is not open for writing", fd);
        return NULL;
    }
    char *name = fd == STDOUT_FILENO ? g_strdup("standard output") : g_strdup_printf("fd %d", fd);
    struct hv_output *o = output_new(fd, name);
    g_free(name);
    o->is_regular = S_ISREG(st.st_mode);
    /* pwrite at absolute offsets only where that means what we think: a
     * regular file, not appending, positioned at its start. */
    off_t pos = o->is_regular ? lseek(fd, 0, SEEK_CUR) : -1;
    o->sink.random_access = o->is_regular && !(fl & O_APPEND) && pos == 0;
    if (o->sink.random_access)
        o->mem2 = g_aligned_alloc(1, OUT_BUF_SIZE + DIRECT_ALIGN, DIRECT_ALIGN);
    return o;
}

/* Opens PATH.partial exclusively.  An existing partial that nobody holds a
 * lock on is a leftover of a dead run: ours to remove (never a symlink). */
static int open_partial(struct hv_output *o, GError **err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(o->partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                /* Someone raced us to it between open and lock. */
                close(fd);
                break;
            }
            return fd;
        }
        int e = errno;
        if (e != EEXIST || attempt > 0) {
            hv_error_from_errno(err, e, "cannot create %s: %s", o->partial, g_strerror(e));
            return -1;
        }
        int old = open(o->partial, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (old < 0 || fstat(old, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
            if (old >= 0)
                close(old);
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS,
                        "%s exists and is not a partial dump of ours; remove it", o->partial);
            return -1;
        }
        if (flock(old, LOCK_EX | LOCK_NB) < 0) {
            close(old);
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS,
                        "%s is being written by another hvdump", o->partial);
            return -1;
        }
        unlink(o->partial);
        close(old);
    }
    g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s is being written by another hvdump", o->partial);
    return -1;
}

struct hv_output *hv_output_open_path(const char *path, gboolean force, GError **err)
{
    if (strcmp(path, "-") == 0) {
        /* Always a stream, even when redirected to a file: what "-o -"
         * produces must not depend on how the shell set up stdout (kdump
         * is then flattened, as QEMU does for an fd). */
        struct hv_output *o = hv_output_open_fd(STDOUT_FILENO, err);
        if (o)
            o->sink.random_access = FALSE;
        return o;
    }
    if (!*path) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "empty output path");
        return NULL;
    }
    char *dir = g_path_get_dirname(path);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "directory %s does not exist", dir);
        g_free(dir);
        return NULL;
    }
    if (lstat(path, &st) == 0) {
        if (!force) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s exists (use --force to replace it)", path);
            g_free(dir);
            return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "%s is a directory", path);
            g_free(dir);
            return NULL;
        }
    }
    struct hv_output *o = output_new(-1, path);
    o->path = g_strdup(path);
    o->partial = hv_output_partial_path(path);
    o->dir = dir;
    o->force = force;
    o->own_fd = TRUE;
    o->fd = open_partial(o, err);
    if (o->fd < 0) {
        output_free(o);
        return NULL;
    }
    /* Dumps hold guest memory: never readable by others, whatever umask. */
    if (fchmod(o->fd, 0600) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "chmod %s: %s", o->partial, g_strerror(errno));
        hv_output_abort(o);
        return NULL;
    }
    o->is_regular = TRUE;
    o->sink.random_access = TRUE;
    o->mem2 = g_aligned_alloc(1, OUT_BUF_SIZE + DIRECT_ALIGN, DIRECT_ALIGN);
    o->holes = TRUE; /* our own new, empty file */
    /* Through our fd, not the path: nothing can be swapped in between. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", o->fd);
    o->dfd = open(self, O_WRONLY | O_DIRECT | O_CLOEXEC); /* -1: tmpfs, or no /proc */
    return o;
}

void hv_output_set_nospace_handler(struct hv_output *o, gboolean (*fn)(void *ud), void *ud)
{
    o->on_nospace = fn;
    o->on_nospace_ud = ud;
}

struct hv_sink *hv_output_sink(struct hv_output *o)
{
    return &o->sink;
}

gboolean hv_output_is_random_access(struct hv_output *o)
{
    return o->sink.random_access;
}

uint64_t hv_output_bytes_written(struct hv_output *o)
{
    return o->high;
}

static gboolean fsync_dir(const char *dir, GError **err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "fsync %s: %s", dir, g_strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return FALSE;
    }
    close(dfd);
    return TRUE;
}

/* Moves the partial into place; without force, never over a file that
 * appeared meanwhile. */
static gboolean put_in_place(struct hv_output *o, GError **err)
{
    if (o->force) {
        if (rename(o->partial, o->path) == 0)
            return TRUE;
    } else {
        if (renameat2(AT_FDCWD, o->partial, AT_FDCWD, o->path, RENAME_NOREPLACE) == 0)
            return TRUE;
        if (errno == EINVAL || errno == ENOSYS) { /* filesystem without NOREPLACE */
            if (link(o->partial, o->path) == 0) {
                unlink(o->partial);
                return TRUE;
            }
        }
        if (errno == EEXIST) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s exists (use --force to replace it)",
                        o->path);
            return FALSE;
        }
    }
    g_set_error(err, HV_ERROR, HV_ERROR_IO, "rename %s to %s: %s", o->partial, o->path,
                g_strerror(errno));
    return FALSE;
}

gboolean hv_output_commit(struct hv_output *o, GError **err)
{
    if (!out_flush(&o->sink, err) || !set_size(o, err))
        goto fail;
    /* fsync: ENOSPC and EIO of delayed allocation show up here. */
    if (o->is_regular && fsync(o->fd) < 0 && errno != EINVAL) {
        set_write_error(o, errno, err);
        goto fail;
    }
    if (!o->path) {
        output_free(o);
        return TRUE;
    }
    /* Rename while still holding the partial's lock, so that no other run
     * takes it for a dead one's leftover. */
    if (!put_in_place(o, err))
        goto fail;
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) < 0) {
        set_write_error(o, errno, err);
        output_free(o);
        return FALSE;
    }
    gboolean ok = fsync_dir(o->dir, err);
    output_free(o);
    return ok;
fail:
    hv_output_abort(o);
    return FALSE;
}

void hv_output_abort(struct hv_output *o)
{
    if (!o)
        return;
    if (o->partial)
        unlink(o->partial);
    output_free(o);
}

char *hv_output_partial_path(const char *path)
{
    return g_strconcat(path, ".partial", NULL);
}
