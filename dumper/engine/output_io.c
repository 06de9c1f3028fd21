/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Buffers, the io thread and O_DIRECT (output_io.h). */
#include "dumper/engine/output_io.h"
#include "common/hv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUF_SIZE (8u << 20)
/* O_DIRECT wants buffer address, file offset and length in multiples of
 * the logical block size; 4 KiB covers every disk in use. */
#define DIRECT_ALIGN 4096u
/* Deferred runs are fetched and written this much at a time, so a buffer
 * handed to the io thread waits at most one chunk; and at most MAX_RUNS
 * runs are queued (a run per raw page at worst; output_deferred.c buffers
 * raw pages as usual beyond). */
#define FETCH_CHUNK (2u << 20)
#define MAX_RUNS 4096u

/* File bytes [off, off + len) whose contents fetch(ref .. ref + len)
 * gives. */
struct fetch_run {
    uint64_t off, ref, len;
};

struct hv_output_io {
    struct hv_sink sink;  /* first: hv_sink * casts back to us */
    struct hv_sink *below;
    uint8_t *mem;         /* DIRECT_ALIGN-aligned, OUT_BUF_SIZE + DIRECT_ALIGN */
    uint8_t *buf;         /* mem + buf_off % DIRECT_ALIGN */
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
    /* Background flush: a full buffer is handed to the io thread and the
     * writers go on filling the other one.  A burst of pages stored raw
     * then costs the disk's time, not the disk's plus the copy, and the
     * pipeline keeps draining its slots meanwhile.  The io thread alone
     * touches dfd, job_* and error (under lock) while busy. */
    uint8_t *mem2;        /* the buffer not being filled; NULL: no thread */
    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean busy, quit;
    const uint8_t *job_p;
    uint64_t job_off;
    size_t job_len;
    GError *error;        /* first failed background write or fetch */
    /* Deferred runs (a ring, under lock), written by the io thread when it
     * has no buffer to write. */
    hv_output_fetch_fn fetch;
    void *fetch_ud;
    struct fetch_run *runs;
    guint runs_head, n_runs;
    gboolean run_busy;    /* the io thread is on a chunk of a run */
    uint8_t *fetch_mem;   /* FETCH_CHUNK + DIRECT_ALIGN; io thread only */
};

static gboolean write_below(struct hv_output_io *io, uint64_t off, const uint8_t *p, size_t len,
                            GError **err)
{
    return len == 0 || hv_sink_write(io->below, off, p, len, err);
}

/* Aligned blocks through dfd; anything it refuses or leaves goes to the
 * sink below (which also reports errors and handles ENOSPC). */
static gboolean write_direct(struct hv_output_io *io, uint64_t off, const uint8_t *p, size_t len,
                             GError **err)
{
    while (len > 0) {
        ssize_t n = pwrite(io->dfd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL) { /* no O_DIRECT here after all */
            close(io->dfd);
            io->dfd = -1;
        }
        if (n > 0) {
            p += n;
            off += (uint64_t)n;
            len -= (size_t)n;
        }
        if (n <= 0 || n % DIRECT_ALIGN)
            return write_below(io, off, p, len, err);
    }
    return TRUE;
}

/* Writes a buffer's bytes: the block-aligned middle through dfd. */
static gboolean write_out(struct hv_output_io *io, uint64_t off, const uint8_t *p, size_t len,
                          GError **err)
{
    size_t head = 0, mid = 0;
    if (io->dfd >= 0) {
        /* buf sits at the same offset modulo DIRECT_ALIGN as the file: the
         * block-aligned middle is aligned in memory too. */
        head = (size_t)((DIRECT_ALIGN - off % DIRECT_ALIGN) % DIRECT_ALIGN);
        mid = head < len ? (len - head) / DIRECT_ALIGN * DIRECT_ALIGN : 0;
    }
    return mid == 0 ? write_below(io, off, p, len, err)
                    : write_below(io, off, p, head, err) &&
                      write_direct(io, off + head, p + head, mid, err) &&
                      write_below(io, off + head + mid, p + head + mid, len - head - mid, err);
}

/* With lock held: takes the next chunk of the oldest run, fetches and
 * writes it unlocked. */
