/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump pipeline.  Batches of pages are numbered in pfn order (seq).
 * Worker threads claim the next seq together with its slot (slot = seq mod
 * n_slots, and a slot is claimable only once the writer has released its
 * previous batch), read/classify/compress into that slot, and mark it done.
 * The calling thread is the writer: it waits for slot seq, hands it to the
 * writer ops, and frees it.  All shared state sits under one mutex with one
 * condition variable; the per-batch work happens outside it.  Memory is
 * n_slots batches, whatever the guest's size. */
#include "dumper/engine/pipeline.h"
#include "dumper/engine/page_compress.h"
#include "common/hv_error.h"

#include <string.h>

#define DEFAULT_BATCH_PAGES 256
/* How often the writer looks at the cancel flag while waiting. */
#define CANCEL_POLL_US (100 * 1000)

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_DONE };

struct slot {
    enum slot_state state;
    uint64_t seq;
    uint64_t gpa;
    size_t n;
    gboolean mapped;        /* pages come from src map(), not from in */
    uint8_t *in;            /* batch_pages * page_size, for read() */
    uint8_t *out;           /* batch_pages * out_stride, compressed pages */
    enum gm_page_state *page_state; /* batch_pages */
    struct hv_page_out *pages;
};

struct pipeline {
    struct gm_source *src;
    const struct hv_pipeline_config *cfg;
    size_t batch_pages;
    size_t out_stride;      /* codec bound for one page, 0 without codec */
    uint32_t page_size;

    GMutex lock;
    GCond cond;
    GMutex read_lock;       /* serializes read() of non-thread-safe sources */
    /* Under lock: */
    size_t blk;             /* claim cursor: block index and offset in it */
    uint64_t blk_off;
    uint64_t next_seq;
    uint64_t total_batches;
    uint64_t reads_done;
    gboolean source_done_called;
    gboolean stop;
    GError *error;          /* first error wins */

    struct slot *slots;
    size_t n_slots;
};

static uint64_t count_batches(const struct gm_source *src, size_t batch_pages)
{
    uint64_t total = 0;
    for (size_t i = 0; i < src->n_blocks; i++) {
        uint64_t pages = src->blocks[i].size / src->page_size;
        total += (pages + batch_pages - 1) / batch_pages;
    }
    return total;
}

static gboolean cancelled(const struct pipeline *p)
{
    return p->cfg->cancel && g_atomic_int_get(p->cfg->cancel);
}

/* Records the first error and wakes everyone up to stop.  Under lock. */
static void fail_locked(struct pipeline *p, GError *e)
{
    if (!p->error)
        p->error = e;
    else
        g_error_free(e);
    p->stop = TRUE;
    g_cond_broadcast(&p->cond);
}

static void fail(struct pipeline *p, GError *e)
{
    g_mutex_lock(&p->lock);
    fail_locked(p, e);
    g_mutex_unlock(&p->lock);
}

/* Calls source_done at most once; outside the lock, so the callback may take
 * its time (resuming a guest) without holding anyone up. */
static void maybe_source_done(struct pipeline *p, gboolean force)
{
    gboolean call = FALSE;
    g_mutex_lock(&p->lock);
    if (!p->source_done_called && (force || p->reads_done == p->total_batches)) {
        p->source_done_called = TRUE;
        call = TRUE;
    }
    g_mutex_unlock(&p->lock);
    if (call && p->cfg->source_done)
        p->cfg->source_done(p->cfg->source_done_ud);
}

static gboolean page_is_zero(const uint8_t *page, size_t len)
{
    /* Pages are at least 8-byte aligned (mmap or g_malloc); OR 8 words at a
     * time so the compiler can vectorize, stop at the first non-zero chunk. */
    const uint64_t *w = (const uint64_t *)page;
    size_t n = len / sizeof(uint64_t);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
            return FALSE;
    }
    for (size_t i = n & ~(size_t)7; i < n; i++)
        if (w[i])
            return FALSE;
    return TRUE;
}

