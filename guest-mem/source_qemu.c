/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A live QEMU as a page source.  Discovery mirrors what QEMU's own
 * dump-guest-memory dumps (RAM of the "memory" FlatView, neighbours merged
 * when contiguous in guest and host address); reading goes straight to
 * QEMU's address space, so the monitor is not involved per page. */
#include "guest-mem/source_qemu.h"
#include "guest-mem/hmp_parse.h"
#include "guest-mem/pagemap.h"
#include "formats/hv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

/* process_vm_readv moves at most this much per call; bigger reads loop. */
#define READ_CHUNK (64u << 20)

struct qblock {
    uint64_t hva;
    const uint8_t *map; /* read-only view of a shared backing file, or NULL */
    gboolean anon;      /* private anonymous memory: pagemap tells zero pages */
};

struct qemu_source {
    struct gm_source base; /* first: the ops get a struct gm_source * */
    pid_t pid;
    struct qblock *qb;     /* parallel to base.blocks */
    size_t n_mapped;
    int pagemap_fd;        /* /proc/PID/pagemap, or -1 */
    struct gm_zero_pfns zero_pfns;
};

/* Pages per read() consulted in the pagemap at once (stack arrays). */
#define SPARSE_CHUNK 256u

static const struct gm_source_ops qemu_ops;

static size_t block_index(const struct gm_source *s, uint64_t gpa)
{
    size_t lo = 0, hi = s->n_blocks;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->blocks[mid].gpa <= gpa)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static gboolean qemu_alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

static void set_read_error(GError **err, pid_t pid, int e, uint64_t gpa)
{
    if (e == EPERM || e == EACCES)
        g_set_error(err, HV_ERROR, HV_ERROR_PERMISSION,
                    "reading QEMU's memory needs root or CAP_SYS_PTRACE (pid %d)", (int)pid);
    else if (e == ESRCH || !qemu_alive(pid))
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "QEMU (pid %d) exited during the dump", (int)pid);
    else
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "reading guest memory at 0x%" PRIx64 " from QEMU (pid %d): %s",
                    gpa, (int)pid, g_strerror(e));
}

static gboolean read_range(struct qemu_source *q, uint64_t hva, uint64_t gpa, uint8_t *buf,
                           size_t len, GError **err);

/* Reads only the pages QEMU ever populated, in one process_vm_readv per
 * chunk (one iovec per run of populated pages); the others are marked
 * GM_PAGE_ZERO and their bytes in buf left as they are.  A guest that is
 * paused cannot populate a page between the pagemap read and the copy; a
 * --live dump is not consistent anyway. */
static gboolean read_sparse(struct qemu_source *q, uint64_t hva, uint64_t gpa, size_t n_pages,
                            uint8_t *buf, uint8_t *absent, GError **err)
{
    const size_t ps = q->base.page_size;
    uint8_t populated[SPARSE_CHUNK];
    struct iovec local[SPARSE_CHUNK], remote[SPARSE_CHUNK];

    for (size_t done = 0; done < n_pages;) {
        size_t n = MIN(n_pages - done, (size_t)SPARSE_CHUNK);
        uint64_t c_hva = hva + done * ps;
        uint8_t *c_buf = buf + done * ps;
        if (!gm_pagemap_populated(q->pagemap_fd, c_hva, n, ps, &q->zero_pfns, populated))
            return read_range(q, c_hva, gpa + done * ps, c_buf, (n_pages - done) * ps, err);
        int n_iov = 0;
        size_t want = 0;
        for (size_t i = 0; i < n; i++) {
            absent[done + i] = populated[i] ? GM_PAGE_READ : GM_PAGE_ZERO;
            if (!populated[i])
                continue;
            if (i > 0 && populated[i - 1]) {
                local[n_iov - 1].iov_len += ps;
                remote[n_iov - 1].iov_len += ps;
            } else {
                local[n_iov] = (struct iovec){ .iov_base = c_buf + i * ps, .iov_len = ps };
                remote[n_iov] = (struct iovec){ .iov_base = (void *)(uintptr_t)(c_hva + i * ps),
                                                .iov_len = ps };
                n_iov++;
            }
            want += ps;
        }
        if (n_iov > 0) {
            ssize_t r = process_vm_readv(q->pid, local, (unsigned long)n_iov, remote,
                                         (unsigned long)n_iov, 0);
            if (r != (ssize_t)want) {
                /* Short or failed (EINTR, QEMU going away, a page gone
                 * meanwhile): redo run by run for the precise error. */
                for (int k = 0; k < n_iov; k++) {
                    uint64_t r_hva = (uint64_t)(uintptr_t)remote[k].iov_base;
                    if (!read_range(q, r_hva, gpa + (r_hva - hva), local[k].iov_base,
                                    local[k].iov_len, err))
                        return FALSE;
                }
            }
        }
        done += n;
    }
    return TRUE;
}

