/* SPDX-License-Identifier: GPL-2.0-or-later */
/* formats/page_probe.c: the probes find what they claim and nothing else. */
#include <glib.h>
#include <string.h>
#include "formats/page_probe.h"

#define PS 4096

static void fill_random(uint8_t *buf, size_t len, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)g_rand_int(r);
    g_rand_free(r);
}

/* page = pattern (period bytes) repeated, starting `phase` bytes into it. */
static void fill_periodic(uint8_t *page, size_t len, const uint8_t *pattern, size_t period,
                          size_t phase)
{
    for (size_t i = 0; i < len; i++)
        page[i] = pattern[(i + phase) % period];
}

static void fill_text(uint8_t *page, size_t len)
{
    static const char *words[] = {"ffffffffa3400000 T _stext\n", "sched_clock ", "do_one_initcall",
                                  " t ", "kmem_cache_alloc", "0123", "\n"};
    size_t pos = 0;
    for (unsigned i = 0; pos < len; i = i * 7 + 3) {
        const char *w = words[i % G_N_ELEMENTS(words)];
        for (size_t j = 0; w[j] && pos < len; j++)
            page[pos++] = (uint8_t)w[j];
    }
}

static void looks_random(void)
{
    uint8_t page[PS];
    fill_random(page, PS, 1);
    g_assert_true(hv_page_looks_random(page, PS));
    fill_text(page, PS);
    g_assert_false(hv_page_looks_random(page, PS));
    /* A ramp has every byte value but near-equal neighbours. */
    for (size_t i = 0; i < PS; i++)
        page[i] = (uint8_t)(i / 2);
    g_assert_false(hv_page_looks_random(page, PS));
    /* Random half twice: each sample appears twice, too few distinct. */
    fill_random(page, PS / 2, 2);
    memcpy(page + PS / 2, page, PS / 2);
    g_assert_false(hv_page_looks_random(page, PS));
    fill_random(page, 512, 3);
    g_assert_false(hv_page_looks_random(page, 512));   /* too short to judge */
}

static void period_found(void)
{
    uint8_t pattern[300], page[PS];
    fill_random(pattern, sizeof(pattern), 4);
    for (size_t q = 1; q <= 256; q++) {
        for (size_t phase = 0; phase < q; phase += 1 + q / 5) {
            fill_periodic(page, PS, pattern, q, phase);
            g_assert_cmpuint(hv_page_period(page, PS, 256), ==, q);
        }
    }
    /* The smallest period, not a multiple of it. */
    fill_periodic(page, PS, (const uint8_t *)"abab", 4, 0);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 2);
    /* Beyond the limit. */
    fill_periodic(page, PS, pattern, 257, 0);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    g_assert_cmpuint(hv_page_period(page, PS, 257), ==, 257);
}

static void period_not_found(void)
{
    uint8_t page[PS];
    fill_text(page, PS);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    fill_random(page, PS, 5);
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    /* Periodic but for the last byte: every shift is a candidate. */
    memset(page, 'A', PS);
    page[PS - 1] = 'B';
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    /* ... or the first. */
    page[PS - 1] = 'A';
    page[0] = 'B';
    g_assert_cmpuint(hv_page_period(page, PS, 256), ==, 0);
    /* Tiny and empty pages. */
    g_assert_cmpuint(hv_page_period(page, 1, 256), ==, 0);
    g_assert_cmpuint(hv_page_period(page, 0, 256), ==, 0);
    g_assert_cmpuint(hv_page_period((const uint8_t *)"xx", 2, 256), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/page_probe/looks-random", looks_random);
    g_test_add_func("/page_probe/period-found", period_found);
    g_test_add_func("/page_probe/period-not-found", period_not_found);
    return g_test_run();
}
