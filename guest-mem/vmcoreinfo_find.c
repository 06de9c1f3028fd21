/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scan guest RAM for the kernel's VMCOREINFO note.  The kernel allocates the
 * note page-aligned (alloc_pages_exact), so a first pass looks only at page
 * starts, which is cheap; a second pass, only when the first finds nothing,
 * tries every 4-byte aligned offset (ELF notes are 4-byte aligned). */
#include "guest-mem/vmcoreinfo_find.h"
#include "guest-mem/phys_read.h"
#include "common/hv_error.h"

#include <string.h>

#define NOTE_NAME "VMCOREINFO"
#define NOTE_NAMESZ 11u         /* "VMCOREINFO" + NUL */
#define NOTE_HDR 12u            /* namesz, descsz, type */
#define NOTE_DESC_OFF (NOTE_HDR + 12u) /* name padded to 4 bytes */
#define MAX_DESC (1u << 16)     /* kernel uses one page; allow slack */
#define CHUNK_PAGES 2048u       /* 8 MiB per read with 4 KiB pages */
/* Candidates fully checked (desc read and validated, accept() asked). */
#define MAX_CANDIDATES 256u
/* Bytes spent on candidates beyond the scan itself: this much plus a
 * quarter of the bytes scanned. */
#define CANDIDATE_BYTES_BASE (64u << 20)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static gboolean clean_text(const uint8_t *p, size_t n)
{
    if (n == 0 || p[n - 1] != '\n')
        return FALSE;
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\n' && (p[i] < 0x20 || p[i] > 0x7e))
            return FALSE;
    return TRUE;
}

size_t gm_vmcoreinfo_note_check(const uint8_t *buf, size_t len, gboolean *complete,
                                size_t *desc_off)
{
    static const char prefix[] = "OSRELEASE=";
    const size_t plen = sizeof prefix - 1;

    *complete = FALSE;
    *desc_off = NOTE_DESC_OFF;
    if (len < NOTE_DESC_OFF + plen)
        return 0;
    uint32_t namesz = le32(buf), descsz = le32(buf + 4), type = le32(buf + 8);
    if (namesz != NOTE_NAMESZ || type != 0 || descsz <= plen || descsz > MAX_DESC)
        return 0;
    if (memcmp(buf + NOTE_HDR, NOTE_NAME, NOTE_NAMESZ) != 0)
        return 0;
    if (memcmp(buf + NOTE_DESC_OFF, prefix, plen) != 0)
        return 0;
    /* The kernel counts the text without its NUL; tolerate trailing NULs. */
    size_t n = descsz;
    if (NOTE_DESC_OFF + (size_t)descsz <= len) {
        const uint8_t *d = buf + NOTE_DESC_OFF;
        while (n > 0 && d[n - 1] == '\0')
            n--;
        *complete = clean_text(d, n);
    }
    return descsz;
}

struct scan {
    struct gm_source *src;
    struct gm_vmcoreinfo_scan *opt;
    uint8_t *buf;
    GBytes *best;       /* a complete, accepted note: stop */
    GBytes *fallback;   /* first refused or incomplete-looking one */
    gboolean fallback_complete;
    uint64_t best_gpa, fallback_gpa;
    uint64_t scanned, spent;    /* bytes scanned, bytes spent on candidates */
    unsigned candidates;
    gboolean stop;      /* budget spent */
};

/* Charges n bytes of candidate work; FALSE once the budget is spent. */
static gboolean charge(struct scan *sc, size_t n)
{
    if (sc->candidates >= MAX_CANDIDATES ||
        sc->spent + n > CANDIDATE_BYTES_BASE + sc->scanned / 4) {
        sc->stop = TRUE;
        if (sc->opt)
            sc->opt->cut_short = TRUE;
        return FALSE;
    }
    sc->spent += n;
    return TRUE;
}

