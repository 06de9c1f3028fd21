/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crash-limit=: at most N crash dumps of one domain in a sliding window.  A
 * guest that panics again at every boot (after=restart, or a watchdog
 * outside us) would otherwise fill the spool and, through pruning, push
 * out every other guest's dumps.  Pure bookkeeping, no clock of its own. */
#ifndef HV_DAEMON_RATELIMIT_H
#define HV_DAEMON_RATELIMIT_H

#include <glib.h>
#include <stdint.h>

struct hvd_ratelimit;

/* max_events 0 = no limit.  Remembers at most max_events times for each of
 * at most max_domains domains (the least recently seen domain is forgotten
 * beyond that): bounded memory whatever the domain names. */
struct hvd_ratelimit *hvd_ratelimit_new(unsigned max_events, int64_t window_usec,
                                        unsigned max_domains);
void hvd_ratelimit_free(struct hvd_ratelimit *r);
/* TRUE and counts the event when domain had fewer than max_events in the
 * window ending at now_usec; FALSE (nothing counted) otherwise. */
gboolean hvd_ratelimit_allow(struct hvd_ratelimit *r, const char *domain, int64_t now_usec);

#endif
