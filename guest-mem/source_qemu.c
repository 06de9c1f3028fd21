/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A live QEMU as a page source.  Discovery mirrors what QEMU's own
 * dump-guest-memory dumps (RAM of the "memory" FlatView, neighbours merged
 * when contiguous in guest and host address); reading goes straight to
 * QEMU's address space, so the monitor is not involved per page. */
#include "guest-mem/source_qemu.h"

#include <json-glib/json-glib.h>
#include "guest-mem/hmp_parse.h"
#include "guest-mem/pagemap.h"
#include "common/hv_error.h"

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
    int file_fd;        /* QEMU's shared backing file of this RAM, or -1 */
    uint64_t file_off;  /* where the block starts in it */
    gboolean anon;      /* private anonymous memory: pagemap tells zero pages */
};

struct qemu_source {
    struct gm_source base; /* first: the ops get a struct gm_source * */
    pid_t pid;
    struct qblock *qb;     /* parallel to base.blocks */
    int pagemap_fd;        /* /proc/PID/pagemap, or -1 */
    struct gm_zero_pfns zero_pfns;
};

/* Pages per read() consulted in the pagemap at once (stack arrays). */
#define SPARSE_CHUNK 256u

gboolean gm_qemu_alive(pid_t pid)
{
    /* EPERM: the process exists, we just may not signal it (another user's
     * QEMU when we lack CAP_KILL). */
    if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
        return FALSE;
    /* A zombie (killed, not yet reaped by its parent) answers kill() too,
     * but has no memory and no monitor left. */
    char path[64], buf[256];
    g_snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TRUE;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return TRUE;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

static void set_read_error(GError **err, pid_t pid, int e, uint64_t gpa)
{
    if (e == EPERM || e == EACCES)
        g_set_error(err, HV_ERROR, HV_ERROR_PERMISSION,
                    "reading QEMU's memory needs root or CAP_SYS_PTRACE (pid %d)", (int)pid);
    else if (e == ESRCH || !gm_qemu_alive(pid))
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
                            uint8_t *buf, enum gm_page_state *state, GError **err)
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
            state[done + i] = populated[i] ? GM_PAGE_READ : GM_PAGE_ZERO;
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

/* pread()s all of [pos, end) of fd into buf. */
static gboolean pread_all(int fd, uint8_t *buf, uint64_t pos, uint64_t end, uint64_t gpa,
                          GError **err)
{
    while (pos < end) {
        ssize_t r = pread(fd, buf, (size_t)MIN(end - pos, (uint64_t)READ_CHUNK), (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "reading guest memory at 0x%" PRIx64 " from QEMU's backing file: %s",
                        gpa, r < 0 ? g_strerror(errno) : "file shorter than guest RAM");
            return FALSE;
        }
        buf += r;
        pos += (uint64_t)r;
        gpa += (uint64_t)r;
    }
    return TRUE;
}

/* Reads pages from the block's shared backing file.  Pages in a hole of
 * the file (never written: SEEK_DATA/SEEK_HOLE) are GM_PAGE_ZERO, or zeroed
 * in buf when the caller has no state[] array, and never read: a read fault
 * on a tmpfs or memfd hole, through any mapping, allocates the page, so a
 * dump would otherwise grow a 100 MiB-used guest's file to its full size. */
static gboolean read_file(struct qemu_source *q, const struct qblock *qb, uint64_t gpa,
                          uint64_t off, size_t n_pages, uint8_t *buf,
                          enum gm_page_state *state, GError **err)
{
    const uint64_t ps = q->base.page_size;
    const uint64_t start = qb->file_off + off, end = start + n_pages * ps;
    size_t page = 0;    /* pages before this one are done */

    while (page < n_pages) {
        uint64_t pos = start + page * ps;
        off_t data = lseek(qb->file_fd, (off_t)pos, SEEK_DATA);
        if (data < 0)   /* ENXIO: only a hole up to the end; else no hole support */
            data = errno == ENXIO ? (off_t)end : (off_t)pos;
        off_t hole = (uint64_t)data < end ? lseek(qb->file_fd, data, SEEK_HOLE) : (off_t)end;
        if (hole < 0)
            hole = (off_t)end;
        /* Whole pages of hole up to the data; the data's pages rounded out. */
        size_t data_page = (size_t)((MIN((uint64_t)data, end) - start) / ps);
        size_t hole_page = (size_t)((MIN((uint64_t)hole, end) - start + ps - 1) / ps);
        /* A hole punched between the two lseeks (a --live dump, a balloon)
         * can leave hole == data: read one page then, to make progress. */
        if (hole_page <= data_page && data_page < n_pages)
            hole_page = data_page + 1;
        for (; page < data_page; page++) {
            if (state)
                state[page] = GM_PAGE_ZERO;
            else
                memset(buf + page * ps, 0, ps);
        }
        if (hole_page > page) {
            if (!pread_all(qb->file_fd, buf + page * ps, start + page * ps, start + hole_page * ps,
                           gpa + page * ps, err))
                return FALSE;
            page = hole_page;
        }
    }
    return TRUE;
}

static gboolean qemu_read(struct gm_source *s, uint64_t gpa, size_t n_pages,
                          uint8_t *buf, enum gm_page_state *state, GError **err)
{
    struct qemu_source *q = (struct qemu_source *)s;
    const struct gm_block *b = gm_source_block_at(s, gpa);
    size_t len = n_pages * s->page_size;

    if (state)
        gm_page_state_fill(state, n_pages, GM_PAGE_READ);
    if (!b || gpa - b->gpa + len > b->size) {
        hv_error_internal(err,
                    "read of %zu pages at 0x%" PRIx64 " is outside one RAM block", n_pages, gpa);
        return FALSE;
    }
    size_t bi = (size_t)(b - s->blocks);
    uint64_t off = gpa - b->gpa;
    if (q->qb[bi].file_fd >= 0)
        return read_file(q, &q->qb[bi], gpa, off, n_pages, buf, state, err);
    if (state && q->qb[bi].anon && q->pagemap_fd >= 0)
        return read_sparse(q, q->qb[bi].hva + off, gpa, n_pages, buf, state, err);
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
            set_read_error(err, q->pid, gm_qemu_alive(q->pid) ? EFAULT : ESRCH, gpa + done);
            return FALSE;
        }
        done += (size_t)r;
    }
    return TRUE;
}

