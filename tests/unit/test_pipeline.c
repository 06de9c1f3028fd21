/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pipeline against a fake source and a recording fake writer. */
#include <string.h>

#include "dumper/engine/pipeline.h"
#include "formats/codec.h"
#include "common/hv_error.h"

#define PS 4096u

/* ---- fake source: two blocks, page content a function of pfn ---- */

struct fake_source {
    struct gm_source pub;
    struct gm_block blocks[3];
    uint8_t *mem;           /* max_pfn pages */
    uint64_t max_pfn;
    gboolean with_absent;   /* read() reports pfn % 7 == 3 absent */
    int64_t fail_pfn;       /* read() fails at the batch holding it; -1 none */
    gint reads;
};

static gboolean page_zero(uint64_t pfn) { return pfn % 5 == 0; }
static gboolean page_absent(uint64_t pfn) { return pfn % 7 == 3; }

static void fill_page(uint8_t *p, uint64_t pfn)
{
    if (page_zero(pfn)) {
        memset(p, 0, PS);
        return;
    }
    /* Even pfns compress well; odd ones are noise, stored raw. */
    guint32 x = (guint32)pfn * 2654435761u + 1;
    for (unsigned i = 0; i < PS; i++) {
        if (pfn % 2 == 0) {
            p[i] = (uint8_t)(pfn + i / 512);
        } else {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            p[i] = (uint8_t)x;
        }
    }
    p[PS - 1] |= 1; /* never all zero */
}

static gboolean fake_read(struct gm_source *s, uint64_t gpa, size_t n, uint8_t *buf,
                          enum gm_page_state *state, GError **err)
{
    struct fake_source *f = (struct fake_source *)s;
    g_atomic_int_inc(&f->reads);
    uint64_t pfn = gpa / PS;
    if (f->fail_pfn >= 0 && (uint64_t)f->fail_pfn >= pfn && (uint64_t)f->fail_pfn < pfn + n) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "fake read failure at pfn %" G_GINT64_FORMAT,
                    f->fail_pfn);
        return FALSE;
    }
    memcpy(buf, f->mem + gpa, n * PS);
    for (size_t i = 0; i < n; i++) {
        gboolean a = f->with_absent && page_absent(pfn + i);
        if (a)
            memset(buf + i * PS, 0, PS);
        if (state)
            state[i] = a ? GM_PAGE_ABSENT : GM_PAGE_READ;
    }
    return TRUE;
}

static const uint8_t *fake_map(struct gm_source *s, uint64_t gpa, size_t n)
{
    (void)n;
    return ((struct fake_source *)s)->mem + gpa;
}

static void fake_close(struct gm_source *s) { (void)s; }

static const struct gm_source_ops fake_ops_map = {
    .name = "fake-map", .read = fake_read, .map = fake_map, .close = fake_close,
    .thread_safe = TRUE,
};
static const struct gm_source_ops fake_ops_read = {
    .name = "fake-read", .read = fake_read, .map = NULL, .close = fake_close,
    .thread_safe = FALSE,
};

static void fake_init(struct fake_source *f, gboolean map)
{
    memset(f, 0, sizeof(*f));
    f->pub.ops = map ? &fake_ops_map : &fake_ops_read;
    f->pub.page_size = PS;
    /* Block sizes not multiples of the batch, with a hole between. */
    f->blocks[0] = (struct gm_block){.gpa = 0, .size = 37 * PS};
    f->blocks[1] = (struct gm_block){.gpa = 64 * PS, .size = 300 * PS};
    f->blocks[2] = (struct gm_block){.gpa = 400 * PS, .size = 1 * PS};
    f->pub.blocks = f->blocks;
    f->pub.n_blocks = 3;
    f->max_pfn = 401;
    f->mem = g_malloc(f->max_pfn * PS);
    for (uint64_t p = 0; p < f->max_pfn; p++)
        fill_page(f->mem + p * PS, p);
    f->fail_pfn = -1;
    f->with_absent = !map;
}

static uint64_t fake_pages(const struct fake_source *f)
{
    (void)f;
    return 37 + 300 + 1;
}

/* ---- recording fake writer ---- */

struct rec_writer {
    const struct fake_source *src;
    const struct hv_codec_ops *codec;
    struct hv_codec *dec;
    uint64_t next_pfn_expected;  /* pfn order check */
    size_t block;                /* which block we are in */
    uint64_t pages, zero, absent, compressed, raw;
    int64_t fail_at_pfn;         /* put_pages fails when it gets this pfn */
    volatile gint *cancel;
    uint64_t cancel_after;       /* set *cancel after this many pages */
    gboolean raw_refs;           /* raw pages must carry ref = gpa + 1 */
    gboolean bad;                /* any check failed (asserted at the end) */
    char *why;
    uint8_t scratch[PS];
};

static void rec_bad(struct rec_writer *r, const char *why)
{
    if (!r->bad)
        r->why = g_strdup(why);
    r->bad = TRUE;
}

