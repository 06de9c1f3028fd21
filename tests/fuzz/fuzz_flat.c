/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flattened-file indexer (bytesrc.c): any file, then reads of the logical
 * file at its start, its end and across it.  A flat header with hostile
 * records (overlapping, huge offsets, lengths past the end) must give an
 * error or a consistent view, never a crash. */
#include "formats/bytesrc.h"
#include "fuzz_common.h"

#define CHUNK 4096
#define MAX_READS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size);
    GError *err = NULL;
    struct hv_bytesrc *b = hv_bytesrc_open(path, &err);

    if (!b) {
        if (!err)
            abort();
        g_error_free(err);
        return 0;
    }
    uint8_t *buf = g_malloc(CHUNK);
    /* Reads at evenly spread offsets, then at the edges. */
    uint64_t step = b->size / MAX_READS + 1;
    for (uint64_t off = 0; off < b->size; off += step) {
        size_t len = (size_t)MIN((uint64_t)CHUNK, b->size - off);
        if (!b->read_at(b, off, buf, len, &err))
            g_clear_error(&err);
    }
    if (b->size >= 1 && !b->read_at(b, b->size - 1, buf, 1, &err))
        g_clear_error(&err);
    /* Past the end: must fail. */
    if (b->read_at(b, b->size, buf, 1, NULL) ||
        b->read_at(b, UINT64_MAX - 1, buf, 16, NULL))
        abort();
    g_free(buf);
    b->close(b);
    return 0;
}
