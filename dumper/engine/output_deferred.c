/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which raw pages to defer (output_deferred.h). */
#include "dumper/engine/output_deferred.h"

/* A raw streak is deferred only past its first DEFER_MIN bytes, which are
 * written as usual: a deferred run ends the buffer below (the bytes after
 * it start a new one), which pays only for long runs, not for raw pages
 * scattered among compressed ones. */
#define DEFER_MIN (64u << 10)

/* File bytes [off, off + len) whose contents fetch(ref .. ref + len)
 * gives. */
struct raw_run {
    uint64_t off, ref, len;
};

struct hv_output_deferred {
    struct hv_sink sink;  /* first: hv_sink * casts back to us */
    struct hv_sink *below;
    struct hv_output_io *io;
    struct raw_run streak; /* raw bytes written below just before, in a row */
    struct raw_run cur;    /* the deferred run being extended, not queued yet */
};

/* Queues the run being extended for the io thread: whatever comes next
 * does not continue it. */
static void queue_cur(struct hv_output_deferred *d)
{
    if (!d->cur.len)
        return;
    hv_output_io_queue_run(d->io, d->cur.off, d->cur.ref, d->cur.len);
    d->cur.len = 0;
}

static gboolean deferred_write_at(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                                  GError **err)
{
    struct hv_output_deferred *d = (struct hv_output_deferred *)s;
    d->streak.len = 0;
    queue_cur(d);
    return hv_sink_write(d->below, off, data, len, err);
}

static gboolean deferred_write_zeros(struct hv_sink *s, uint64_t off, uint64_t len, GError **err)
{
    struct hv_output_deferred *d = (struct hv_output_deferred *)s;
    d->streak.len = 0;
    queue_cur(d);
    return hv_sink_write_zeros(d->below, off, len, err);
}

/* Whether r (non-empty) continues right before off and ref. */
static gboolean continues(const struct raw_run *r, uint64_t off, uint64_t ref)
{
    return r->len && off == r->off + r->len && ref == r->ref + r->len;
}

/* Raw pages: extend the current deferred run when they follow it, in the
 * file and in the source; start one once a streak of them has been
 * written below for DEFER_MIN bytes (and the io thread can take another);
 * else write them below (buf holds the bytes). */
static gboolean deferred_write_ref(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                                   uint64_t ref, GError **err)
{
    struct hv_output_deferred *d = (struct hv_output_deferred *)s;
    if (continues(&d->cur, off, ref)) {
        d->cur.len += len;
        return TRUE;
    }
    if (continues(&d->streak, off, ref) && d->streak.len >= DEFER_MIN &&
        hv_output_io_start(d->io)) {
        /* Room for the current run and this one. */
        if (!hv_output_io_can_queue(d->io, (d->cur.len != 0) + 1))
            return deferred_write_at(s, off, data, len, err);
        queue_cur(d);
        d->cur = (struct raw_run){off, ref, len};
        d->streak.len = 0;
        return TRUE;
    }
    if (!continues(&d->streak, off, ref))
        d->streak = (struct raw_run){off, ref, 0};
    queue_cur(d);
    if (!hv_sink_write(d->below, off, data, len, err))
        return FALSE;
    d->streak.len += len;
    return TRUE;
}

static gboolean deferred_flush(struct hv_sink *s, GError **err)
{
    struct hv_output_deferred *d = (struct hv_output_deferred *)s;
    queue_cur(d);
    return d->below->flush(d->below, err);
}

struct hv_output_deferred *hv_output_deferred_new(struct hv_sink *below, struct hv_output_io *io)
{
    struct hv_output_deferred *d = g_new0(struct hv_output_deferred, 1);
    d->below = below;
    d->io = io;
    d->sink.write_at = deferred_write_at;
    d->sink.write_zeros = deferred_write_zeros;
    d->sink.write_ref = deferred_write_ref;
    d->sink.flush = deferred_flush;
    d->sink.random_access = below->random_access;
    return d;
}

struct hv_sink *hv_output_deferred_sink(struct hv_output_deferred *d)
{
    return &d->sink;
}

void hv_output_deferred_free(struct hv_output_deferred *d)
{
    g_free(d);
}