static gboolean fill_chunk_locked(struct hv_output_io *io, GError **err)
{
    struct fetch_run *r = &io->runs[io->runs_head];
    uint64_t off = r->off, ref = r->ref;
    size_t n = (size_t)MIN(r->len, (uint64_t)FETCH_CHUNK);
    r->off += n;
    r->ref += n;
    r->len -= n;
    if (r->len == 0) {
        io->runs_head = (io->runs_head + 1) % MAX_RUNS;
        io->n_runs--;
    }
    io->run_busy = TRUE;
    g_mutex_unlock(&io->lock);
    /* Same offset modulo DIRECT_ALIGN as the file, as buffers are. */
    uint8_t *p = io->fetch_mem + off % DIRECT_ALIGN;
    gboolean ok = io->fetch(io->fetch_ud, ref, p, n, err) && write_out(io, off, p, n, err);
    g_mutex_lock(&io->lock);
    io->run_busy = FALSE;
    return ok;
}

/* The io thread: a submitted buffer first, else the next chunk of the
 * oldest deferred run.  On quit it finishes what it is writing and drops
 * queued runs. */
static gpointer io_main(gpointer data)
{
    struct hv_output_io *io = data;
    g_mutex_lock(&io->lock);
    for (;;) {
        while (!io->busy && !io->quit && (io->n_runs == 0 || io->error))
            g_cond_wait(&io->cond, &io->lock);
        GError *e = NULL;
        gboolean ok;
        if (io->busy) {
            g_mutex_unlock(&io->lock);
            ok = write_out(io, io->job_off, io->job_p, io->job_len, &e);
            g_mutex_lock(&io->lock);
            io->busy = FALSE;
        } else if (!io->quit) {
            ok = fill_chunk_locked(io, &e);
        } else {
            break;
        }
        if (!ok && !io->error)
            io->error = e;
        else if (!ok)
            g_error_free(e);
        g_cond_broadcast(&io->cond);
    }
    g_mutex_unlock(&io->lock);
    return NULL;
}

/* Called with lock held, releases it: reports (once) the first failed
 * background write. */
static gboolean take_error_unlock(struct hv_output_io *io, GError **err)
{
    GError *e = io->error;
    io->error = NULL;
    g_mutex_unlock(&io->lock);
    if (e) {
        g_propagate_error(err, e);
        return FALSE;
    }
    return TRUE;
}

/* Waits until no background write is running; FALSE with its error if one
 * failed (reported once, then the output is unusable anyway). */
static gboolean io_wait(struct hv_output_io *io, GError **err)
{
    if (!io->thread)
        return TRUE;
    g_mutex_lock(&io->lock);
    while (io->busy)
        g_cond_wait(&io->cond, &io->lock);
    return take_error_unlock(io, err);
}

gboolean hv_output_io_start(struct hv_output_io *io)
{
    if (io->thread)
        return TRUE;
    if (!io->mem2)
        return FALSE;
    g_mutex_init(&io->lock);
    g_cond_init(&io->cond);
    if (!(io->thread = g_thread_try_new("hvdump-io", io_main, io, NULL))) {
        g_mutex_clear(&io->lock);
        g_cond_clear(&io->cond);
        g_aligned_free(io->mem2);
        io->mem2 = NULL;  /* no thread: flush in place from now on */
        return FALSE;
    }
    return TRUE;
}

gboolean hv_output_io_can_queue(struct hv_output_io *io, guint n)
{
    g_mutex_lock(&io->lock);
    gboolean room = io->n_runs + n <= MAX_RUNS;
    g_mutex_unlock(&io->lock);
    return room;
}

void hv_output_io_queue_run(struct hv_output_io *io, uint64_t off, uint64_t ref, uint64_t len)
{
    g_mutex_lock(&io->lock);
    io->runs[(io->runs_head + io->n_runs) % MAX_RUNS] = (struct fetch_run){off, ref, len};
    io->n_runs++;
    g_cond_broadcast(&io->cond);
    g_mutex_unlock(&io->lock);
}

/* Waits until the io thread has written everything handed to it, deferred
 * runs included; FALSE with the first error. */
static gboolean io_drain(struct hv_output_io *io, GError **err)
{
    if (!io->thread)
        return TRUE;
    g_mutex_lock(&io->lock);
    while (io->busy || io->run_busy || (io->n_runs && !io->error))
        g_cond_wait(&io->cond, &io->lock);
    return take_error_unlock(io, err);
}

/* Hands the buffer to the io thread and switches to the other one.  A
 * failure of the previous background write is reported here. */
static gboolean io_submit(struct hv_output_io *io, GError **err)
{
    if (!io_wait(io, err))
        return FALSE;
    if (!hv_output_io_start(io))
        return write_out(io, io->buf_off, io->buf, io->buf_len, err);
    g_mutex_lock(&io->lock);
    io->job_p = io->buf;
    io->job_off = io->buf_off;
    io->job_len = io->buf_len;
    io->busy = TRUE;
    g_cond_broadcast(&io->cond);
    g_mutex_unlock(&io->lock);
    uint8_t *t = io->mem;
    io->mem = io->mem2;
    io->mem2 = t;
    return TRUE;
}