static void qemu_close(struct gm_source *s)
{
    struct qemu_source *q = (struct qemu_source *)s;

    for (size_t i = 0; i < s->n_blocks; i++)
        if (q->qb[i].file_fd >= 0)
            close(q->qb[i].file_fd);
    if (q->pagemap_fd >= 0)
        close(q->pagemap_fd);
    g_free(q->qb);
    g_free(s->blocks);
    g_free(q);
}

static const struct gm_source_ops qemu_ops = {
    .name = "qemu",
    .read = qemu_read,
    .close = qemu_close,
    .thread_safe = TRUE,
};

/* When [hva, hva+size) lies in one shared file mapping of QEMU, opens that
 * file (through /proc/PID/map_files, so a deleted file or a memfd works
 * too) and sets *file_off and *file to where the range starts in it and its
 * name (g_free it).  Anything else: -1 (read through QEMU's memory). */
static int open_backing(pid_t pid, uint64_t hva, uint64_t size, uint64_t *file_off, char **file)
{
    char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    char line[512];
    int fd = -1;

    g_free(path);
    if (!f)
        return -1;
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
            fd = open(mf, O_RDONLY | O_CLOEXEC);
            g_free(mf);
            if (fd >= 0) {
                *file_off = foff + (hva - start);
                *file = g_strchomp(g_strdup(line + name_at));
            }
        }
        break;
    }
    fclose(f);
    return fd;
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

/* Guest-physical addresses above 2^52 exist on no x86_64 machine. */
#define MAX_GPA_BITS 52
/* RAM ranges QEMU may report: a pc machine has a handful, a guest with
 * many DIMMs a few hundred. */
#define MAX_RAM_RANGES 4096

/* What QEMU's monitor says about guest RAM is checked against what the
 * kernel says about QEMU's memory: every range must lie in QEMU's readable
 * mappings (/proc/PID/maps) and below 2^52.  A
 * monitor that claims 0..2^64-2 as RAM once made the kdump writer ask for
 * 512 TiB of bitmap. */
