/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A gm_source over one zero-filled buffer in memory, for unit tests that
 * lay out guest memory by hand (page tables, notes).  Optionally a second
 * block, to test reads across block boundaries. */
#ifndef TEST_FAKE_SOURCE_H
#define TEST_FAKE_SOURCE_H

#include <string.h>
#include "guest-mem/source.h"

struct fake_source {
    struct gm_source base;
    struct gm_block blocks[2];
    uint8_t *mem[2];
};

static gboolean fake_read(struct gm_source *s, uint64_t gpa, size_t n_pages,
                          uint8_t *buf, enum gm_page_state *state, GError **err)
{
    struct fake_source *f = (struct fake_source *)s;
    (void)err;
    const struct gm_block *b = gm_source_block_at(s, gpa);
    g_assert(b && gpa + n_pages * s->page_size <= b->gpa + b->size);
    memcpy(buf, f->mem[b - s->blocks] + (gpa - b->gpa), n_pages * s->page_size);
    if (state)
        gm_page_state_fill(state, n_pages, GM_PAGE_READ);
    return TRUE;
}

static void fake_close(struct gm_source *s)
{
    struct fake_source *f = (struct fake_source *)s;
    for (size_t i = 0; i < s->n_blocks; i++)
        g_free(f->mem[i]);
    g_free(f);
}

static const struct gm_source_ops fake_ops = {
    .name = "fake", .read = fake_read, .map = NULL, .close = fake_close,
    .thread_safe = TRUE,
};

/* Blocks [0, size0) and, when size1 > 0, [gpa1, gpa1 + size1). */
static inline struct fake_source *fake_source_new(uint64_t size0, uint64_t gpa1,
                                                  uint64_t size1)
{
    struct fake_source *f = g_new0(struct fake_source, 1);
    f->base.ops = &fake_ops;
    f->base.page_size = 4096;
    f->base.blocks = f->blocks;
    f->blocks[0].gpa = 0;
    f->blocks[0].size = size0;
    f->mem[0] = g_malloc0(size0);
    f->base.n_blocks = 1;
    if (size1) {
        f->blocks[1].gpa = gpa1;
        f->blocks[1].size = size1;
        f->mem[1] = g_malloc0(size1);
        f->base.n_blocks = 2;
    }
    return f;
}

/* Pointer to guest-physical gpa in block 0 or 1. */
static inline uint8_t *fake_at(struct fake_source *f, uint64_t gpa)
{
    for (size_t i = 0; i < f->base.n_blocks; i++)
        if (gpa >= f->blocks[i].gpa && gpa < f->blocks[i].gpa + f->blocks[i].size)
            return f->mem[i] + (gpa - f->blocks[i].gpa);
    g_assert_not_reached();
}

static inline void fake_put_u64(struct fake_source *f, uint64_t gpa, uint64_t v)
{
    uint8_t *p = fake_at(f, gpa);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif
