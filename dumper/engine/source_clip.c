/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A source whose block list is a prefix of another's; every access is
 * forwarded (see source_clip.h).  Accesses only ever name pages inside the
 * clipped blocks, which lie inside the inner blocks, so forwarding is
 * always valid. */
#include "dumper/engine/source_clip.h"

struct clip_source {
    struct gm_source base;
    struct gm_source_ops ops; /* per view: thread_safe is the inner's */
    struct gm_source *inner;
};

static struct gm_source *inner_of(struct gm_source *s)
{
    return ((struct clip_source *)s)->inner;
}

static gboolean clip_read(struct gm_source *s, uint64_t gpa, size_t n_pages,
                          uint8_t *buf, enum gm_page_state *state, GError **err)
{
    struct gm_source *in = inner_of(s);
    return in->ops->read(in, gpa, n_pages, buf, state, err);
}

static const uint8_t *clip_map(struct gm_source *s, uint64_t gpa, size_t n_pages)
{
    struct gm_source *in = inner_of(s);
    return in->ops->map ? in->ops->map(in, gpa, n_pages) : NULL;
}

static void clip_unmap(struct gm_source *s, uint64_t gpa, size_t n_pages)
{
    struct gm_source *in = inner_of(s);
    if (in->ops->unmap)
        in->ops->unmap(in, gpa, n_pages);
}

static void clip_close(struct gm_source *s)
{
    g_free(s->blocks);
    g_free(s);
}

struct gm_source *hv_clipped_source_new(struct gm_source *inner, uint64_t end)
{
    const uint64_t ps = inner->page_size;
    size_t n = 0;

    end = (end + ps - 1) / ps * ps;
    while (n < inner->n_blocks && inner->blocks[n].gpa < end)
        n++;
    if (n == 0)
        return NULL;
    const struct gm_block *last = &inner->blocks[n - 1];
    if (n == inner->n_blocks && last->gpa + last->size <= end)
        return NULL;

    struct clip_source *c = g_new0(struct clip_source, 1);
    c->inner = inner;
    c->ops = (struct gm_source_ops){
        .name = inner->ops->name,
        .read = clip_read,
        /* Keep "no map" visible as such, so callers go straight to read(). */
        .map = inner->ops->map ? clip_map : NULL,
        .unmap = inner->ops->unmap ? clip_unmap : NULL,
        .close = clip_close,
        .thread_safe = inner->ops->thread_safe,
    };
    c->base.ops = &c->ops;
    c->base.page_size = inner->page_size;
    c->base.n_blocks = n;
    c->base.blocks = g_memdup2(inner->blocks, n * sizeof *inner->blocks);
    struct gm_block *b = &c->base.blocks[n - 1];
    if (b->gpa + b->size > end)
        b->size = end - b->gpa; /* > 0: b->gpa < end, both page aligned */
    return &c->base;
}
