/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One parser for every size and address a user writes: on the command
 * line (FILE@GPA, --threads aside) and in hvdumpd's configuration. */
#ifndef HV_SIZE_PARSE_H
#define HV_SIZE_PARSE_H

#include <glib.h>
#include <stdint.h>

/* "4096", "0x100000", "512M", "2G", "1T", "64KiB", "10MB": decimal (a
 * leading 0 is still decimal: "010000" is ten thousand, not octal) or 0x
 * hex, then an optional K, M, G or T (1024-based), optionally followed by
 * "i" and/or "B" (decimal numbers only: B is a hex digit).  Nothing else
 * may follow; no sign, no overflow.  Errors: HV_ERROR_INVALID, naming the
 * text and the accepted forms. */
gboolean hv_parse_size(const char *text, uint64_t *out, GError **err);

#endif
