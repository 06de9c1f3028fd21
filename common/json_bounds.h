/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Limits on JSON text checked before json-glib parses it.  json-glib's
 * parser recurses once per nesting level and has no limit of its own: one
 * line of ~80,000 '[' overflows the stack of whoever parses it (a root
 * daemon, for one).  Every JSON text that comes from outside (QMP replies,
 * control-socket requests and replies) goes through this check first. */
#ifndef HV_JSON_BOUNDS_H
#define HV_JSON_BOUNDS_H

#include <glib.h>
#include <stddef.h>

/* Deepest nesting we accept.  QMP replies nest a handful of levels (query-
 * cpus-fast: return -> array -> object -> props); control requests fewer. */
#define HV_JSON_MAX_DEPTH 32

/* Whether text (len bytes; it need not be NUL-terminated) nests arrays and
 * objects at most max_depth deep.  Brackets inside strings do not count
 * (escapes are followed); the text is not otherwise validated.  One pass,
 * no allocation. */
gboolean hv_json_depth_ok(const char *text, size_t len, unsigned max_depth);

#endif
