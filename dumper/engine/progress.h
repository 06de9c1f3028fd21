/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress reporting: a bar with MB/s and ETA on a TTY, JSON lines for
 * programs, or nothing. */
#ifndef HV_PROGRESS_H
#define HV_PROGRESS_H

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

enum hv_progress_mode { HV_PROGRESS_AUTO, HV_PROGRESS_BAR, HV_PROGRESS_JSON, HV_PROGRESS_NONE };

struct hv_progress;

/* Parses "auto|bar|json|none". */
gboolean hv_progress_mode_parse(const char *s, enum hv_progress_mode *out, GError **err);
/* AUTO resolves to BAR when `out` is a TTY, else NONE.  total in bytes. */
struct hv_progress *hv_progress_new(enum hv_progress_mode mode, FILE *out,
                                    const char *what, uint64_t total_bytes);
/* Thread-safe; rate-limited output (at most ~5 updates a second). */
void hv_progress_update(struct hv_progress *p, uint64_t done_bytes, uint64_t out_bytes);
/* Final line ("done" or the error message). */
void hv_progress_finish(struct hv_progress *p, gboolean ok);
void hv_progress_free(struct hv_progress *p);

#endif
