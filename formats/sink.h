/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a writer's bytes go.  Writers address bytes by their offset in the
 * final (seekable) file.  A sequential sink accepts only strictly increasing,
 * gap-free offsets (ELF to a pipe); the flattened sink (flat.h) accepts any
 * order and turns it into makedumpfile's flat records on a sequential sink. */
#ifndef HV_SINK_H
#define HV_SINK_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

struct hv_sink {
    gboolean (*write_at)(struct hv_sink *s, uint64_t offset, const void *buf,
                         size_t len, GError **err);
    /* Push out anything buffered (not fsync). */
    gboolean (*flush)(struct hv_sink *s, GError **err);
    gboolean random_access; /* FALSE: offsets must be sequential */
    uint64_t next_offset;   /* sequential sinks: where the next write must go */
    /* Optional: like write_at, for bytes that whoever set the sink up can
     * produce again from ref (a struct hv_page_out's ref): the sink may
     * take them from buf now or fetch them itself later, before its flush
     * returns.  NULL: write_at. */
    gboolean (*write_ref)(struct hv_sink *s, uint64_t offset, const void *buf, size_t len,
                          uint64_t ref, GError **err);
    /* Optional: len zero bytes at offset, for writers' zero runs (ELF's
     * zero pages, most of a lightly used guest; kdump's one stored zero
     * page).  A sink over a file it created may leave a hole instead,
     * which reads back as zeros and costs neither a copy nor a disk write.
     * Same ordering rules as write_at.  NULL: write_at with zero bytes. */
    gboolean (*write_zeros)(struct hv_sink *s, uint64_t offset, uint64_t len, GError **err);
};

static inline gboolean hv_sink_write(struct hv_sink *s, uint64_t off,
                                     const void *buf, size_t len, GError **err)
{
    return s->write_at(s, off, buf, len, err);
}

/* ref 0: no way to fetch the bytes again, write them now. */
static inline gboolean hv_sink_write_ref(struct hv_sink *s, uint64_t off, const void *buf,
                                         size_t len, uint64_t ref, GError **err)
{
    if (ref && s->write_ref)
        return s->write_ref(s, off, buf, len, ref, err);
    return s->write_at(s, off, buf, len, err);
}

/* Writes len zero bytes at off through write_at, 64 KiB at a time: what
 * hv_sink_write_zeros does for a sink without write_zeros, and what a sink
 * with one does for runs it decides to write after all. */
gboolean hv_sink_write_zero_bytes(struct hv_sink *s, uint64_t off, uint64_t len, GError **err);

static inline gboolean hv_sink_write_zeros(struct hv_sink *s, uint64_t off, uint64_t len,
                                           GError **err)
{
    if (s->write_zeros)
        return s->write_zeros(s, off, len, err);
    return hv_sink_write_zero_bytes(s, off, len, err);
}

#endif
