/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/writer_common.h"
#include "common/hv_error.h"
#include "formats/notes.h"

gboolean hv_writer_check_inputs(const struct hv_range *ranges, size_t n,
                                const struct hv_dump_meta *meta, GError **err)
{
    uint32_t ps = meta->page_size;

    if (ps < 512 || ps > HV_MAX_PAGE_SIZE || (ps & (ps - 1))) {
        g_set_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED, "unsupported page size %u", ps);
        return FALSE;
    }
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].size == 0 || ranges[i].start % ps || ranges[i].size % ps ||
            (i > 0 && ranges[i].start < ranges[i - 1].start + ranges[i - 1].size)) {
            hv_error_internal(err,
                        "memory range %zu [0x%" G_GINT64_MODIFIER "x, +0x%"
                        G_GINT64_MODIFIER "x) is empty, unaligned or out of order",
                        i, ranges[i].start, ranges[i].size);
            return FALSE;
        }
    }
    return hv_notes_check(meta, err);
}
