/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/sink.h"

/* 64 KiB: the largest page size a writer accepts, so a zero page of any
 * size is one write_at. */
#define ZERO_CHUNK 65536u
static const uint8_t zero_chunk[ZERO_CHUNK];

gboolean hv_sink_write_zero_bytes(struct hv_sink *s, uint64_t off, uint64_t len, GError **err)
{
    while (len > 0) {
        size_t n = (size_t)MIN(len, (uint64_t)ZERO_CHUNK);
        if (!s->write_at(s, off, zero_chunk, n, err))
            return FALSE;
        off += n;
        len -= n;
    }
    return TRUE;
}
