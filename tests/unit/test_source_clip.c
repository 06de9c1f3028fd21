/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The clipped view of a source: which blocks remain, and that every access
 * reaches the wrapped source unchanged. */
#include "dumper/engine/source_clip.h"
#include "fake_source.h"

#define MIB (1ull << 20)
#define ROM 0xfffc0000ull

static struct fake_source *ram_and_rom(void)
{
    struct fake_source *f = fake_source_new(4 * MIB, ROM, 256 << 10);
    memset(fake_at(f, 0x3000), 0xab, 4096);
    return f;
}

static void test_blocks(void)
{
    struct fake_source *f = ram_and_rom();
    struct gm_source *v;

    /* Above the ROM, or at its end: nothing to clip. */
    g_assert_null(hv_clipped_source_new(&f->base, 1ull << 32));
    g_assert_null(hv_clipped_source_new(&f->base, ROM + (256 << 10)));
    /* Below the first block: not trusted. */
    g_assert_null(hv_clipped_source_new(&f->base, 0));

    /* Kernel's map ends with RAM: the ROM block goes. */
    v = hv_clipped_source_new(&f->base, 4 * MIB);
    g_assert_nonnull(v);
    g_assert_cmpuint(v->n_blocks, ==, 1);
    g_assert_cmphex(v->blocks[0].gpa, ==, 0);
    g_assert_cmphex(v->blocks[0].size, ==, 4 * MIB);
    g_assert_cmpuint(v->page_size, ==, 4096);
    gm_source_close(v);

    /* Straddling: truncated, end rounded up to a page. */
    v = hv_clipped_source_new(&f->base, 2 * MIB + 1);
    g_assert_nonnull(v);
    g_assert_cmpuint(v->n_blocks, ==, 1);
    g_assert_cmphex(v->blocks[0].size, ==, 2 * MIB + 4096);
    gm_source_close(v);

    /* Inside the second block. */
    v = hv_clipped_source_new(&f->base, ROM + 0x1000);
    g_assert_nonnull(v);
    g_assert_cmpuint(v->n_blocks, ==, 2);
    g_assert_cmphex(v->blocks[1].gpa, ==, ROM);
    g_assert_cmphex(v->blocks[1].size, ==, 0x1000);
    /* The inner source's blocks are untouched. */
    g_assert_cmphex(f->base.blocks[1].size, ==, 256 << 10);
    g_assert_cmpuint(f->base.n_blocks, ==, 2);
    gm_source_close(v);
    gm_source_close(&f->base);
}

static int unmaps;

static const uint8_t *map_fake(struct gm_source *s, uint64_t gpa, size_t n)
{
    (void)n;
    return fake_at((struct fake_source *)s, gpa);
}

static void unmap_fake(struct gm_source *s, uint64_t gpa, size_t n)
{
    (void)s; (void)gpa; (void)n;
    unmaps++;
}

static void test_forwarding(void)
{
    struct fake_source *f = ram_and_rom();
    uint8_t buf[4096];
    enum gm_page_state state = GM_PAGE_ZERO;
    struct gm_source *v = hv_clipped_source_new(&f->base, 4 * MIB);

    g_assert_nonnull(v);
    g_assert_true(v->ops->thread_safe);
    g_assert_null(v->ops->map);    /* the fake has none: read() it is */
    g_assert_null(v->ops->unmap);
    g_assert_true(v->ops->read(v, 0x3000, 1, buf, &state, NULL));
    g_assert_cmpuint(buf[0], ==, 0xab);
    g_assert_cmpuint(buf[4095], ==, 0xab);
    g_assert_cmpint(state, ==, GM_PAGE_READ);
    gm_source_close(v);

    /* With map/unmap and not thread safe. */
    struct gm_source_ops ops = *f->base.ops;
    ops.map = map_fake;
    ops.unmap = unmap_fake;
    ops.thread_safe = FALSE;
    f->base.ops = &ops;
    v = hv_clipped_source_new(&f->base, MIB);
    g_assert_nonnull(v);
    g_assert_false(v->ops->thread_safe);
    g_assert_true(v->ops->map(v, 0x3000, 1) == fake_at(f, 0x3000));
    v->ops->unmap(v, 0x3000, 1);
    g_assert_cmpint(unmaps, ==, 1);
    gm_source_close(v);
    gm_source_close(&f->base); /* still valid after the view closed */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/source_clip/blocks", test_blocks);
    g_test_add_func("/source_clip/forwarding", test_forwarding);
    return g_test_run();
}