/* Reads (or maps), classifies and compresses the batch in s. */
static gboolean fill_slot(struct pipeline *p, struct slot *s, struct hv_page_compressor *pc,
                          GError **err)
{
    struct gm_source *src = p->src;
    gboolean serial = !src->ops->thread_safe;
    gboolean have_page_state = FALSE, ok = TRUE;
    if (serial)
        g_mutex_lock(&p->read_lock);
    const uint8_t *data = src->ops->map ? src->ops->map(src, s->gpa, s->n) : NULL;
    s->mapped = data != NULL;
    if (!data) {
        ok = src->ops->read(src, s->gpa, s->n, s->in, s->page_state, err);
        data = s->in;
        have_page_state = TRUE;
    }
    if (serial)
        g_mutex_unlock(&p->read_lock);
    if (!ok)
        return FALSE;
    g_mutex_lock(&p->lock);
    p->reads_done++;
    g_mutex_unlock(&p->lock);
    maybe_source_done(p, FALSE);

    const struct hv_codec_ops *cops = p->cfg->codec;
    for (size_t i = 0; i < s->n; i++) {
        const uint8_t *page = data + i * p->page_size;
        struct hv_page_out *po = &s->pages[i];
        po->data = page;
        po->size = p->page_size;
        po->flags = 0;
        po->kind = HV_PAGE_DATA;
        po->ref = p->cfg->raw_refs ? hv_raw_page_ref(s->gpa + (uint64_t)i * p->page_size) : 0;
        if (have_page_state && s->page_state[i] == GM_PAGE_ABSENT) {
            po->kind = HV_PAGE_ABSENT;
            po->data = NULL;
            po->size = 0;
            continue;
        }
        /* Known zero without being read (never-populated guest RAM): the
         * buffer holds garbage, so this is a zero page for every format. */
        if ((have_page_state && s->page_state[i] == GM_PAGE_ZERO) ||
            (p->cfg->detect_zero && page_is_zero(page, p->page_size))) {
            po->kind = HV_PAGE_ZERO;
            po->data = NULL;
            po->size = 0;
            continue;
        }
        if (cops) {
            uint8_t *dst = s->out + i * p->out_stride;
            size_t n = hv_page_compress(pc, page, p->page_size, dst);
            /* Not smaller: store raw, as readers expect (flags 0). */
            if (n > 0 && n < p->page_size) {
                po->data = dst;
                po->size = (uint32_t)n;
                po->flags = cops->kdump_flag;
                po->ref = 0;
            }
        }
    }
    return TRUE;
}

/* Claims the next batch and its slot; NULL when there is nothing left or we
 * must stop.  Under lock. */
static struct slot *claim_locked(struct pipeline *p)
{
    for (;;) {
        if (p->stop || p->next_seq >= p->total_batches)
            return NULL;
        if (cancelled(p)) {
            fail_locked(p, g_error_new(HV_ERROR, HV_ERROR_CANCELLED, "cancelled"));
            return NULL;
        }
        struct slot *s = &p->slots[p->next_seq % p->n_slots];
        if (s->state == SLOT_FREE)
            break;
        g_cond_wait(&p->cond, &p->lock);
    }
    struct slot *s = &p->slots[p->next_seq % p->n_slots];
    const struct gm_block *b = &p->src->blocks[p->blk];
    uint64_t left = (b->size - p->blk_off) / p->page_size;
    s->state = SLOT_FILLING;
    s->seq = p->next_seq++;
    s->gpa = b->gpa + p->blk_off;
    s->n = left < p->batch_pages ? (size_t)left : p->batch_pages;
    p->blk_off += (uint64_t)s->n * p->page_size;
    if (p->blk_off >= b->size) { /* batches never cross a block */
        p->blk++;
        p->blk_off = 0;
    }
    return s;
}

static gpointer worker_main(gpointer data)
{
    struct pipeline *p = data;
    GError *e = NULL;
    struct hv_page_compressor *pc = NULL;

    if (p->cfg->codec && !(pc = hv_page_compressor_new(p->cfg->codec, p->out_stride, &e))) {
        fail(p, e);
        return NULL;
    }
    g_mutex_lock(&p->lock);
    struct slot *s;
    while ((s = claim_locked(p))) {
        g_mutex_unlock(&p->lock);
        gboolean ok = fill_slot(p, s, pc, &e);
        g_mutex_lock(&p->lock);
        if (!ok) {
            fail_locked(p, e);
            e = NULL;
            break;
        }
        s->state = SLOT_DONE;
        g_cond_broadcast(&p->cond);
    }
    g_mutex_unlock(&p->lock);
    hv_page_compressor_free(pc);
    return NULL;
}

/* Waits for batch seq to be done; NULL when stopping.  Polls the cancel flag
 * because a signal handler cannot signal the condition variable. */
static struct slot *wait_done(struct pipeline *p, uint64_t seq)
{
    struct slot *s = &p->slots[seq % p->n_slots];
    g_mutex_lock(&p->lock);
    while (!p->stop && !(s->state == SLOT_DONE && s->seq == seq)) {
        if (cancelled(p)) {
            fail_locked(p, g_error_new(HV_ERROR, HV_ERROR_CANCELLED, "cancelled"));
            break;
        }
        gint64 until = g_get_monotonic_time() + CANCEL_POLL_US;
        g_cond_wait_until(&p->cond, &p->lock, until);
    }
    gboolean stop = p->stop;
    g_mutex_unlock(&p->lock);
    return stop ? NULL : s;
}

static void account(struct hv_pipeline_stats *st, const struct slot *s, uint32_t page_size)
{
    st->pages_total += s->n;
    st->bytes_in += (uint64_t)s->n * page_size;
    for (size_t i = 0; i < s->n; i++) {
        const struct hv_page_out *po = &s->pages[i];
        if (po->kind == HV_PAGE_ZERO)
            st->pages_zero++;
        else if (po->kind == HV_PAGE_ABSENT)
            st->pages_absent++;
        else {
            st->bytes_out += po->size;
            if (po->flags)
                st->pages_compressed++;
        }
    }
}

