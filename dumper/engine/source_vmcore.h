/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An existing vmcore (ELF or kdump, plain or flattened) as a page source,
 * for `hvdump convert`.  It lives in dumper/ because it composes the
 * formats/ readers with the guest-mem/ source interface. */
#ifndef HV_SOURCE_VMCORE_H
#define HV_SOURCE_VMCORE_H

#include <glib.h>
#include "formats/dump_meta.h"
#include "formats/reader.h"
#include "guest-mem/source.h"

/* Blocks are the dump's RAM ranges; pages the dump left out read as absent.
 * Not thread safe (the pipeline serializes reads). */
struct gm_source *hv_source_vmcore_open(const char *path, GError **err);
/* The open dump, owned by the source. */
struct hv_vmcore *hv_source_vmcore_dump(struct gm_source *s);
/* Carries the dump's metadata over: VMCOREINFO, CPUs, utsname, timestamp,
 * phys_base, and its dump_level when it left pages out.  Pointers in meta
 * stay valid until the source is closed. */
void hv_source_vmcore_meta(struct gm_source *s, struct hv_dump_meta *meta);

#endif
