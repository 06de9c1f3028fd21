/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pagemap of our own process: an anonymous mapping where we touch some
 * pages, and a file mapping that must not count as anonymous. */
#include <glib.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest-mem/pagemap.h"

static void populated_pages(void)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = 64;
    uint8_t *m = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(m != MAP_FAILED);
    m[3 * ps] = 1;          /* written: present */
    m[10 * ps + 100] = 0;   /* written with zero: present all the same */
    m[63 * ps] = 7;

    g_assert_true(gm_pagemap_range_is_anon_private(getpid(), (uintptr_t)m, n * ps));
    int fd = gm_pagemap_open(getpid());
    g_assert_cmpint(fd, >=, 0);
    uint8_t pop[64];
    memset(pop, 0xee, sizeof pop);
    g_assert_true(gm_pagemap_populated(fd, (uintptr_t)m, n, ps, NULL, pop));
    for (size_t i = 0; i < n; i++)
        g_assert_cmpuint(pop[i], ==, i == 3 || i == 10 || i == 63);
    /* Given back (what a balloon does): not populated any more. */
    g_assert_cmpint(madvise(m + 3 * ps, ps, MADV_DONTNEED), ==, 0);
    g_assert_true(gm_pagemap_populated(fd, (uintptr_t)m + 3 * ps, 1, ps, NULL, pop));
    g_assert_cmpuint(pop[0], ==, 0);
    close(fd);
    /* Partly outside any mapping: not anonymous memory we can vouch for. */
    munmap(m + 32 * ps, 32 * ps);
    g_assert_false(gm_pagemap_range_is_anon_private(getpid(), (uintptr_t)m, n * ps));
    g_assert_true(gm_pagemap_range_is_anon_private(getpid(), (uintptr_t)m, 32 * ps));
    munmap(m, 32 * ps);
}

/* Pages only read map the zero page: present, but not populated for us
 * (as root, which sees frame numbers). */
static void zero_page_mappings(void)
{
    struct gm_zero_pfns z;
    gm_pagemap_learn_zero_pfns(&z);
    if (!z.valid) {
        g_test_skip("no shared zero page learned (needs CAP_SYS_ADMIN and a kernel that "
                    "maps read faults to the zero page)");
        return;
    }
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = 16;
    uint8_t *m = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(m != MAP_FAILED);
    madvise(m, n * ps, MADV_NOHUGEPAGE);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink += ((volatile uint8_t *)m)[i * ps]; /* read: zero page */
    (void)sink;
    m[5 * ps] = 9; /* written: a page of its own */
    int fd = gm_pagemap_open(getpid());
    uint8_t with[16], without[16];
    g_assert_true(gm_pagemap_populated(fd, (uintptr_t)m, n, ps, &z, with));
    g_assert_true(gm_pagemap_populated(fd, (uintptr_t)m, n, ps, NULL, without));
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpuint(with[i], ==, i == 5);
        g_assert_cmpuint(without[i], ==, 1); /* present, all of them */
    }
    close(fd);
    munmap(m, n * ps);
}

static void file_and_shared_mappings(void)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("hvdump-pagemap-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)(4 * ps)), ==, 0);
    void *f = mmap(NULL, 4 * ps, PROT_READ, MAP_PRIVATE, fd, 0);
    g_assert_true(f != MAP_FAILED);
    g_assert_false(gm_pagemap_range_is_anon_private(getpid(), (uintptr_t)f, 4 * ps));
    void *sh = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    g_assert_true(sh != MAP_FAILED);
    g_assert_false(gm_pagemap_range_is_anon_private(getpid(), (uintptr_t)sh, 4 * ps));
    munmap(f, 4 * ps);
    munmap(sh, 4 * ps);
    close(fd);
    g_unlink(path);
}

/* What is learned as the zero page is shared by every read fault: a fresh
 * mapping read once shows the same frame.  Kernels that give each read
 * fault a page of its own (this must then learn nothing) made an earlier
 * version learn a private frame that was freed and could hold guest data. */
static void zero_pfn_is_shared(void)
{
    struct gm_zero_pfns z;
    gm_pagemap_learn_zero_pfns(&z);
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, 4 * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(m != MAP_FAILED);
    madvise(m, 4 * ps, MADV_NOHUGEPAGE);
    (void)((volatile uint8_t *)m)[2 * ps];
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    uint64_t e = 0;
    g_assert_cmpint(pread(fd, &e, sizeof e, (off_t)(((uintptr_t)m / ps + 2) * sizeof e)), ==,
                    (ssize_t)sizeof e);
    uint64_t pfn = e & ((UINT64_C(1) << 55) - 1);
    if (z.valid)
        g_assert_cmphex(pfn, ==, z.pfn);
    else if (pfn == 0)
        g_test_skip("pagemap shows no frame numbers here (needs CAP_SYS_ADMIN)");
    close(fd);
    munmap(m, 4 * ps);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pagemap/populated", populated_pages);
    g_test_add_func("/pagemap/zero-page", zero_page_mappings);
    g_test_add_func("/pagemap/zero-pfn-is-shared", zero_pfn_is_shared);
    g_test_add_func("/pagemap/file-and-shared", file_and_shared_mappings);
    return g_test_run();
}
