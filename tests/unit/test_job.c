/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hv_job_run end to end on a fake source: the dump reads back page for
 * page, and the source is released (the guest resumed) only once nothing
 * reads it any more, deferred raw pages included. */
#include <glib/gstdio.h>
#include <string.h>

#include "dumper/engine/job.h"
#include "common/hv_error.h"
#include "formats/reader.h"

#define PS 4096u
#define PAGES 2048u   /* 8 MiB: raw runs, text, zero pages */

struct fake {
    struct gm_source pub;
    struct gm_block block;
    uint8_t *mem;
    volatile gint released;        /* source_done was called */
    volatile gint done_calls;
    volatile gint reads_after_release;
    volatile gint reads;
};

static gboolean fake_read(struct gm_source *s, uint64_t gpa, size_t n, uint8_t *buf,
                          enum gm_page_state *state, GError **err)
{
    struct fake *f = (struct fake *)s;
    (void)err;
    g_atomic_int_inc(&f->reads);
    if (g_atomic_int_get(&f->released))
        g_atomic_int_inc(&f->reads_after_release);
    memcpy(buf, f->mem + gpa, n * PS);
    if (state)
        gm_page_state_fill(state, n, GM_PAGE_READ);
    return TRUE;
}

static void fake_close(struct gm_source *s)
{
    (void)s;
}

static const struct gm_source_ops fake_ops = {
    .name = "fake", .read = fake_read, .close = fake_close, .thread_safe = TRUE,
};

/* Runs of random pages (stored raw) between text-like and zero pages. */
static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof *f);
    f->pub.ops = &fake_ops;
    f->pub.page_size = PS;
    f->block = (struct gm_block){.gpa = 0, .size = (uint64_t)PAGES * PS};
    f->pub.blocks = &f->block;
    f->pub.n_blocks = 1;
    f->mem = g_malloc0((gsize)PAGES * PS);
    GRand *r = g_rand_new_with_seed(11);
    for (uint64_t p = 0; p < PAGES; p++) {
        uint8_t *page = f->mem + p * PS;
        switch ((p / 37) % 3) {
        case 0:   /* random: stored raw */
            for (size_t i = 0; i < PS; i += 4) {
                guint32 v = g_rand_int(r);
                memcpy(page + i, &v, 4);
            }
            break;
        case 1:   /* text */
            for (size_t i = 0; i < PS; i++)
                page[i] = (uint8_t)("ffffffff81000000 T some_symbol_"[i % 31] + (i / 97) % 3);
            break;
        default:  /* zero */
            break;
        }
    }
    g_rand_free(r);
}

static void release(void *ud)
{
    struct fake *f = ud;
    g_atomic_int_inc(&f->done_calls);
    g_atomic_int_set(&f->released, 1);
}

static void run_format(const char *format)
{
    struct fake f;
    fake_init(&f);
    char *dir = g_dir_make_tmp("hvdump-job-XXXXXX", NULL);
    char *path = g_build_filename(dir, "dump", NULL);
    struct hv_dump_meta meta = {.page_size = PS};
    struct hv_job_opts opts = {
        .output_path = path, .output_fd = -1, .format = format, .threads = 2,
        .progress = HV_PROGRESS_NONE, .source_done = release, .source_done_ud = &f,
    };
    struct hv_job_result res;
    GError *err = NULL;
    g_assert_true(hv_job_run(&f.pub, &meta, &opts, &res, &err));
    g_assert_no_error(err);
    g_assert_cmpint(f.done_calls, ==, 1);
    g_assert_cmpint(f.reads_after_release, ==, 0);
    /* kdump: more reads than batches, raw pages were read a second time. */
    if (g_str_has_prefix(format, "kdump"))
        g_assert_cmpint(f.reads, >, (gint)(PAGES / 256));

    struct hv_vmcore *d = hv_vmcore_open(path, &err);
    g_assert_no_error(err);
    uint8_t *page = g_malloc(PS);
    for (uint64_t p = 0; p < PAGES; p++) {
        g_assert_cmpint(hv_vmcore_read_page(d, p, page, &err), ==, HV_READ_OK);
        if (memcmp(page, f.mem + p * PS, PS) != 0)
            g_error("%s: page %" G_GUINT64_FORMAT " differs", format, p);
    }
    hv_vmcore_close(d);
    g_free(page);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    g_free(f.mem);
}

/* kdump defers raw runs: the source must not be released before they are
 * read again. */
static void test_kdump_releases_after_last_read(void)
{
    run_format("kdump-zstd");
    run_format("kdump-zlib");
}

/* ELF reads every page once, in the pipeline. */
static void test_elf(void)
{
    run_format("elf");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/job/kdump-releases-after-last-read", test_kdump_releases_after_last_read);
    g_test_add_func("/job/elf", test_elf);
    return g_test_run();
}