static void io_stop(struct hv_output_io *io)
{
    if (!io->thread)
        return;
    g_mutex_lock(&io->lock);
    io->quit = TRUE;
    g_cond_broadcast(&io->cond);
    g_mutex_unlock(&io->lock);
    g_thread_join(io->thread);   /* lets a running write finish */
    io->thread = NULL;
    g_clear_error(&io->error);
    g_mutex_clear(&io->lock);
    g_cond_clear(&io->cond);
}

static gboolean flush_buf(struct hv_output_io *io, GError **err)
{
    if (io->buf_len == 0)
        return TRUE;
    gboolean ok = io->mem2 ? io_submit(io, err)
                           : write_out(io, io->buf_off, io->buf, io->buf_len, err);
    io->buf_off += io->buf_len;
    io->buf_len = 0;
    return ok;
}

/* An empty buffer that will hold bytes from file offset off on, at the
 * same offset modulo DIRECT_ALIGN (for O_DIRECT; harmless without). */
static void start_buffer(struct hv_output_io *io, uint64_t off)
{
    io->buf_off = off;
    io->buf = io->mem + off % DIRECT_ALIGN;
}

/* Appends to the buffer (or writes through), flushing as needed. */
static gboolean io_write_at(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                            GError **err)
{
    struct hv_output_io *io = (struct hv_output_io *)s;
    /* Not contiguous with what is buffered: push that out first. */
    if (io->buf_len && off != io->buf_off + io->buf_len && !flush_buf(io, err))
        return FALSE;
    if (io->buf_len == 0)
        start_buffer(io, off);
    if (io->buf_len + len > OUT_BUF_SIZE) {
        if (!flush_buf(io, err))
            return FALSE;
        start_buffer(io, off);
    }
    if (len >= OUT_BUF_SIZE) { /* big writes go straight out, in order */
        if (!io_wait(io, err) || !write_below(io, off, data, len, err))
            return FALSE;
        start_buffer(io, off + len);
    } else {
        memcpy(io->buf + io->buf_len, data, len);
        io->buf_len += len;
    }
    return TRUE;
}

static gboolean io_flush(struct hv_sink *s, GError **err)
{
    struct hv_output_io *io = (struct hv_output_io *)s;
    return flush_buf(io, err) && io_drain(io, err);
}

gboolean hv_output_io_set_fetch(struct hv_output_io *io, hv_output_fetch_fn fn, void *ud)
{
    if (!io->mem2)
        return FALSE;
    io->fetch = fn;
    io->fetch_ud = ud;
    if (!io->runs) {
        io->runs = g_new(struct fetch_run, MAX_RUNS);
        io->fetch_mem = g_aligned_alloc(1, FETCH_CHUNK + DIRECT_ALIGN, DIRECT_ALIGN);
    }
    return TRUE;
}

struct hv_output_io *hv_output_io_new(struct hv_sink *below, int direct_fd, gboolean background)
{
    struct hv_output_io *io = g_new0(struct hv_output_io, 1);
    io->below = below;
    io->sink.write_at = io_write_at;
    io->sink.flush = io_flush;
    io->sink.random_access = below->random_access;
    io->mem = g_aligned_alloc(1, OUT_BUF_SIZE + DIRECT_ALIGN, DIRECT_ALIGN);
    io->buf = io->mem;
    if (background)
        io->mem2 = g_aligned_alloc(1, OUT_BUF_SIZE + DIRECT_ALIGN, DIRECT_ALIGN);
    io->dfd = -1;
    if (direct_fd >= 0) {
        /* Through the fd, not a path: nothing can be swapped in between. */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", direct_fd);
        io->dfd = open(self, O_WRONLY | O_DIRECT | O_CLOEXEC); /* -1: tmpfs, or no /proc */
    }
    return io;
}

struct hv_sink *hv_output_io_sink(struct hv_output_io *io)
{
    return &io->sink;
}

void hv_output_io_free(struct hv_output_io *io)
{
    if (!io)
        return;
    io_stop(io);
    if (io->dfd >= 0)
        close(io->dfd);
    g_aligned_free(io->mem);
    g_aligned_free(io->mem2);
    g_aligned_free(io->fetch_mem);
    g_free(io->runs);
    g_free(io);
}
