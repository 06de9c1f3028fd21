/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stopping a guest over QMP for a consistent dump, and letting it go again.
 * Only what we stopped is resumed: a guest that was already paused (by the
 * user, a debugger, or after a panic with -no-shutdown) stays as it was. */
#ifndef HV_PAUSE_H
#define HV_PAUSE_H

#include <glib.h>
#include "guest-mem/qmp.h"

struct hv_pause {
    struct qmp_client *qmp; /* borrowed */
    gboolean we_paused;
    char *status_before;    /* QMP query-status "status", e.g. "running" */
    /* Optional, set by the caller: called just before `stop` is sent to a
     * running guest (the guardian is armed there). */
    void (*before_stop)(void *ud);
    void *before_stop_ud;
};

/* Asks query-status; sends `stop` only when the guest runs. */
gboolean hv_pause_begin(struct hv_pause *p, struct qmp_client *qmp, GError **err);
/* Sends `cont` only when hv_pause_begin stopped the guest.  Safe to call
 * again (does nothing) and on a zeroed struct. */
gboolean hv_pause_end(struct hv_pause *p, GError **err);
void hv_pause_clear(struct hv_pause *p);

#endif