/* Looks at a candidate at gpa whose bytes start at p (avail bytes in hand). */
static gboolean try_at(struct scan *sc, uint64_t gpa, const uint8_t *p, size_t avail,
                       GError **err)
{
    gboolean complete;
    size_t off;
    size_t descsz = gm_vmcoreinfo_note_check(p, avail, &complete, &off);
    uint8_t *tmp = NULL;

    if (descsz == 0)
        return TRUE;
    /* Checking the note costs its length (and a read when it runs past
     * what is in hand): that is what the budget counts. */
    if (!charge(sc, off + descsz))
        return TRUE;
    sc->candidates++;
    if (off + descsz > avail) {
        /* The note runs past this chunk: read it whole. */
        tmp = g_malloc(off + descsz);
        if (!gm_phys_present(sc->src, gpa, off + descsz)) {
            g_free(tmp);
            return TRUE;
        }
        if (!gm_read_phys(sc->src, gpa, tmp, off + descsz, err)) {
            g_free(tmp);
            return FALSE;
        }
        p = tmp;
        gm_vmcoreinfo_note_check(p, off + descsz, &complete, &off);
    }
    size_t n = descsz;
    while (n > 0 && p[off + n - 1] == '\0')
        n--;
    gboolean accepted = complete &&
                        (!sc->opt || !sc->opt->accept || sc->opt->accept(sc->opt->ud, p + off, n));
    if (accepted) {
        sc->best = g_bytes_new(p + off, n);
        sc->best_gpa = gpa;
    } else if (!sc->fallback || (complete && !sc->fallback_complete)) {
        /* A complete note that was refused beats an incomplete one. */
        if (sc->fallback)
            g_bytes_unref(sc->fallback);
        sc->fallback = g_bytes_new(p + off, n);
        sc->fallback_gpa = gpa;
        sc->fallback_complete = complete;
    }
    g_free(tmp);
    return TRUE;
}

static gboolean scan_pass(struct scan *sc, size_t step, GError **err)
{
    const uint64_t ps = sc->src->page_size;

    for (size_t bi = 0; bi < sc->src->n_blocks && !sc->best && !sc->stop; bi++) {
        const struct gm_block *b = &sc->src->blocks[bi];
        for (uint64_t off = 0; off < b->size && !sc->best && !sc->stop;) {
            if (sc->opt && sc->opt->cancel && g_atomic_int_get(sc->opt->cancel)) {
                g_set_error(err, HV_ERROR, HV_ERROR_CANCELLED, "cancelled");
                return FALSE;
            }
            size_t np = (size_t)MIN((uint64_t)CHUNK_PAGES, (b->size - off) / ps);
            size_t bytes = np * ps;
            const uint8_t *p = NULL, *mapped = NULL;

            if (sc->src->ops->map)
                p = mapped = sc->src->ops->map(sc->src, b->gpa + off, np);
            if (!p) {
                if (!sc->src->ops->read(sc->src, b->gpa + off, np, sc->buf, NULL, err))
                    return FALSE;
                p = sc->buf;
            }
            sc->scanned += bytes;
            if (step == ps) {
                for (size_t i = 0; i < bytes && !sc->best && !sc->stop; i += step)
                    if (!try_at(sc, b->gpa + off + i, p + i, bytes - i, err))
                        return FALSE;
            } else {
                /* Every aligned offset: let memmem find the name quickly. */
                const uint8_t *q = p, *end = p + bytes;
                while (!sc->best && !sc->stop && (q = memmem(q, (size_t)(end - q), NOTE_NAME,
                                                NOTE_NAMESZ)) != NULL) {
                    size_t at = (size_t)(q - p);
                    if (at >= NOTE_HDR && (at - NOTE_HDR) % 4 == 0 &&
                        !try_at(sc, b->gpa + off + at - NOTE_HDR, q - NOTE_HDR,
                                bytes - (at - NOTE_HDR), err))
                        return FALSE;
                    q++;
                }
            }
            /* A whole-memory scan must not leave all of it resident. */
            if (mapped && sc->src->ops->unmap)
                sc->src->ops->unmap(sc->src, b->gpa + off, np);
            off += bytes;
        }
    }
    return TRUE;
}

GBytes *gm_vmcoreinfo_find(struct gm_source *src, struct gm_vmcoreinfo_scan *opt,
                           uint64_t *gpa_out, GError **err)
{
    struct scan sc = { .src = src, .opt = opt };
    GBytes *res = NULL;
    gboolean ok;

    if (opt)
        opt->untrusted = opt->cut_short = FALSE;
    sc.buf = g_malloc((size_t)CHUNK_PAGES * src->page_size);
    ok = scan_pass(&sc, src->page_size, err);
    if (ok && !sc.best && !sc.fallback && !sc.stop)
        ok = scan_pass(&sc, 4, err);
    g_free(sc.buf);
    if (!ok) {
        g_clear_pointer(&sc.best, g_bytes_unref);
        g_clear_pointer(&sc.fallback, g_bytes_unref);
        return NULL;
    }
    if (sc.best) {
        res = sc.best;
        if (gpa_out)
            *gpa_out = sc.best_gpa;
        g_clear_pointer(&sc.fallback, g_bytes_unref);
    } else if (sc.fallback) {
        res = sc.fallback;
        if (gpa_out)
            *gpa_out = sc.fallback_gpa;
        if (opt && opt->accept)
            opt->untrusted = TRUE;
    }
    return res;
}
