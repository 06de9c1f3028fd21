/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Byte-granular reads through the page-granular source interface.  Used a
 * handful of times per dump (page-table walks, metadata), never per page of
 * the dump itself, so a temporary page buffer per call is fine. */
#include "guest-mem/phys_read.h"
#include "common/hv_error.h"

#include <string.h>

gboolean gm_phys_present(const struct gm_source *s, uint64_t gpa, uint64_t len)
{
    while (len > 0) {
        const struct gm_block *b = gm_source_block_at(s, gpa);
        if (!b)
            return FALSE;
        uint64_t avail = b->gpa + b->size - gpa;
        if (avail >= len)
            return TRUE;
        gpa += avail;
        len -= avail;
    }
    return TRUE;
}

gboolean gm_read_phys(struct gm_source *s, uint64_t gpa, void *buf, size_t len,
                      GError **err)
{
    const uint64_t ps = s->page_size;
    uint8_t *out = buf;
    uint8_t *page = NULL;
    gboolean ok = TRUE;

    while (len > 0) {
        uint64_t page_gpa = gpa - gpa % ps;
        size_t in_page = (size_t)(gpa - page_gpa);
        size_t n = (size_t)MIN((uint64_t)len, ps - in_page);
        const uint8_t *src = NULL;
        enum gm_page_state state = GM_PAGE_READ;

        if (!gm_source_block_at(s, page_gpa)) {
            g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                        "guest-physical address 0x%" G_GINT64_MODIFIER "x is not in guest RAM",
                        gpa);
            ok = FALSE;
            break;
        }
        if (s->ops->map)
            src = s->ops->map(s, page_gpa, 1);
        if (!src) {
            if (!page)
                page = g_malloc(ps);
            if (!s->ops->read(s, page_gpa, 1, page, &state, err)) {
                ok = FALSE;
                break;
            }
            if (state == GM_PAGE_ZERO) {
                memset(page, 0, ps); /* the source skipped the copy */
            } else if (state == GM_PAGE_ABSENT) {
                g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                            "guest page at 0x%" G_GINT64_MODIFIER "x is not in the source",
                            page_gpa);
                ok = FALSE;
                break;
            }
            src = page;
        }
        memcpy(out, src + in_page, n);
        out += n;
        gpa += n;
        len -= n;
    }
    g_free(page);
    return ok;
}

gboolean gm_read_phys_u64(struct gm_source *s, uint64_t gpa, uint64_t *val,
                          GError **err)
{
    uint8_t b[8];

    if (!gm_read_phys(s, gpa, b, sizeof b, err))
        return FALSE;
    /* Guest is x86_64 (little-endian) like the only host we support; still,
     * assemble explicitly so the intent is visible. */
    *val = 0;
    for (int i = 7; i >= 0; i--)
        *val = (*val << 8) | b[i];
    return TRUE;
}