static void writer_loop(struct pipeline *p, const struct hv_writer_ops *wops,
                        struct hv_writer *w, struct hv_pipeline_stats *st)
{
    for (uint64_t seq = 0; seq < p->total_batches; seq++) {
        struct slot *s = wait_done(p, seq);
        if (!s)
            return;
        GError *e = NULL;
        uint64_t pfn = s->gpa / p->page_size;
        if (!wops->put_pages(w, pfn, s->pages, s->n, &e)) {
            fail(p, e);
            return;
        }
        account(st, s, p->page_size);
        /* Written out: let the source drop the mapped pages, so that RSS
         * stays at n_slots batches rather than the guest's size. */
        if (s->mapped && p->src->ops->unmap)
            p->src->ops->unmap(p->src, s->gpa, s->n);
        if (p->cfg->progress)
            hv_progress_update(p->cfg->progress, st->bytes_in, st->bytes_out);
        g_mutex_lock(&p->lock);
        s->state = SLOT_FREE;
        g_cond_broadcast(&p->cond);
        g_mutex_unlock(&p->lock);
    }
}

static void slots_alloc(struct pipeline *p)
{
    p->slots = g_new0(struct slot, p->n_slots);
    for (size_t i = 0; i < p->n_slots; i++) {
        struct slot *s = &p->slots[i];
        s->in = g_malloc((gsize)p->batch_pages * p->page_size);
        s->out = p->out_stride ? g_malloc((gsize)p->batch_pages * p->out_stride) : NULL;
        s->page_state = g_new0(enum gm_page_state, p->batch_pages);
        s->pages = g_new0(struct hv_page_out, p->batch_pages);
    }
}

static void slots_free(struct pipeline *p)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        g_free(p->slots[i].in);
        g_free(p->slots[i].out);
        g_free(p->slots[i].page_state);
        g_free(p->slots[i].pages);
    }
    g_free(p->slots);
}

/* The codec bound depends only on the input length; ask a throwaway codec
 * object once so that every slot can be sized before workers start. */
static gboolean codec_stride(const struct hv_codec_ops *cops, uint32_t page_size,
                             size_t *stride, GError **err)
{
    *stride = 0;
    if (!cops)
        return TRUE;
    struct hv_codec *c = cops->create(err);
    if (!c)
        return FALSE;
    size_t b = cops->bound(c, page_size);
    cops->destroy(c);
    *stride = (b + 7) & ~(size_t)7; /* keep each page 8-byte aligned */
    return TRUE;
}

gboolean hv_pipeline_run(struct gm_source *src, const struct hv_writer_ops *wops,
                         struct hv_writer *w, const struct hv_pipeline_config *cfg,
                         struct hv_pipeline_stats *stats, GError **err)
{
    struct hv_pipeline_stats local = {0};
    struct pipeline p = {
        .src = src,
        .cfg = cfg,
        .page_size = src->page_size,
        .batch_pages = cfg->batch_pages ? cfg->batch_pages : DEFAULT_BATCH_PAGES,
    };
    unsigned threads = cfg->threads ? cfg->threads : 1;

    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (p.page_size == 0 || p.page_size % sizeof(uint64_t)) {
        hv_error_internal(err, "bad page size %u", p.page_size);
        return FALSE;
    }
    if (!codec_stride(cfg->codec, p.page_size, &p.out_stride, err))
        return FALSE;
    p.total_batches = count_batches(src, p.batch_pages);
    p.n_slots = 2 * (size_t)threads + 2;
    g_mutex_init(&p.lock);
    g_mutex_init(&p.read_lock);
    g_cond_init(&p.cond);
    slots_alloc(&p);

    if (p.total_batches == 0)
        maybe_source_done(&p, TRUE);
    GThread **workers = g_new0(GThread *, threads);
    for (unsigned i = 0; i < threads; i++) {
        GError *e = NULL;
        workers[i] = g_thread_try_new("hvdump-worker", worker_main, &p, &e);
        if (!workers[i]) {
            fail(&p, e);
            break;
        }
    }
    writer_loop(&p, wops, w, &local);
    /* Wake workers blocked on a slot if the writer stopped early. */
    g_mutex_lock(&p.lock);
    p.stop = TRUE;
    g_cond_broadcast(&p.cond);
    g_mutex_unlock(&p.lock);
    for (unsigned i = 0; i < threads; i++)
        if (workers[i])
            g_thread_join(workers[i]);
    g_free(workers);
    /* On failure the source was not read to the end: still tell the caller
     * that we are done with it (e.g. so a paused guest gets resumed). */
    maybe_source_done(&p, TRUE);

    slots_free(&p);
    g_cond_clear(&p.cond);
    g_mutex_clear(&p.read_lock);
    g_mutex_clear(&p.lock);
    if (stats)
        *stats = local;
    if (p.error) {
        g_propagate_error(err, p.error);
        return FALSE;
    }
    return TRUE;
}
