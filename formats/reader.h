/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading vmcores: ELF (reader_elf.c) and kdump (reader_kdump.c), either
 * plain or flattened.  Used by `hvdump info|verify|convert` and the tests. */
#ifndef HV_READER_H
#define HV_READER_H

#include <glib.h>
#include <stdint.h>
#include "formats/dump_meta.h"
#include "formats/writer.h"

enum hv_dump_format { HV_FORMAT_ELF, HV_FORMAT_KDUMP };

/* One note of an opened vmcore, as `hvdump info` lists it: the name copied
 * (truncated to 31 bytes), the desc pointing into the vmcore's note blob. */
struct hv_vmcore_note {
    char name[32];
    uint32_t type;
    const uint8_t *desc; /* owned by the vmcore */
    uint32_t desc_size;
};

struct hv_vmcore_facts {
    enum hv_dump_format format;
    gboolean flattened;
    uint32_t compression;   /* kdump header status compression bits, 0 for ELF */
    uint32_t page_size;
    uint64_t max_pfn;       /* one past the highest pfn described */
    uint64_t pages_present; /* ELF: pages in RAM PT_LOADs; kdump: 1st bitmap */
    uint64_t pages_dumped;  /* ELF: same; kdump: 2nd bitmap */
    int dump_level;         /* kdump sub-header, -1 for ELF */
    int header_version;     /* kdump, 0 for ELF */
    uint64_t phys_base;     /* kdump sub-header, else 0 */
    struct hv_utsname uts;  /* kdump header, zeroed for ELF */
    int64_t timestamp_sec;
    int64_t timestamp_usec;
    size_t n_notes;
    const struct hv_vmcore_note *notes;
    size_t n_cpus;          /* parsed from NT_PRSTATUS + QEMU notes */
    const struct hv_cpu_state *cpus;
    const uint8_t *vmcoreinfo; /* VMCOREINFO text or NULL */
    size_t vmcoreinfo_len;
    /* ELF only: kexec-style virtual addresses (PT_LOAD p_vaddr) were set. */
    gboolean has_vaddrs;
    /* From an "HVDUMP" note, when present (hvdump wrote the vmcore). */
    gboolean have_hvdump;
    gboolean live;          /* the guest ran while it was dumped */
    gboolean vmcoreinfo_untrusted; /* VMCOREINFO not confirmed (maybe forged) */
    const char *producer;   /* producer=... or NULL; owned by the dump */
};

/* A vmcore opened for reading (struct hv_dump_meta is what writers get). */
struct hv_vmcore;

/* Opens and validates the structure (headers, notes, bitmaps, segment table)
 * without reading page data.  Errors: HV_ERROR_IO, HV_ERROR_PERMISSION
 * (cannot open), HV_ERROR_CORRUPT (malformed or truncated), HV_ERROR_UNSUPPORTED
 * (a valid dump we do not read: another ELF class or machine, page size). */
struct hv_vmcore *hv_vmcore_open(const char *path, GError **err);
const struct hv_vmcore_facts *hv_vmcore_facts(struct hv_vmcore *d);
/* The guest-physical RAM ranges (ELF: the RAM PT_LOADs, not the kernel-text
 * alias; kdump: runs of the 1st bitmap), sorted. */
const struct hv_range *hv_vmcore_ranges(struct hv_vmcore *d, size_t *n);

enum hv_read_status { HV_READ_ERROR = -1, HV_READ_OK = 0, HV_READ_ABSENT = 1 };
/* Reads page pfn into buf (page_size bytes), decompressing.  ABSENT: the
 * pfn is outside every range or not dumped (2nd bitmap clear); buf zeroed.
 * Errors (HV_READ_ERROR): HV_ERROR_IO, HV_ERROR_CORRUPT (bad descriptor or
 * data that does not decompress), HV_ERROR_UNSUPPORTED (a compression we
 * have no codec for), HV_ERROR_INTERNAL. */
enum hv_read_status hv_vmcore_read_page(struct hv_vmcore *d, uint64_t pfn,
                                        void *buf, GError **err);
/* The first pfn >= pfn whose page may hold data stored in the file, or
 * UINT64_MAX when there is none.  Pages of hv_vmcore_ranges() from pfn up to
 * the answer read as present (HV_READ_OK) zero pages without touching the
 * file: ELF's p_memsz tail past p_filesz, which a damaged or hostile header
 * can make terabytes long.  Callers that scan every page skip them, counting
 * them arithmetically.  kdump: pfn itself (every present page is stored). */
uint64_t hv_vmcore_next_data_pfn(struct hv_vmcore *d, uint64_t pfn);
/* Checks every structure and decompresses every page; the first problem is
 * the error (the codes of hv_vmcore_read_page).  progress_cb may be NULL. */
gboolean hv_vmcore_verify(struct hv_vmcore *d, void (*progress_cb)(uint64_t done, uint64_t total, void *ud),
                          void *ud, GError **err);
void hv_vmcore_close(struct hv_vmcore *d);

#endif