static gboolean check_layout(pid_t pid, GArray *ranges, GError **err)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
    g_autoptr(GArray) maps = g_array_new(FALSE, FALSE, sizeof(uint64_t) * 2);
    FILE *f = fopen(path, "re");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        uint64_t m[2];
        char perms[8] = "";
        /* Readable mappings only: guard pages (---p) hold no guest RAM. */
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &m[0], &m[1], perms) == 3 &&
            m[1] > m[0] && perms[0] == 'r')
            g_array_append_val(maps, m);
        /* The rest of a long line (a long file name) is not another mapping. */
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;
    }
    if (f)
        fclose(f);
    for (guint i = 0; i < ranges->len; i++) {
        const struct hmp_ram_range *r = &g_array_index(ranges, struct hmp_ram_range, i);
        const char *why = NULL;
        if (r->size == 0 || r->gpa > (UINT64_C(1) << MAX_GPA_BITS) ||
            r->size > (UINT64_C(1) << MAX_GPA_BITS) - r->gpa)
            why = "lies beyond 52-bit guest-physical addresses";
        else if (r->hva + r->size < r->hva)
            why = "wraps QEMU's address space";
        else {
            /* Covered by QEMU's mappings, without a gap (maps is sorted). */
            uint64_t at = r->hva, end = r->hva + r->size;
            for (guint j = 0; j < maps->len && at < end; j++) {
                const uint64_t *m = &g_array_index(maps, uint64_t, 2 * j);
                if (m[0] <= at && at < m[1])
                    at = m[1];
            }
            if (at < end)
                why = "is not mapped in QEMU's memory";
        }
        if (why) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "QEMU's RAM layout is implausible: guest RAM 0x%" PRIx64 "+0x%" PRIx64
                        " at QEMU address 0x%" PRIx64 " %s", r->gpa, r->size, r->hva, why);
            return FALSE;
        }
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
    /* Before one gpa2hva per range. */
    if (ranges->len > MAX_RAM_RANGES) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "QEMU reports %u RAM ranges (at most %d)",
                    ranges->len, MAX_RAM_RANGES);
        g_array_unref(ranges);
        return NULL;
    }
    if (!resolve_hvas(mon, ranges, err) || !check_layout(pid, ranges, err)) {
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
        char *file = NULL;
        q->qb[n].file_fd = open_backing(pid, q->qb[n].hva, end - start, &q->qb[n].file_off,
                                        &file);
        if (q->qb[n].file_fd < 0 && q->pagemap_fd >= 0)
            q->qb[n].anon = gm_pagemap_range_is_anon_private(pid, q->qb[n].hva, end - start);
        /* G_MESSAGES_DEBUG=all shows why a dump is as fast as it is. */
        g_debug("guest RAM 0x%" PRIx64 "-0x%" PRIx64 ": %s%s", start, end - 1,
                file ? "read from QEMU's shared backing file " :
                q->qb[n].anon ? "process_vm_readv, zero pages known from the pagemap" :
                                "process_vm_readv",
                file ? file : "");
        g_free(file);
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

/* How many vCPUs QEMU says it has (query-cpus-fast), 0 when it cannot tell. */
static guint qemu_cpu_count(struct gm_monitor *mon)
{
    g_autofree char *ret = mon->ops->qmp(mon, "{\"execute\":\"query-cpus-fast\"}", NULL);
    if (!ret)
        return 0;
    g_autoptr(JsonNode) n = json_from_string(ret, NULL);
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_array_get_length(json_node_get_array(n)) : 0;
}

GArray *gm_qemu_read_cpus(struct gm_monitor *mon, GError **err)
{
    char *text = mon->ops->hmp(mon, "info registers -a", err);
    if (!text)
        return NULL;
    GArray *cpus = hmp_parse_registers_x86_64(text, err);
    g_free(text);
    /* Two answers from the same QEMU must agree: more register sets than
     * vCPUs is a monitor that lies, and the dump would carry its inventions. */
    guint expected = cpus ? qemu_cpu_count(mon) : 0;
    if (cpus && expected && cpus->len > expected) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "`info registers -a` lists %u vCPUs but QEMU has %u", cpus->len, expected);
        g_array_unref(cpus);
        return NULL;
    }
    return cpus;
}
