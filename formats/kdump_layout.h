/* SPDX-License-Identifier: GPL-2.0-or-later */
/* On-disk structures of the kdump-compressed ("diskdump") format, header
 * version 6, for a 64-bit little-endian guest (x86_64).  Written from the
 * field list in makedumpfile's diskdump_mod.h; offsets are pinned with static
 * asserts because readers in other tools index these bytes directly.
 * Shared by kdump_writer.c and the kdump reader. */
#ifndef HV_KDUMP_LAYOUT_H
#define HV_KDUMP_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kdump_layout.h assumes a little-endian host (it mirrors x86_64 files)"
#endif

#define HV_KDUMP_SIGNATURE     "KDUMP   " /* 8 bytes, no NUL */
#define HV_KDUMP_SIG_LEN       8
#define HV_KDUMP_HEADER_VERSION 6

/* disk_dump_header.status bits that are not compressions. */
#define HV_KDUMP_INCOMPLETE       0x08u
#define HV_KDUMP_EXCLUDED_VMEMMAP 0x10u

/* dump_level bit for "zero pages excluded" (makedumpfile -d 1). */
#define HV_KDUMP_DL_EXCLUDE_ZERO 1

#define HV_KDUMP_UTS_LEN 65

/* Block 0 of the file. */
struct hv_kdump_header {
    char signature[HV_KDUMP_SIG_LEN];    /*   0 "KDUMP   " */
    int32_t header_version;              /*   8 */
    char utsname[6][HV_KDUMP_UTS_LEN];   /*  12 sysname nodename release
                                                version machine domainname */
    uint8_t pad0[6];                     /* 402 struct timeval alignment */
    int64_t tv_sec;                      /* 408 */
    int64_t tv_usec;                     /* 416 */
    uint32_t status;                     /* 424 compression flag (+INCOMPLETE) */
    int32_t block_size;                  /* 428 = page size */
    int32_t sub_hdr_size;                /* 432 in blocks */
    uint32_t bitmap_blocks;              /* 436 both bitmaps together */
    uint32_t max_mapnr;                  /* 440 clamped to 32 bits */
    uint32_t total_ram_blocks;           /* 444 */
    uint32_t device_blocks;              /* 448 */
    uint32_t written_blocks;             /* 452 */
    uint32_t current_cpu;                /* 456 */
    int32_t nr_cpus;                     /* 460 */
};                                       /* 464 */

/* Blocks 1..sub_hdr_size start with this. */
struct hv_kdump_sub_header {
    uint64_t phys_base;          /*   0 */
    int32_t dump_level;          /*   8 */
    int32_t split;               /*  12 */
    uint64_t start_pfn;          /*  16 obsolete 32-bit copy */
    uint64_t end_pfn;            /*  24 obsolete 32-bit copy */
    int64_t offset_vmcoreinfo;   /*  32 file offset */
    uint64_t size_vmcoreinfo;    /*  40 */
    int64_t offset_note;         /*  48 file offset of the ELF note blob */
    uint64_t size_note;          /*  56 */
    int64_t offset_eraseinfo;    /*  64 */
    uint64_t size_eraseinfo;     /*  72 */
    uint64_t start_pfn_64;       /*  80 */
    uint64_t end_pfn_64;         /*  88 */
    uint64_t max_mapnr_64;       /*  96 */
};                               /* 104 */

/* One per page set in the 2nd bitmap, in pfn order. */
struct hv_kdump_page_desc {
    int64_t offset;      /* file offset of the (compressed) data */
    uint32_t size;       /* bytes stored */
    uint32_t flags;      /* HV_KDUMP_ZLIB/LZO/SNAPPY/ZSTD, or 0 = raw */
    uint64_t page_flags; /* unused, 0 */
};

_Static_assert(offsetof(struct hv_kdump_header, utsname) == 12, "utsname");
_Static_assert(offsetof(struct hv_kdump_header, tv_sec) == 408, "timestamp");
_Static_assert(offsetof(struct hv_kdump_header, status) == 424, "status");
_Static_assert(offsetof(struct hv_kdump_header, bitmap_blocks) == 436, "bitmap_blocks");
_Static_assert(offsetof(struct hv_kdump_header, nr_cpus) == 460, "nr_cpus");
_Static_assert(sizeof(struct hv_kdump_header) == 464, "disk_dump_header size");
_Static_assert(offsetof(struct hv_kdump_sub_header, offset_vmcoreinfo) == 32, "vmcoreinfo");
_Static_assert(offsetof(struct hv_kdump_sub_header, max_mapnr_64) == 96, "max_mapnr_64");
_Static_assert(sizeof(struct hv_kdump_sub_header) == 104, "kdump_sub_header size");
_Static_assert(sizeof(struct hv_kdump_page_desc) == 24, "page_desc size");

/* File layout, in blocks of block_size:
 *   0                      disk_dump_header
 *   1 .. sub_hdr_size      kdump_sub_header, then notes, then VMCOREINFO
 *   next bitmap_blocks/2   1st bitmap (pages that exist)
 *   next bitmap_blocks/2   2nd bitmap (pages dumped)
 *   then page_desc array, then page data.
 * Bitmaps: bit (pfn % 8) of byte (pfn / 8), LSB first. */

#endif
