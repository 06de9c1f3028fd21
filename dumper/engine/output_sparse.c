/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Zero runs to holes (output_sparse.h). */
#include "dumper/engine/output_sparse.h"

/* Zero runs at least this long become holes; shorter ones are written (a
 * hole per stray zero page would fragment the file and cost a syscall
 * each). */
#define HOLE_MIN (64u << 10)

struct hv_output_sparse {
    struct hv_sink sink;  /* first: hv_sink * casts back to us */
    struct hv_sink *below;
    /* The pending zero run, [zero_off, +zero_len), right after what went
     * below last; written out only when shorter than HOLE_MIN. */
    uint64_t zero_off, zero_len;
};

/* Settles the pending zero run: written when short, else left as a
 * hole. */
static gboolean settle_zeros(struct hv_output_sparse *sp, GError **err)
{
    uint64_t off = sp->zero_off, len = sp->zero_len;
    sp->zero_len = 0;
    if (len >= HOLE_MIN)
        return TRUE;
    return hv_sink_write_zero_bytes(sp->below, off, len, err);
}

static gboolean sparse_write_at(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                                GError **err)
{
    struct hv_output_sparse *sp = (struct hv_output_sparse *)s;
    if (sp->zero_len && !settle_zeros(sp, err))
        return FALSE;
    return hv_sink_write(sp->below, off, data, len, err);
}

static gboolean sparse_write_zeros(struct hv_sink *s, uint64_t off, uint64_t len, GError **err)
{
    struct hv_output_sparse *sp = (struct hv_output_sparse *)s;
    if (len == 0)
        return TRUE;
    /* Not contiguous with the pending run: that one ends here. */
    if (sp->zero_len && off != sp->zero_off + sp->zero_len && !settle_zeros(sp, err))
        return FALSE;
    if (!sp->zero_len)
        sp->zero_off = off;
    sp->zero_len += len;
    return TRUE;
}

static gboolean sparse_flush(struct hv_sink *s, GError **err)
{
    struct hv_output_sparse *sp = (struct hv_output_sparse *)s;
    return (!sp->zero_len || settle_zeros(sp, err)) && sp->below->flush(sp->below, err);
}

struct hv_output_sparse *hv_output_sparse_new(struct hv_sink *below)
{
    struct hv_output_sparse *sp = g_new0(struct hv_output_sparse, 1);
    sp->below = below;
    sp->sink.write_at = sparse_write_at;
    sp->sink.write_zeros = sparse_write_zeros;
    sp->sink.flush = sparse_flush;
    sp->sink.random_access = below->random_access;
    return sp;
}

struct hv_sink *hv_output_sparse_sink(struct hv_output_sparse *sp)
{
    return &sp->sink;
}

void hv_output_sparse_free(struct hv_output_sparse *sp)
{
    g_free(sp);
}
