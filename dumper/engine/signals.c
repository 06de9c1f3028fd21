/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signal flags: the only global mutable state hvdump has. */
#include "dumper/engine/signals.h"

#include <signal.h>
#include <string.h>

static volatile gint *cancel_flag;
static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
    last_signal = sig;
    if (cancel_flag)
        g_atomic_int_set(cancel_flag, 1);
}

void hv_signals_install(volatile gint *cancel)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    cancel_flag = cancel;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking read/write returns EINTR, which our loops
     * retry, and the cancel flag is seen at the next batch. */
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int hv_signals_last(void)
{
    return last_signal;
}
