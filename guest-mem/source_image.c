/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Raw guest-memory images ("FILE@GPA"), mapped read-only.  map() hands out
 * pointers into the mappings, so the pipeline reads them without copying;
 * read() copies with pread(), which leaves nothing mapped: a read fault in
 * the mapping would also map its neighbours (fault-around), and those would
 * stay in RSS unless the caller unmapped a wider range than it read. */
#include "guest-mem/source.h"
#include "common/hv_error.h"
#include "common/size_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct image {
    char *file;
    int fd;              /* for read(); -1 until open */
    const uint8_t *base; /* mapping of the whole file */
    uint64_t gpa;
    uint64_t size;
};

struct image_source {
    struct gm_source pub;
    struct image *images; /* same order as pub.blocks */
    size_t n;
};


static const struct image *find_image(const struct image_source *is, uint64_t gpa,
                                      size_t n_pages)
{
    uint64_t len = (uint64_t)n_pages * is->pub.page_size;
    const struct gm_block *b = gm_source_block_at(&is->pub, gpa);
    if (!b)
        return NULL;
    const struct image *im = &is->images[b - is->pub.blocks];
    return (len <= im->gpa + im->size - gpa) ? im : NULL;
}

static const uint8_t *image_map(struct gm_source *s, uint64_t gpa, size_t n_pages)
{
    const struct image *im = find_image((struct image_source *)s, gpa, n_pages);
    return im ? im->base + (gpa - im->gpa) : NULL;
}

/* The pipeline is past these pages: zap them from our page tables.  The
 * mapping is shared and read-only, so nothing is lost (the page cache keeps
 * the data, a later access faults it back in); without this, RSS ends up
 * holding the whole image. */
static void image_unmap(struct gm_source *s, uint64_t gpa, size_t n_pages)
{
    const uint8_t *p = image_map(s, gpa, n_pages);
    if (p)
        madvise((void *)p, n_pages * s->page_size, MADV_DONTNEED);
}

static gboolean image_read(struct gm_source *s, uint64_t gpa, size_t n_pages,
                           uint8_t *buf, enum gm_page_state *state, GError **err)
{
    const struct image *im = find_image((struct image_source *)s, gpa, n_pages);
    if (!im) {
        hv_error_internal(err,
                    "guest-physical range 0x%" G_GINT64_MODIFIER "x (+%zu pages) is not in any image",
                    gpa, n_pages);
        return FALSE;
    }
    size_t len = n_pages * s->page_size;
    off_t off = (off_t)(gpa - im->gpa);
    while (len > 0) {
        ssize_t n = pread(im->fd, buf, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(err, HV_ERROR, HV_ERROR_IO, "reading %s: %s", im->file,
                        n < 0 ? g_strerror(errno) : "file shrank");
            return FALSE;
        }
        buf += n;
        off += n;
        len -= (size_t)n;
    }
    if (state)
        gm_page_state_fill(state, n_pages, GM_PAGE_READ);
    return TRUE;
}

static void image_close(struct gm_source *s)
{
    struct image_source *is = (struct image_source *)s;
    for (size_t i = 0; i < is->n; i++) {
        if (is->images[i].base)
            munmap((void *)is->images[i].base, is->images[i].size);
        if (is->images[i].fd >= 0)
            close(is->images[i].fd);
        g_free(is->images[i].file);
    }
    g_free(is->images);
    g_free(is->pub.blocks);
    g_free(is);
}

static const struct gm_source_ops image_ops = {
    .name = "image",
    .read = image_read,
    .map = image_map,
    .close = image_close,
    .thread_safe = TRUE,
    .unmap = image_unmap,
};

static int cmp_image(const void *a, const void *b)
{
    const struct image *x = a, *y = b;
    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* Parses one spec and maps its file into *im. */
static gboolean open_one(const char *spec, uint32_t page_size, struct image *im,
                         GError **err)
{
    const char *at = strrchr(spec, '@');
    if (!at || at == spec) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "%s: expected FILE@GPA (e.g. ram.img@0x0)", spec);
        return FALSE;
    }
    im->file = g_strndup(spec, (gsize)(at - spec));
    if (!hv_parse_size(at + 1, &im->gpa, err)) {
        g_prefix_error(err, "%s: bad guest-physical address: ", spec);
        return FALSE;
    }
    if (im->gpa % page_size) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "%s: guest-physical address 0x%" G_GINT64_MODIFIER "x is not %u-byte page aligned",
                    spec, im->gpa, page_size);
        return FALSE;
    }
    int fd = open(im->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        hv_error_from_errno(err, e, "%s: %s", im->file, g_strerror(e));
        return FALSE;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "%s: not a regular file", im->file);
        close(fd);
        return FALSE;
    }
    if (st.st_size == 0 || (uint64_t)st.st_size % page_size) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "%s: size %" G_GINT64_FORMAT " is %s", im->file, (gint64)st.st_size,
                    st.st_size == 0 ? "empty" : "not a multiple of the page size");
        close(fd);
        return FALSE;
    }
    im->size = (uint64_t)st.st_size;
    if (im->gpa + im->size < im->gpa) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "%s: range wraps past the end of the address space", spec);
        close(fd);
        return FALSE;
    }
    void *p = mmap(NULL, im->size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    im->fd = fd;
    if (p == MAP_FAILED) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s: mmap: %s", im->file, g_strerror(e));
        return FALSE;
    }
    /* Sequential scan by the pipeline: let the kernel read ahead. */
    madvise(p, im->size, MADV_SEQUENTIAL);
    im->base = p;
    return TRUE;
}

struct gm_source *gm_source_image_open(const char *const *specs, size_t n_specs,
                                       uint32_t page_size, GError **err)
{
    if (n_specs == 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "no memory image given");
        return NULL;
    }
    if (page_size == 0 || (page_size & (page_size - 1))) {
        hv_error_internal(err, "bad page size %u", page_size);
        return NULL;
    }
    struct image_source *is = g_new0(struct image_source, 1);
    is->pub.ops = &image_ops;
    is->pub.page_size = page_size;
    is->images = g_new0(struct image, n_specs);
    for (size_t i = 0; i < n_specs; i++)
        is->images[i].fd = -1;
    is->pub.blocks = g_new0(struct gm_block, n_specs);
    for (size_t i = 0; i < n_specs; i++) {
        is->n = i + 1; /* so close() frees what open_one set up */
        if (!open_one(specs[i], page_size, &is->images[i], err))
            goto fail;
    }
    qsort(is->images, is->n, sizeof(*is->images), cmp_image);
    for (size_t i = 0; i < is->n; i++) {
        if (i > 0 && is->images[i].gpa < is->images[i - 1].gpa + is->images[i - 1].size) {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                        "%s and %s overlap in guest-physical memory",
                        is->images[i - 1].file, is->images[i].file);
            goto fail;
        }
        is->pub.blocks[i].gpa = is->images[i].gpa;
        is->pub.blocks[i].size = is->images[i].size;
    }
    is->pub.n_blocks = is->n;
    return &is->pub;
fail:
    image_close(&is->pub);
    return NULL;
}
