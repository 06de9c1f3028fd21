/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIGINT/SIGTERM/SIGHUP cancel the running dump: the handler only sets a
 * flag that the pipeline polls, so cleanup (removing the partial file,
 * resuming the guest) runs normally.  SIGPIPE is ignored so that a reader
 * going away shows up as EPIPE (HV_ERROR_PIPE) instead of killing us. */
#ifndef HV_SIGNALS_H
#define HV_SIGNALS_H

#include <glib.h>

/* Installs the handlers; *cancel is set to 1 by any of those signals.
 * cancel must stay valid while the handlers are installed. */
void hv_signals_install(volatile gint *cancel);
/* The last cancelling signal received, 0 if none. */
int hv_signals_last(void);

#endif