static gboolean rec_put(struct hv_writer *w, uint64_t pfn, const struct hv_page_out *pages,
                        size_t n, GError **err)
{
    struct rec_writer *r = (struct rec_writer *)w;
    uint64_t expect = r->next_pfn_expected;
    const struct gm_block *b = &r->src->blocks[r->block];
    if (expect == b->gpa / PS + b->size / PS) /* that block is complete */
        r->block++;
    if (r->block >= r->src->pub.n_blocks) {
        rec_bad(r, "pages past the last block");
        return TRUE;
    }
    b = &r->src->blocks[r->block];
    if (expect < b->gpa / PS)
        expect = b->gpa / PS;
    if (pfn != expect)
        rec_bad(r, "batch out of order or pages skipped");
    if (pfn + n > b->gpa / PS + b->size / PS)
        rec_bad(r, "batch crosses a block");
    if (r->fail_at_pfn >= 0 && (uint64_t)r->fail_at_pfn >= pfn && (uint64_t)r->fail_at_pfn < pfn + n) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "fake writer failure");
        return FALSE;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t p = pfn + i;
        const uint8_t *orig = r->src->mem + p * PS;
        const struct hv_page_out *po = &pages[i];
        if (r->src->with_absent && page_absent(p)) {
            if (po->kind != HV_PAGE_ABSENT)
                rec_bad(r, "absent page not reported absent");
            r->absent++;
            continue;
        }
        if (po->kind == HV_PAGE_ZERO) {
            if (!page_zero(p))
                rec_bad(r, "non-zero page classified zero");
            r->zero++;
            continue;
        }
        if (po->kind != HV_PAGE_DATA) {
            rec_bad(r, "bad kind");
            continue;
        }
        if (po->flags == 0) {
            if (po->size != PS || memcmp(po->data, orig, PS) != 0)
                rec_bad(r, "raw page differs");
            if (po->ref != (r->raw_refs ? p * PS + 1 : 0))
                rec_bad(r, "raw page with the wrong ref");
            r->raw++;
        } else {
            GError *e = NULL;
            if (!r->codec || po->flags != r->codec->kdump_flag || po->size >= PS)
                rec_bad(r, "bad compression flags/size");
            else if (!r->codec->decompress(r->dec, po->data, po->size, r->scratch, PS, &e) ||
                     memcmp(r->scratch, orig, PS) != 0)
                rec_bad(r, "compressed page does not decompress to the original");
            g_clear_error(&e);
            if (po->ref)
                rec_bad(r, "compressed page with a ref");
            r->compressed++;
        }
    }
    r->pages += n;
    r->next_pfn_expected = pfn + n;
    if (r->cancel && r->pages >= r->cancel_after)
        g_atomic_int_set(r->cancel, 1);
    return TRUE;
}

static const struct hv_writer_ops rec_ops = {
    .name = "recorder",
    .put_pages = rec_put,
};

static void count_done(void *ud)
{
    g_atomic_int_inc((gint *)ud);
}

struct run_params {
    gboolean map;
    unsigned threads;
    const struct hv_codec_ops *codec;
    gboolean detect_zero;
    size_t batch;
    gboolean raw_refs;
};

