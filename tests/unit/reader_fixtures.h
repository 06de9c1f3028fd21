/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small vmcores for the reader tests: hand-built ones (no writer involved)
 * and ones produced by the real writers from a known page pattern. */
#ifndef HV_TEST_READER_FIXTURES_H
#define HV_TEST_READER_FIXTURES_H

#include <glib.h>
#include "formats/codec.h"
#include "formats/writer.h"

#define FX_PS 4096u

/* The RAM layout of written fixtures. */
extern const struct hv_range fx_ranges[];
extern const size_t fx_n_ranges;

enum fx_page_kind { FX_ZERO, FX_PATTERN, FX_NOISE };
enum fx_page_kind fx_page_kind(uint64_t pfn);
/* The expected content of pfn in written fixtures. */
void fx_page(uint64_t pfn, uint8_t *buf);
/* The metadata written fixtures carry (2 CPUs, VMCOREINFO, uts, vaddrs, live). */
const struct hv_dump_meta *fx_meta(void);

/* A dump produced by a writer; codec used only for kdump. */
GBytes *fx_written(const struct hv_writer_ops *ops, enum hv_codec_id codec,
                   gboolean flat, gboolean keep_zero);

/* Hand-built ELF: loads [0,0x3000) with filesz 0x2000, [0x10000,0x12000),
 * and a kernel-text alias of 0x10000 whose file bytes are 0xEE.  xnum: use
 * PN_XNUM numbering. */
GBytes *fx_elf_handmade(gboolean xnum);
/* Hand-built kdump of the given header version (5 or 6): max_mapnr 40, 1st
 * bitmap pfns 0..7 and 32..39, 2nd bitmap 0,1,2,33,39; pfn 0 raw 0x11,
 * 1 zlib 0x22, 2 shares pfn 0's data, 33 zstd 0x33, 39 raw 0x44. */
GBytes *fx_kdump_handmade(int version);
/* The same bytes as plain, as a flat file: shuffled records, one garbage
 * record later overwritten.  seed picks the shuffle. */
GBytes *fx_flatten(GBytes *plain, guint32 seed);

/* Writes b to a new temporary file; returns its path (g_free, unlink). */
char *fx_temp_file(GBytes *b);

#endif
