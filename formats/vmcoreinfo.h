/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VMCOREINFO text: lines "KEY=VALUE".  SYMBOL(x) and NUMBER/LENGTH values
 * are hex resp. decimal as the kernel prints them. */
#ifndef HV_VMCOREINFO_H
#define HV_VMCOREINFO_H

#include <glib.h>
#include <stdint.h>

/* Value of KEY (e.g. "OSRELEASE", "SYMBOL(_stext)") as a new string, or NULL. */
char *hv_vmcoreinfo_get(const uint8_t *text, size_t len, const char *key);
/* SYMBOL(name): hex address. */
gboolean hv_vmcoreinfo_symbol(const uint8_t *text, size_t len, const char *name, uint64_t *out);
/* NUMBER(name): decimal (may be negative; returned as two's complement). */
gboolean hv_vmcoreinfo_number(const uint8_t *text, size_t len, const char *name, uint64_t *out);
/* OFFSET(name) / SIZE(name) / LENGTH(name): decimal. */
gboolean hv_vmcoreinfo_decimal(const uint8_t *text, size_t len, const char *key, uint64_t *out);

#endif