static void check_run(const struct run_params *rp)
{
    struct fake_source f;
    fake_init(&f, rp->map);
    struct rec_writer r = {.src = &f, .codec = rp->codec, .fail_at_pfn = -1,
                           .raw_refs = rp->raw_refs};
    if (rp->codec)
        r.dec = rp->codec->create(NULL);
    gint done_calls = 0;
    struct hv_pipeline_config cfg = {
        .threads = rp->threads, .codec = rp->codec, .detect_zero = rp->detect_zero,
        .batch_pages = rp->batch, .source_done = count_done, .source_done_ud = &done_calls,
        .raw_refs = rp->raw_refs,
    };
    struct hv_pipeline_stats st;
    GError *err = NULL;
    gboolean ok = hv_pipeline_run(&f.pub, &rec_ops, (struct hv_writer *)&r, &cfg, &st, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    if (r.bad)
        g_error("check failed: %s", r.why);
    g_assert_cmpuint(r.pages, ==, fake_pages(&f));
    g_assert_cmpuint(st.pages_total, ==, fake_pages(&f));
    g_assert_cmpuint(st.bytes_in, ==, fake_pages(&f) * PS);
    g_assert_cmpint(done_calls, ==, 1);
    g_assert_cmpuint(st.pages_zero, ==, r.zero);
    g_assert_cmpuint(st.pages_absent, ==, r.absent);
    g_assert_cmpuint(st.pages_compressed, ==, r.compressed);
    if (rp->detect_zero)
        g_assert_cmpuint(r.zero, >, 0);
    else
        g_assert_cmpuint(r.zero, ==, 0);
    if (!rp->map)
        g_assert_cmpuint(r.absent, >, 0);
    if (rp->codec) {
        g_assert_cmpuint(r.compressed, >, 0); /* even pfns */
        g_assert_cmpuint(r.raw, >, 0);        /* odd pfns: noise */
    } else {
        g_assert_cmpuint(r.compressed, ==, 0);
    }
    if (r.dec)
        rp->codec->destroy(r.dec);
    g_free(f.mem);
}

static void test_threads_zstd(void)
{
    for (unsigned t = 1; t <= 8; t++) {
        struct run_params rp = {.map = TRUE, .threads = t, .detect_zero = TRUE, .batch = 16,
                                .codec = hv_codec_by_id(HV_CODEC_ZSTD)};
        check_run(&rp);
    }
}

static void test_read_path_absent(void)
{
    for (unsigned t = 1; t <= 8; t += 3) {
        struct run_params rp = {.map = FALSE, .threads = t, .detect_zero = TRUE, .batch = 7,
                                .codec = hv_codec_by_id(HV_CODEC_ZLIB)};
        check_run(&rp);
    }
}

/* Raw pages name themselves (guest-physical address + 1) for the
 * output to fetch again; compressed pages do not. */
static void test_raw_refs(void)
{
    struct run_params rp = {.map = FALSE, .threads = 2, .detect_zero = TRUE, .batch = 5,
                            .codec = hv_codec_by_id(HV_CODEC_ZSTD), .raw_refs = TRUE};
    check_run(&rp);
}

static void test_raw_no_zero(void)
{
    struct run_params rp = {.map = TRUE, .threads = 3, .detect_zero = FALSE, .batch = 0};
    check_run(&rp);
}

static void test_cancel(void)
{
    struct fake_source f;
    fake_init(&f, TRUE);
    volatile gint cancel = 0;
    struct rec_writer r = {.src = &f, .fail_at_pfn = -1, .cancel = &cancel, .cancel_after = 40};
    gint done_calls = 0;
    struct hv_pipeline_config cfg = {
        .threads = 4, .batch_pages = 8, .detect_zero = TRUE, .cancel = &cancel,
        .source_done = count_done, .source_done_ud = &done_calls,
    };
    GError *err = NULL;
    g_assert_false(hv_pipeline_run(&f.pub, &rec_ops, (struct hv_writer *)&r, &cfg, NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_CANCELLED);
    g_assert_cmpuint(r.pages, <, fake_pages(&f));
    g_assert_cmpint(done_calls, ==, 1);
    g_error_free(err);
    g_free(f.mem);
}

static void test_writer_error(void)
{
    for (unsigned t = 1; t <= 8; t *= 2) {
        struct fake_source f;
        fake_init(&f, TRUE);
        const struct hv_codec_ops *zstd = hv_codec_by_id(HV_CODEC_ZSTD);
        /* The recorder checks the pages before the failure too: give it the
         * codec to decompress them with. */
        struct rec_writer r = {.src = &f, .codec = zstd, .dec = zstd->create(NULL),
                               .fail_at_pfn = 100};
        gint done_calls = 0;
        struct hv_pipeline_config cfg = {
            .threads = t, .batch_pages = 4, .codec = zstd,
            .source_done = count_done, .source_done_ud = &done_calls,
        };
        GError *err = NULL;
        g_assert_false(hv_pipeline_run(&f.pub, &rec_ops, (struct hv_writer *)&r, &cfg, NULL, &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_IO);
        g_assert_cmpstr(err->message, ==, "fake writer failure");
        g_assert_cmpuint(r.pages, <=, 100);
        g_assert_cmpint(done_calls, ==, 1);
        if (r.bad)
            g_error("check failed: %s", r.why);
        g_error_free(err);
        zstd->destroy(r.dec);
        g_free(f.mem);
    }
}

static void test_source_error(void)
{
    struct fake_source f;
    fake_init(&f, FALSE);
    f.fail_pfn = 250;
    struct rec_writer r = {.src = &f, .fail_at_pfn = -1};
    gint done_calls = 0;
    struct hv_pipeline_config cfg = {
        .threads = 5, .batch_pages = 16, .source_done = count_done, .source_done_ud = &done_calls,
    };
    GError *err = NULL;
    g_assert_false(hv_pipeline_run(&f.pub, &rec_ops, (struct hv_writer *)&r, &cfg, NULL, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "pfn 250"));
    g_assert_cmpuint(r.pages, <=, 250);
    g_assert_cmpint(done_calls, ==, 1);
    if (r.bad)
        g_error("check failed: %s", r.why);
    g_error_free(err);
    g_free(f.mem);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/threads-zstd", test_threads_zstd);
    g_test_add_func("/pipeline/read-path-absent", test_read_path_absent);
    g_test_add_func("/pipeline/raw-no-zero", test_raw_no_zero);
    g_test_add_func("/pipeline/raw-refs", test_raw_refs);
    g_test_add_func("/pipeline/cancel", test_cancel);
    g_test_add_func("/pipeline/writer-error", test_writer_error);
    g_test_add_func("/pipeline/source-error", test_source_error);
    return g_test_run();
}
