/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ELF note blob of a vmcore (used as PT_NOTE in ELF output and as the
 * note area of kdump output), in QEMU's order:
 *   NT_PRSTATUS "CORE" per vCPU, "QEMU" CPU-state note per vCPU,
 *   "VMCOREINFO" (when known), "HVDUMP" (producer and live flag).
 * Building (writers) and parsing (readers) live together so they agree. */
#ifndef HV_NOTES_H
#define HV_NOTES_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include "formats/dump_meta.h"
#include "common/cpu_state.h"

#define HV_NT_PRSTATUS 1u
#define HV_NT_QEMU     0u
#define HV_NT_VMCOREINFO 0u
#define HV_NT_HVDUMP   0x4856u

#define HV_PRSTATUS_X86_64_SIZE   336 /* sizeof(struct elf_prstatus) */
#define HV_PRSTATUS_PID_OFFSET     32 /* pr_pid */
#define HV_PRSTATUS_REG_OFFSET    112 /* pr_reg: 27 u64, user_regs_struct */
#define HV_PRSTATUS_NREGS          27
#define HV_QEMU_CPUSTATE_SIZE     440 /* QEMUCPUState with kernel_gs_base */
#define HV_QEMU_CPUSTATE_MIN_SIZE 432 /* older QEMU: no kernel_gs_base */
#define HV_QEMU_CPUSTATE_VERSION    1

/* ---- building ---- */

/* Every CPU of meta has an architecture whose notes we can lay out (today
 * x86_64); else HV_ERROR_INVALID.  Writers check this before building:
 * hv_notes_size() and hv_notes_build() abort on a meta it refuses. */
gboolean hv_notes_check(const struct hv_dump_meta *meta, GError **err);
/* Largest note blob a reader accepts, so the largest a writer makes:
 * hv_notes_check() refuses more CPUs than HV_MAX_CPUS or notes beyond it. */
#define HV_NOTES_MAX_BYTES (64u << 20)
/* Exact size of the blob hv_notes_build() produces for meta.  The CPU notes
 * of each CPU take the layout of its arch. */
size_t hv_notes_size(const struct hv_dump_meta *meta);
/* Builds the blob into a new g_malloc'd buffer (free with g_free);
 * *len_out = hv_notes_size(meta). */
uint8_t *hv_notes_build(const struct hv_dump_meta *meta, size_t *len_out);

/* ---- parsing ---- */

/* One note as the iterator finds it in a blob, name and desc pointing into
 * the blob (nothing copied).  name is not NUL terminated: compare with
 * hv_note_is(). */
struct hv_blob_note {
    const char *name;
    size_t name_len;      /* without the trailing NUL */
    uint32_t type;
    const uint8_t *desc;
    size_t desc_len;
};

struct hv_note_iter {
    const uint8_t *pos;
    const uint8_t *end;
};

void hv_note_iter_init(struct hv_note_iter *it, const uint8_t *blob, size_t len);
/* 1: *out filled; 0: end of blob; -1: malformed (err set, HV_ERROR_CORRUPT).
 * Trailing zero padding after the last note counts as the end. */
int hv_note_iter_next(struct hv_note_iter *it, struct hv_blob_note *out, GError **err);
gboolean hv_note_is(const struct hv_blob_note *n, const char *name, uint32_t type);

/* Register state of one x86_64 NT_PRSTATUS desc into cpu (arch =
 * HV_ARCH_X86_64; general registers, rip, rflags, segment selectors, fs/gs
 * base; index = pr_pid - 1).  Other fields of cpu are left alone.  FALSE
 * when desc is too short. */
gboolean hv_notes_parse_prstatus_x86_64(const uint8_t *desc, size_t len,
                                        struct hv_cpu_state *cpu);
/* An x86_64 "QEMU" CPU-state desc into cpu (arch = HV_ARCH_X86_64;
 * registers, all segments with limits and flags, cr0..cr4, kernel_gs_base
 * when present).  index is left alone.  FALSE when version/size do not
 * match. */
gboolean hv_notes_parse_qemu_cpu_x86_64(const uint8_t *desc, size_t len,
                                        struct hv_cpu_state *cpu);

/* Everything a reader wants from the blob.  Pointers point into the blob. */
struct hv_notes_info {
    struct hv_cpu_state *cpus;  /* g_new; n_cpus entries, index order of notes */
    size_t n_cpus;              /* number of NT_PRSTATUS notes */
    gboolean have_qemu_cpu;     /* QEMU notes merged in (k-th to k-th) */
    const uint8_t *vmcoreinfo;  /* text, or NULL */
    size_t vmcoreinfo_len;
    gboolean have_hvdump;       /* an HVDUMP note was present */
    gboolean live;              /* its live=1 */
    gboolean vmcoreinfo_untrusted; /* its vmcoreinfo=untrusted */
    char *producer;             /* its producer=..., g_malloc'd, or NULL */
};

/* Parses a whole blob.  Unknown notes are skipped.  CPU notes are read with
 * the x86_64 layouts, the only ones we know; each CPU comes back tagged. */
gboolean hv_notes_parse(const uint8_t *blob, size_t len,
                        struct hv_notes_info *out, GError **err);
void hv_notes_info_clear(struct hv_notes_info *info);

#endif