static gboolean qemu_read(struct gm_source *s, uint64_t gpa, size_t n_pages,
                          uint8_t *buf, uint8_t *absent, GError **err)
{
    struct qemu_source *q = (struct qemu_source *)s;
    size_t bi = block_index(s, gpa);
    const struct gm_block *b = &s->blocks[bi];
    size_t len = n_pages * s->page_size;

    if (absent)
        memset(absent, 0, n_pages);
    if (gpa < b->gpa || gpa - b->gpa + len > b->size) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "read of %zu pages at 0x%" PRIx64 " is outside one RAM block", n_pages, gpa);
        return FALSE;
    }
    uint64_t off = gpa - b->gpa;
    if (q->qb[bi].map) {
        memcpy(buf, q->qb[bi].map + off, len);
        return TRUE;
    }
    if (absent && q->qb[bi].anon && q->pagemap_fd >= 0)
        return read_sparse(q, q->qb[bi].hva + off, gpa, n_pages, buf, absent, err);
    return read_range(q, q->qb[bi].hva + off, gpa, buf, len, err);
}

/* Copies len bytes at hva in QEMU to buf. */
static gboolean read_range(struct qemu_source *q, uint64_t hva, uint64_t gpa, uint8_t *buf,
                           size_t len, GError **err)
{
    size_t done = 0;
    while (done < len) {
        size_t n = MIN(len - done, (size_t)READ_CHUNK);
        struct iovec local = { .iov_base = buf + done, .iov_len = n };
        struct iovec remote = { .iov_base = (void *)(uintptr_t)(hva + done),
                                .iov_len = n };
        ssize_t r = process_vm_readv(q->pid, &local, 1, &remote, 1, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            set_read_error(err, q->pid, errno, gpa + done);
            return FALSE;
        }
        if (r == 0) {
            /* Nothing readable there any more: QEMU is going away. */
            set_read_error(err, q->pid, qemu_alive(q->pid) ? EFAULT : ESRCH, gpa + done);
            return FALSE;
        }
        done += (size_t)r;
    }
    return TRUE;
}

static const uint8_t *qemu_map(struct gm_source *s, uint64_t gpa, size_t n_pages)
{
    struct qemu_source *q = (struct qemu_source *)s;
    size_t bi = block_index(s, gpa);
    const struct gm_block *b = &s->blocks[bi];

    if (!q->qb[bi].map || gpa < b->gpa ||
        gpa - b->gpa + (uint64_t)n_pages * s->page_size > b->size)
        return NULL;
    return q->qb[bi].map + (gpa - b->gpa);
}

static void qemu_close(struct gm_source *s)
{
    struct qemu_source *q = (struct qemu_source *)s;

    for (size_t i = 0; i < s->n_blocks; i++)
        if (q->qb[i].map)
            munmap((void *)q->qb[i].map, s->blocks[i].size);
    if (q->pagemap_fd >= 0)
        close(q->pagemap_fd);
    g_free(q->qb);
    g_free(s->blocks);
    g_free(q);
}

static const struct gm_source_ops qemu_ops = {
    .name = "qemu",
    .read = qemu_read,
    .map = qemu_map,
    .close = qemu_close,
    .thread_safe = TRUE,
};

/* When [hva, hva+size) lies in one shared file mapping of QEMU, maps the
 * same file bytes read-only here.  Anything else: NULL (use read()). */
static const uint8_t *map_backing(pid_t pid, uint64_t hva, uint64_t size)
{
    char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    char line[512];
    const uint8_t *res = NULL;

    g_free(path);
    if (!f)
        return NULL;
    while (fgets(line, sizeof line, f)) {
        uint64_t start, end, foff;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n",
                   &start, &end, perms, &foff, &name_at) < 4)
            continue;
        if (hva < start || hva >= end)
            continue;
        /* Private mappings may hold copy-on-write pages the file lacks. */
        if (hva + size <= end && perms[3] == 's' && name_at > 0 && line[name_at] == '/') {
            char *mf = g_strdup_printf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
                                       (int)pid, start, end);
            int fd = open(mf, O_RDONLY | O_CLOEXEC);
            g_free(mf);
            if (fd >= 0) {
                void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd,
                               (off_t)(foff + (hva - start)));
                close(fd);
                if (p != MAP_FAILED)
                    res = p;
            }
        }
        break;
    }
    fclose(f);
    return res;
}

