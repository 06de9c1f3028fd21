/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump's destination (output.h): a stack of sinks, each one concern,
 * each writing to the one below:
 *
 *   hv_output's own sink   order check on streams, byte count
 *   output_deferred.c      long raw streaks left for the io thread to fetch
 *                          (only once hv_output_set_fetch succeeded)
 *   output_sparse.c        long zero runs left as holes (files we created)
 *   output_io.c            8 MiB buffers, io thread, O_DIRECT
 *   output_file.c          PATH.partial, flock, 0600, fsync, rename; the
 *                          unbuffered writes, ENOSPC retries
 *
 * A stream (pipe, stdout) gets the first, io and file only. */
#include "dumper/engine/output.h"
#include "dumper/engine/output_deferred.h"
#include "dumper/engine/output_file.h"
#include "dumper/engine/output_io.h"
#include "dumper/engine/output_sparse.h"
#include "common/hv_error.h"

struct hv_output {
    struct hv_sink sink;  /* first: writers get &sink */
    struct hv_output_file *file;
    struct hv_output_io *io;
    struct hv_output_sparse *sparse;     /* NULL unless a file we created */
    struct hv_output_deferred *deferred; /* NULL until hv_output_set_fetch */
    struct hv_sink *top;  /* the highest of the layers above */
    uint64_t high;        /* highest end offset written */
};

/* A stream takes only the next offset; a write out of order is a writer's
 * bug, reported rather than corrupting the dump. */
static gboolean check_order(struct hv_output *o, uint64_t off, GError **err)
{
    struct hv_sink *s = &o->sink;
    if (s->random_access || off == s->next_offset)
        return TRUE;
    hv_error_internal(err, "out-of-order write at %" G_GUINT64_FORMAT
                      " (expected %" G_GUINT64_FORMAT ") to the stream %s",
                      off, s->next_offset, hv_output_file_name(o->file));
    return FALSE;
}

static void written(struct hv_output *o, uint64_t off, uint64_t len)
{
    o->sink.next_offset = off + len;
    if (off + len > o->high)
        o->high = off + len;
}

static gboolean out_write_at(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                             GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    if (!check_order(o, off, err) || !hv_sink_write(o->top, off, data, len, err))
        return FALSE;
    written(o, off, len);
    return TRUE;
}

static gboolean out_write_zeros(struct hv_sink *s, uint64_t off, uint64_t len, GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    if (!check_order(o, off, err) || !hv_sink_write_zeros(o->top, off, len, err))
        return FALSE;
    written(o, off, len);
    return TRUE;
}

/* Installed by hv_output_set_fetch: o->top is then the deferring layer. */
static gboolean out_write_ref(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                              uint64_t ref, GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    if (!check_order(o, off, err) || !hv_sink_write_ref(o->top, off, data, len, ref, err))
        return FALSE;
    written(o, off, len);
    return TRUE;
}

/* Everything written (on its way to disk) when it returns TRUE. */
static gboolean out_flush(struct hv_sink *s, GError **err)
{
    struct hv_output *o = (struct hv_output *)s;
    return o->top->flush(o->top, err);
}

/* Stacks the layers a file needs on it; takes f. */
static struct hv_output *output_new(struct hv_output_file *f)
{
    struct hv_output *o = g_new0(struct hv_output, 1);
    o->file = f;
    o->sink.write_at = out_write_at;
    o->sink.write_zeros = out_write_zeros;
    o->sink.flush = out_flush;
    o->sink.random_access = hv_output_file_sink(f)->random_access;
    gboolean created = hv_output_file_created(f);
    o->io = hv_output_io_new(hv_output_file_sink(f), created ? hv_output_file_fd(f) : -1,
                             hv_output_file_is_plain(f));
    o->top = hv_output_io_sink(o->io);
    if (created) { /* our own new, empty file: holes read back as zeros */
        o->sparse = hv_output_sparse_new(o->top);
        o->top = hv_output_sparse_sink(o->sparse);
    }
    return o;
}

/* Frees the layers above the file, top down; the io thread stops (after
 * the write under way) before anything below it goes. */
static struct hv_output_file *output_free_layers(struct hv_output *o)
{
    struct hv_output_file *f = o->file;
    hv_output_deferred_free(o->deferred);
    hv_output_sparse_free(o->sparse);
    hv_output_io_free(o->io);
    g_free(o);
    return f;
}

struct hv_output *hv_output_open_fd(int fd, GError **err)
{
    struct hv_output_file *f = hv_output_file_open_fd(fd, err);
    return f ? output_new(f) : NULL;
}

struct hv_output *hv_output_open_path(const char *path, gboolean force, GError **err)
{
    return hv_output_open_path_notify(path, force, NULL, NULL, err);
}

struct hv_output *hv_output_open_path_notify(const char *path, gboolean force,
                                             hv_output_created_fn created, void *ud,
                                             GError **err)
{
    struct hv_output_file *f = hv_output_file_open_path_notify(path, force, created, ud, err);
    return f ? output_new(f) : NULL;
}

gboolean hv_output_set_fetch(struct hv_output *o, hv_output_fetch_fn fn, void *ud)
{
    if (!o->sink.random_access || !hv_output_file_is_regular(o->file) ||
        !hv_output_io_set_fetch(o->io, fn, ud))
        return FALSE;
    if (!o->deferred) {
        o->deferred = hv_output_deferred_new(o->top, o->io);
        o->top = hv_output_deferred_sink(o->deferred);
    }
    o->sink.write_ref = out_write_ref;
    return TRUE;
}

gboolean hv_output_wait_fetched(struct hv_output *o, GError **err)
{
    return out_flush(&o->sink, err);
}

void hv_output_set_nospace_handler(struct hv_output *o, gboolean (*fn)(void *ud), void *ud)
{
    hv_output_file_set_nospace_handler(o->file, fn, ud);
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

gboolean hv_output_commit(struct hv_output *o, GError **err)
{
    /* A hole at the end of the file is not there until the size says so. */
    if (!out_flush(&o->sink, err) ||
        (o->sparse && !hv_output_file_extend(o->file, o->high, err))) {
        hv_output_abort(o);
        return FALSE;
    }
    return hv_output_file_commit(output_free_layers(o), err);
}

void hv_output_abort(struct hv_output *o)
{
    if (!o)
        return;
    hv_output_file_abort(output_free_layers(o));
}
