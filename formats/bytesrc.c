/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Byte sources for the readers.  A plain file is read with pread().  A
 * flattened file (makedumpfile -F, QEMU writing to a pipe) is scanned once:
 * its records are painted onto the logical file, later records over earlier
 * ones, and reads are then served from the resulting sorted, disjoint list of
 * pieces.  Bytes that no record wrote read as zero. */
#include "formats/bytesrc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/flat.h"
#include "common/hv_error.h"

/* A piece of the logical file that lives at file_off of the flat file. */
struct flat_piece {
    uint64_t dest;
    uint64_t len;
    uint64_t file_off;
};

/* One record as found in the flat file; seq orders overrides. */
struct flat_rec {
    uint64_t dest;
    uint64_t len;
    uint64_t file_off;
    uint64_t seq;
};

struct filesrc {
    struct hv_bytesrc base;
    int fd;
    struct flat_piece *pieces; /* flat only, sorted by dest, disjoint */
    size_t n_pieces;
};

static gboolean pread_full(int fd, uint64_t off, void *buf, size_t len,
                           GError **err)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            g_set_error(err, HV_ERROR, HV_ERROR_IO, "read at offset %" G_GUINT64_FORMAT
                        ": %s", off, g_strerror(errno));
            return FALSE;
        }
        if (r == 0) {
            g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                        "file truncated at offset %" G_GUINT64_FORMAT, off);
            return FALSE;
        }
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return TRUE;
}

static gboolean check_range(struct hv_bytesrc *b, uint64_t off, size_t len,
                            GError **err)
{
    if (off > b->size || len > b->size - off) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "truncated: %zu bytes at offset %" G_GUINT64_FORMAT
                    " lie past the end (%" G_GUINT64_FORMAT " bytes)",
                    len, off, b->size);
        return FALSE;
    }
    return TRUE;
}

static gboolean plain_read_at(struct hv_bytesrc *b, uint64_t off, void *buf,
                              size_t len, GError **err)
{
    struct filesrc *f = (struct filesrc *)b;

    if (!check_range(b, off, len, err))
        return FALSE;
    return pread_full(f->fd, off, buf, len, err);
}

static gboolean flat_read_at(struct hv_bytesrc *b, uint64_t off, void *buf,
                             size_t len, GError **err)
{
    struct filesrc *f = (struct filesrc *)b;
    uint8_t *out = buf;
    uint64_t end = off + len;
    size_t lo = 0, hi = f->n_pieces;

    if (!check_range(b, off, len, err))
        return FALSE;
    /* First piece that ends after off. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->pieces[mid].dest + f->pieces[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t pos = off;
    for (size_t i = lo; i < f->n_pieces && pos < end; i++) {
        const struct flat_piece *p = &f->pieces[i];
        if (p->dest >= end)
            break;
        if (p->dest > pos) {
            memset(out + (pos - off), 0, p->dest - pos);
            pos = p->dest;
        }
        uint64_t stop = MIN(end, p->dest + p->len);
        if (!pread_full(f->fd, p->file_off + (pos - p->dest), out + (pos - off),
                        stop - pos, err))
            return FALSE;
        pos = stop;
    }
    if (pos < end)
        memset(out + (pos - off), 0, end - pos);
    return TRUE;
}

static void file_close(struct hv_bytesrc *b)
{
    struct filesrc *f = (struct filesrc *)b;

    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    g_free(f->pieces);
    g_free(f);
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static gboolean is_flat_header(const uint8_t *h)
{
    char sig[17] = { 0 };

    memcpy(sig, h, 16);
    return strcmp(sig, HV_FLAT_SIGNATURE) == 0 && be64(h + 16) == 1 &&
           be64(h + 24) == 1;
}

/* ---- painting records onto the logical file ---- */

static int rec_cmp_dest(const void *a, const void *b)
{
    const struct flat_rec *x = a, *y = b;
    if (x->dest != y->dest)
        return x->dest < y->dest ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Max-heap of record indexes keyed by seq: the newest active record wins. */
struct heap {
    size_t *v;
    size_t n;
};

static void heap_push(struct heap *h, const struct flat_rec *r, size_t idx)
{
    size_t i = h->n++;
    h->v[i] = idx;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (r[h->v[parent]].seq >= r[h->v[i]].seq)
            break;
        size_t t = h->v[parent]; h->v[parent] = h->v[i]; h->v[i] = t;
        i = parent;
    }
}

static void heap_pop(struct heap *h, const struct flat_rec *r)
{
    size_t i = 0;
    h->v[0] = h->v[--h->n];
    for (;;) {
        size_t l = 2 * i + 1, rr = l + 1, best = i;
        if (l < h->n && r[h->v[l]].seq > r[h->v[best]].seq)
            best = l;
        if (rr < h->n && r[h->v[rr]].seq > r[h->v[best]].seq)
            best = rr;
        if (best == i)
            break;
        size_t t = h->v[best]; h->v[best] = h->v[i]; h->v[i] = t;
        i = best;
    }
}

static void emit_piece(GArray *out, const struct flat_rec *r, uint64_t from,
                       uint64_t to)
{
    if (to <= from)
        return;
    if (out->len > 0) {
        struct flat_piece *last = &g_array_index(out, struct flat_piece, out->len - 1);
        if (last->dest + last->len == from &&
            last->file_off + last->len == r->file_off + (from - r->dest)) {
            last->len += to - from;
            return;
        }
    }
    struct flat_piece p = { from, to - from, r->file_off + (from - r->dest) };
    g_array_append_val(out, p);
}

/* Sweep over record starts in dest order; between two event points the
 * newest record still covering the point owns the bytes. */
static GArray *paint(struct flat_rec *recs, size_t n)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(struct flat_piece));
    struct heap h = { g_new(size_t, n + 1), 0 };
    size_t next = 0;
    uint64_t pos = 0;

    if (n > 1) /* recs is NULL for a flat file without records */
        qsort(recs, n, sizeof(*recs), rec_cmp_dest);
    while (next < n || h.n > 0) {
        /* Drop records that ended. */
        while (h.n > 0 && recs[h.v[0]].dest + recs[h.v[0]].len <= pos)
            heap_pop(&h, recs);
        if (h.n == 0) {
            if (next >= n)
                break;
            pos = MAX(pos, recs[next].dest);
        }
        while (next < n && recs[next].dest <= pos)
            heap_push(&h, recs, next++);
        while (h.n > 0 && recs[h.v[0]].dest + recs[h.v[0]].len <= pos)
            heap_pop(&h, recs);
        if (h.n == 0)
            continue;
        const struct flat_rec *top = &recs[h.v[0]];
        uint64_t stop = top->dest + top->len;
        if (next < n && recs[next].dest < stop)
            stop = recs[next].dest;
        emit_piece(out, top, pos, stop);
        pos = stop;
    }
    g_free(h.v);
    return out;
}

