/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest page size hvdump works in.  x86_64's base page is the only one
 * so far: QEMU sources and raw images are cut into it, and ELF vmcores,
 * which record no page size, are read in it.  A second architecture with
 * other pages (aarch64's 16 or 64 KiB) makes this a per-arch value. */
#ifndef HV_PAGE_H
#define HV_PAGE_H

#define HV_PAGE_SIZE 4096u

#endif
