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
};

static inline gboolean hv_sink_write(struct hv_sink *s, uint64_t off,
                                     const void *buf, size_t len, GError **err)
{
    return s->write_at(s, off, buf, len, err);
}

#endif