static gboolean index_flat(struct filesrc *f, uint64_t file_size, GError **err)
{
    GArray *recs = g_array_new(FALSE, FALSE, sizeof(struct flat_rec));
    uint64_t pos = HV_FLAT_HEADER_SIZE, logical = 0;
    gboolean ok = FALSE, ended = FALSE;

    while (pos + 16 <= file_size) {
        uint8_t hdr[16];
        if (!pread_full(f->fd, pos, hdr, sizeof(hdr), err))
            goto out;
        int64_t off = (int64_t)be64(hdr), size = (int64_t)be64(hdr + 8);
        if (off == -1 && size == -1) {
            ended = TRUE;
            break;
        }
        if (off < 0 || size < 0 || (uint64_t)off > (uint64_t)INT64_MAX - (uint64_t)size) {
            g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                        "flattened record at offset %" G_GUINT64_FORMAT
                        " has a bad offset/size (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")",
                        pos, off, size);
            goto out;
        }
        if ((uint64_t)size > file_size - pos - 16) {
            g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                        "flattened record at offset %" G_GUINT64_FORMAT
                        " is truncated (%" G_GINT64_FORMAT " bytes announced)", pos, size);
            goto out;
        }
        if (size > 0) {
            struct flat_rec r = { (uint64_t)off, (uint64_t)size, pos + 16, recs->len };
            g_array_append_val(recs, r);
            logical = MAX(logical, (uint64_t)off + (uint64_t)size);
        }
        pos += 16 + (uint64_t)size;
    }
    if (!ended) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "flattened file has no end record (truncated at %" G_GUINT64_FORMAT ")",
                    pos);
        goto out;
    }
    GArray *pieces = paint((struct flat_rec *)(void *)recs->data, recs->len);
    f->n_pieces = pieces->len;
    f->pieces = (struct flat_piece *)(void *)g_array_free(pieces, FALSE);
    f->base.size = logical;
    ok = TRUE;
out:
    g_array_free(recs, TRUE);
    return ok;
}

struct hv_bytesrc *hv_bytesrc_open(const char *path, GError **err)
{
    struct filesrc *f = g_new0(struct filesrc, 1);
    struct stat st;

    f->base.close = file_close;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        hv_error_from_errno(err, errno, "cannot open: %s", g_strerror(errno));
        goto fail;
    }
    if (fstat(f->fd, &st) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "stat: %s", g_strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED,
                    "not a regular file (readers need random access)");
        goto fail;
    }
    f->base.size = (uint64_t)st.st_size;
    f->base.read_at = plain_read_at;
    if (f->base.size >= HV_FLAT_HEADER_SIZE) {
        uint8_t h[32];
        if (!pread_full(f->fd, 0, h, sizeof(h), err))
            goto fail;
        if (is_flat_header(h)) {
            f->base.flattened = TRUE;
            f->base.read_at = flat_read_at;
            if (!index_flat(f, (uint64_t)st.st_size, err))
                goto fail;
        }
    }
    return &f->base;
fail:
    file_close(&f->base);
    return NULL;
}
