/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small reads of guest-physical memory at any alignment (a pointer, a page
 * table entry, utsname), on top of a source's page-granular read(). */
#ifndef GM_PHYS_READ_H
#define GM_PHYS_READ_H

#include <glib.h>
#include <stdint.h>
#include "guest-mem/source.h"

/* TRUE when [gpa, gpa+len) lies inside the source's blocks. */
gboolean gm_phys_present(const struct gm_source *s, uint64_t gpa, uint64_t len);
/* Copies len bytes at gpa into buf; fails (HV_ERROR_GUEST) when any byte is
 * outside the source's RAM or the source says the page is absent. */
gboolean gm_read_phys(struct gm_source *s, uint64_t gpa, void *buf, size_t len,
                      GError **err);
gboolean gm_read_phys_u64(struct gm_source *s, uint64_t gpa, uint64_t *val,
                          GError **err);

#endif