/* Fills hva of each range; drops read-only ranges QEMU says are not RAM. */
static gboolean resolve_hvas(struct gm_monitor *mon, GArray *ranges, GError **err)
{
    for (guint i = 0; i < ranges->len;) {
        struct hmp_ram_range *r = &g_array_index(ranges, struct hmp_ram_range, i);
        char *cmd = g_strdup_printf("gpa2hva 0x%" PRIx64, r->gpa);
        char *out = mon->ops->hmp(mon, cmd, err);
        GError *perr = NULL;
        g_free(cmd);
        if (!out)
            return FALSE;
        gboolean ok = hmp_parse_gpa2hva(out, &r->hva, &perr);
        g_free(out);
        if (!ok && r->readonly) {
            /* A read-only region of a ROM device: not RAM, not dumped. */
            g_clear_error(&perr);
            g_array_remove_index(ranges, i);
            continue;
        }
        if (!ok) {
            g_propagate_error(err, perr);
            return FALSE;
        }
        i++;
    }
    return TRUE;
}

struct gm_source *gm_source_qemu_open(struct gm_monitor *mon, uint32_t page_size,
                                      GError **err)
{
    pid_t pid = mon->ops->pid(mon, err);
    if (pid <= 0)
        return NULL;
    char *mtree = mon->ops->hmp(mon, "info mtree -f", err);
    if (!mtree)
        return NULL;
    GArray *ranges = hmp_parse_mtree_ram(mtree, err);
    g_free(mtree);
    if (!ranges)
        return NULL;
    if (!resolve_hvas(mon, ranges, err)) {
        g_array_unref(ranges);
        return NULL;
    }
    hmp_ram_ranges_merge(ranges);

    struct qemu_source *q = g_new0(struct qemu_source, 1);
    q->base.ops = &qemu_ops;
    q->base.page_size = page_size;
    q->base.blocks = g_new0(struct gm_block, ranges->len);
    q->qb = g_new0(struct qblock, ranges->len);
    q->pid = pid;
    /* The pagemap is only worth it when host and guest pages are the same
     * size (x86_64 on x86_64). */
    q->pagemap_fd = (long)page_size == sysconf(_SC_PAGESIZE) ? gm_pagemap_open(pid) : -1;
    if (q->pagemap_fd >= 0)
        gm_pagemap_learn_zero_pfns(&q->zero_pfns);
    for (guint i = 0; i < ranges->len; i++) {
        const struct hmp_ram_range *r = &g_array_index(ranges, struct hmp_ram_range, i);
        /* Blocks are whole guest pages: keep only the pages fully inside. */
        uint64_t start = (r->gpa + page_size - 1) / page_size * page_size;
        uint64_t end = (r->gpa + r->size) / page_size * page_size;
        if (end <= start)
            continue;
        size_t n = q->base.n_blocks++;
        q->base.blocks[n].gpa = start;
        q->base.blocks[n].size = end - start;
        q->qb[n].hva = r->hva + (start - r->gpa);
        q->qb[n].map = map_backing(pid, q->qb[n].hva, end - start);
        if (q->qb[n].map)
            q->n_mapped++;
        else if (q->pagemap_fd >= 0)
            q->qb[n].anon = gm_pagemap_range_is_anon_private(pid, q->qb[n].hva, end - start);
    }
    g_array_unref(ranges);

    /* Probe one page now, so a missing privilege is reported before the
     * guest is paused or any output is created. */
    uint8_t *probe = g_malloc(page_size);
    gboolean ok = q->base.n_blocks > 0 &&
                  qemu_read(&q->base, q->base.blocks[0].gpa, 1, probe, NULL, err);
    g_free(probe);
    if (!ok) {
        if (q->base.n_blocks == 0)
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QEMU (pid %d) has no guest RAM",
                        (int)pid);
        qemu_close(&q->base);
        return NULL;
    }
    return &q->base;
}

GArray *gm_qemu_read_cpus(struct gm_monitor *mon, GError **err)
{
    char *text = mon->ops->hmp(mon, "info registers -a", err);
    if (!text)
        return NULL;
    GArray *cpus = hmp_parse_registers_x86_64(text, err);
    g_free(text);
    return cpus;
}

pid_t gm_source_qemu_pid(const struct gm_source *s)
{
    return s && s->ops == &qemu_ops ? ((const struct qemu_source *)s)->pid : -1;
}

size_t gm_source_qemu_n_mapped(const struct gm_source *s)
{
    return s && s->ops == &qemu_ops ? ((const struct qemu_source *)s)->n_mapped : 0;
}
