/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What reader.c shares with the per-format readers (reader_elf.c,
 * reader_kdump.c).  Each format exports one ops table; reader.c never
 * switches on the format. */
#ifndef HV_READER_PRIV_H
#define HV_READER_PRIV_H

#include "formats/bytesrc.h"
#include "formats/notes.h"
#include "formats/reader.h"

/* Bytes the probe functions get from the start of the file. */
#define HV_READER_PROBE_LEN 64
/* Note blobs above this are taken as corrupt rather than allocated (the
 * writers refuse to make one: notes.h). */
#define HV_READER_MAX_NOTES HV_NOTES_MAX_BYTES

struct hv_vmcore_ops {
    const char *name;
    /* TRUE when head (len bytes, possibly fewer than PROBE_LEN) looks like
     * this format. */
    gboolean (*probe)(const uint8_t *head, size_t len);
    /* Reads and validates the structure; fills d->info (except the fields
     * reader.c fills: format, flattened, notes, cpus, vmcoreinfo) and
     * d->ranges; sets d->priv. */
    gboolean (*open)(struct hv_vmcore *d, GError **err);
    enum hv_read_status (*read_page)(struct hv_vmcore *d, uint64_t pfn,
                                     void *buf, GError **err);
    /* hv_vmcore_next_data_pfn(); NULL: every present page may hold data. */
    uint64_t (*next_data_pfn)(struct hv_vmcore *d, uint64_t pfn);
    /* Structural checks too slow or too picky for open(); page data is
     * checked by reader.c reading every page.  May be NULL. */
    gboolean (*verify)(struct hv_vmcore *d, GError **err);
    void (*cleanup)(struct hv_vmcore *d);
};

struct hv_vmcore {
    const struct hv_vmcore_ops *ops;
    struct hv_bytesrc *src;
    struct hv_vmcore_facts info;
    GArray *ranges;   /* struct hv_range, sorted, disjoint, page aligned */
    GArray *notes;    /* struct hv_vmcore_note (reader.h) */
    GPtrArray *blobs; /* note blobs the notes point into */
    GArray *cpus;     /* struct hv_cpu_state */
    uint8_t *vmcoreinfo_own; /* owned copy when it came outside the notes */
    char *producer;          /* from the HVDUMP note */
    void *priv;
};

extern const struct hv_vmcore_ops hv_vmcore_elf_ops;
extern const struct hv_vmcore_ops hv_vmcore_kdump_ops;

/* Parses a note blob (takes ownership of blob, a g_malloc'd buffer) and
 * appends its notes, CPUs, VMCOREINFO and HVDUMP flags to d.  May be called
 * once per PT_NOTE segment. */
gboolean hv_reader_add_notes(struct hv_vmcore *d, uint8_t *blob, size_t len,
                             GError **err);
/* Sets d's VMCOREINFO text from a copy of text (kdump's separate area). */
void hv_reader_set_vmcoreinfo(struct hv_vmcore *d, const uint8_t *text, size_t len);

/* Appends a page-aligned range, merging with the last one when they touch
 * or overlap.  Ranges must come in increasing start order. */
void hv_reader_add_range(struct hv_vmcore *d, uint64_t start, uint64_t end);

/* Sets an HV_ERROR_CORRUPT error with a formatted message; returns FALSE. */
gboolean hv_reader_corrupt(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
