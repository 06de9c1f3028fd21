/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where guest-physical pages come from.  One file per kind of source, each
 * exporting a constructor that fills in a struct gm_source_ops table.  A
 * source lists its RAM blocks and reads pages; it knows nothing of formats. */
#ifndef GM_SOURCE_H
#define GM_SOURCE_H

#include <glib.h>
#include <stdint.h>

struct gm_block {
    uint64_t gpa;  /* guest-physical start, page aligned */
    uint64_t size; /* bytes, page aligned, > 0 */
};

struct gm_source;

/* What read() says of each page it was asked for, in its state[] array. */
enum gm_page_state {
    GM_PAGE_READ = 0,   /* the page's bytes are in buf */
    GM_PAGE_ABSENT = 1, /* the source does not have the page; buf zeroed */
    GM_PAGE_ZERO = 2,   /* known all zero without reading; buf NOT written */
};

struct gm_source_ops {
    const char *name;
    /* Reads n_pages at gpa (all inside one block) into buf.  When state is
     * not NULL, state[i] is set for every page: GM_PAGE_ABSENT for a page
     * the source does not have (its bytes in buf are zero), GM_PAGE_ZERO for
     * a page the source knows is all zero without reading it (its bytes in
     * buf are NOT written: skipping the copy is the point), GM_PAGE_READ
     * otherwise.  With state NULL, every byte of buf is written.  Errors:
     * HV_ERROR_GUEST (QEMU went away or its memory cannot be read),
     * HV_ERROR_PERMISSION (no CAP_SYS_PTRACE), HV_ERROR_IO or
     * HV_ERROR_CORRUPT (a file or vmcore behind the source),
     * HV_ERROR_INTERNAL (the range is not inside one block). */
    gboolean (*read)(struct gm_source *s, uint64_t gpa, size_t n_pages,
                     uint8_t *buf, enum gm_page_state *state, GError **err);
    /* Optional zero-copy access: a pointer to the n_pages at gpa, valid until
     * close(), or NULL when the range is not mapped (use read()). */
    const uint8_t *(*map)(struct gm_source *s, uint64_t gpa, size_t n_pages);
    void (*close)(struct gm_source *s);
    gboolean thread_safe; /* read() may run in several threads at once */
    /* Optional: the caller is done with the n_pages at gpa that map()
     * returned.  The source may drop them from this process's resident set
     * (a mapped file's pages otherwise all count in RSS, so RSS would grow
     * with guest size); a later map() of the range stays valid. */
    void (*unmap)(struct gm_source *s, uint64_t gpa, size_t n_pages);
};

struct gm_source {
    const struct gm_source_ops *ops;
    struct gm_block *blocks; /* sorted by gpa, disjoint; owned by the source */
    size_t n_blocks;
    uint32_t page_size;
};

/* Sets state[0..n) to value (a read() that has every page it was asked for
 * fills its state[] with GM_PAGE_READ). */
static inline void gm_page_state_fill(enum gm_page_state *state, size_t n,
                                      enum gm_page_state value)
{
    for (size_t i = 0; i < n; i++)
        state[i] = value;
}

/* The block of s holding gpa, or NULL when gpa is in none.  A binary
 * search: blocks are sorted and disjoint, and a QEMU guest has a few dozen
 * (RAM, ROMs, VRAM), looked up once per read(). */
static inline const struct gm_block *gm_source_block_at(const struct gm_source *s,
                                                        uint64_t gpa)
{
    size_t lo = 0, hi = s->n_blocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct gm_block *b = &s->blocks[mid];
        if (gpa < b->gpa)
            hi = mid;
        else if (gpa - b->gpa >= b->size)
            lo = mid + 1;
        else
            return b;
    }
    return NULL;
}

static inline void gm_source_close(struct gm_source *s)
{
    if (s)
        s->ops->close(s);
}

/* Raw memory images: specs are "FILE@GPA" (GPA decimal or 0x-hex, optional
 * K/M/G suffix).  Each file must be a non-empty multiple of page_size, GPAs
 * page aligned, ranges must not overlap.  Files are mapped read-only.
 * Errors: HV_ERROR_INVALID (a bad spec, a file that is not a non-empty
 * multiple of page_size, overlapping ranges, no spec), HV_ERROR_PERMISSION
 * or HV_ERROR_IO (cannot open or map), HV_ERROR_INTERNAL (bad page_size). */
struct gm_source *gm_source_image_open(const char *const *specs, size_t n_specs,
                                       uint32_t page_size, GError **err);

#endif
