/* SPDX-License-Identifier: GPL-2.0-or-later */
/* makedumpfile's flattened format over a sequential sink (see flat.h).
 * Writes at any offset become (offset, size, data) records; contiguous
 * writes are gathered in one pending buffer so the stream carries few, large
 * records (crash indexes every record, and tiny ones bloat the stream). */
#include "formats/flat.h"

#include <string.h>
#include "common/hv_error.h"

#define FLAT_PENDING_CAP (4u << 20)
#define FLAT_TYPE 1
#define FLAT_VERSION 1

struct hv_flat_sink {
    struct hv_sink base;  /* first: hv_sink * casts back to us */
    struct hv_sink *stream;
    uint64_t stream_off;  /* next byte offset on the stream */
    gboolean header_done;
    uint8_t *pending;     /* FLAT_PENDING_CAP bytes, allocated once */
    size_t pending_len;
    uint64_t pending_off; /* file offset of pending[0] */
};

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static gboolean stream_write(struct hv_flat_sink *f, const void *buf, size_t len,
                             GError **err)
{
    if (!hv_sink_write(f->stream, f->stream_off, buf, len, err))
        return FALSE;
    f->stream_off += len;
    return TRUE;
}

static gboolean write_header(struct hv_flat_sink *f, GError **err)
{
    uint8_t hdr[HV_FLAT_HEADER_SIZE] = {0};

    if (f->header_done)
        return TRUE;
    memcpy(hdr, HV_FLAT_SIGNATURE, strlen(HV_FLAT_SIGNATURE));
    put_be64(hdr + 16, FLAT_TYPE);
    put_be64(hdr + 24, FLAT_VERSION);
    if (!stream_write(f, hdr, sizeof(hdr), err))
        return FALSE;
    f->header_done = TRUE;
    return TRUE;
}

static gboolean write_record(struct hv_flat_sink *f, uint64_t off,
                             const void *buf, size_t len, GError **err)
{
    uint8_t rh[16];

    put_be64(rh, off);
    put_be64(rh + 8, len);
    return stream_write(f, rh, sizeof(rh), err) &&
           (len == 0 || stream_write(f, buf, len, err));
}

static gboolean flush_pending(struct hv_flat_sink *f, GError **err)
{
    if (f->pending_len == 0)
        return TRUE;
    if (!write_record(f, f->pending_off, f->pending, f->pending_len, err))
        return FALSE;
    f->pending_len = 0;
    return TRUE;
}

static gboolean flat_write_at(struct hv_sink *s, uint64_t off, const void *buf,
                              size_t len, GError **err)
{
    struct hv_flat_sink *f = (struct hv_flat_sink *)s;
    const uint8_t *p = buf;

    if (!write_header(f, err))
        return FALSE;
    while (len > 0) {
        gboolean contiguous = f->pending_len > 0 &&
                              off == f->pending_off + f->pending_len;
        if (!contiguous) {
            if (!flush_pending(f, err))
                return FALSE;
            /* Big writes need no copy: one record straight through. */
            if (len >= FLAT_PENDING_CAP)
                return write_record(f, off, p, len, err);
            f->pending_off = off;
        }
        size_t n = MIN(len, FLAT_PENDING_CAP - f->pending_len);
        memcpy(f->pending + f->pending_len, p, n);
        f->pending_len += n;
        off += n;
        p += n;
        len -= n;
        if (f->pending_len == FLAT_PENDING_CAP && !flush_pending(f, err))
            return FALSE;
    }
    return TRUE;
}

static gboolean flat_flush(struct hv_sink *s, GError **err)
{
    struct hv_flat_sink *f = (struct hv_flat_sink *)s;

    return write_header(f, err) && flush_pending(f, err) &&
           f->stream->flush(f->stream, err);
}

struct hv_flat_sink *hv_flat_sink_new(struct hv_sink *stream)
{
    struct hv_flat_sink *f = g_new0(struct hv_flat_sink, 1);

    f->base.write_at = flat_write_at;
    f->base.flush = flat_flush;
    f->base.random_access = TRUE;
    f->stream = stream;
    f->stream_off = stream->next_offset;
    f->pending = g_malloc(FLAT_PENDING_CAP);
    return f;
}

struct hv_sink *hv_flat_sink_base(struct hv_flat_sink *f)
{
    return &f->base;
}

gboolean hv_flat_sink_finish(struct hv_flat_sink *f, GError **err)
{
    uint8_t end[16];

    if (!write_header(f, err) || !flush_pending(f, err))
        return FALSE;
    memset(end, 0xff, sizeof(end)); /* offset -1, size -1 */
    return stream_write(f, end, sizeof(end), err);
}

void hv_flat_sink_free(struct hv_flat_sink *f)
{
    if (!f)
        return;
    g_free(f->pending);
    g_free(f);
}

gboolean hv_flat_is_header(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    static const uint8_t type_ver[16] = {0, 0, 0, 0, 0, 0, 0, FLAT_TYPE,
                                         0, 0, 0, 0, 0, 0, 0, FLAT_VERSION};

    if (len < 32)
        return FALSE;
    /* Signature, NUL padded to 16 bytes, then type 1 (version may grow). */
    return memcmp(b, HV_FLAT_SIGNATURE, strlen(HV_FLAT_SIGNATURE)) == 0 &&
           b[strlen(HV_FLAT_SIGNATURE)] == '\0' &&
           memcmp(b + 16, type_ver, 8) == 0;
}
