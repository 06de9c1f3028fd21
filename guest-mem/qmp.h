/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A blocking QMP client over a Unix socket.  Replies are matched to
 * commands; asynchronous events that arrive in between (STOP, RESUME,
 * SHUTDOWN, GUEST_PANICKED, ...) are recorded so callers can ask about them.
 * The client doubles as a struct gm_monitor for discovery. */
#ifndef GM_QMP_H
#define GM_QMP_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>
#include "guest-mem/monitor.h"

struct qmp_client;

#define QMP_DEFAULT_TIMEOUT_MS 5000

/* Connects, reads the greeting and negotiates capabilities.  A socket that
 * answers with something else is "not a QMP socket"; one that says nothing
 * within timeout_ms is busy (QEMU serves one client at a time) or not QEMU.
 * Errors: HV_ERROR_PERMISSION (the socket refuses us), HV_ERROR_GUEST
 * (cannot connect, no greeting, not QMP, negotiation failed). */
struct qmp_client *qmp_connect(const char *path, unsigned timeout_ms, GError **err);
void qmp_close(struct qmp_client *c);

/* Runs a command; args may be NULL (not consumed).  Returns the "return"
 * member (caller unrefs) or NULL with err: a QMP error becomes HV_ERROR_GUEST
 * "CMD: DESC (CLASS)" and qmp_last_error_class() says CLASS; a lost
 * connection, a timeout or a malformed reply is HV_ERROR_GUEST too, and so
 * is a misbehaving QEMU: a line over 8 MiB, JSON nested deeper than
 * HV_JSON_MAX_DEPTH, no reply within 60 s or among 100,000 other messages.
 * HV_ERROR_CANCELLED when the cancel flag is set meanwhile. */
JsonNode *qmp_execute(struct qmp_client *c, const char *command, JsonObject *args,
                      GError **err);
const char *qmp_last_error_class(const struct qmp_client *c);
/* query-status's "status" ("running", "paused", ...; g_free), type-checked:
 * a reply without a status string is HV_ERROR_GUEST. */
char *qmp_query_status(struct qmp_client *c, GError **err);
/* human-monitor-command: the HMP output text (g_free).  Errors as
 * qmp_execute.  The monitor's qmp() op adds HV_ERROR_INTERNAL for a command
 * text that is not a QMP command object (ours are literals). */
char *qmp_hmp(struct qmp_client *c, const char *command_line, GError **err);

/* Reads events already waiting on the socket without blocking.
 * Errors: HV_ERROR_GUEST (the connection broke). */
gboolean qmp_poll_events(struct qmp_client *c, GError **err);
/* Whether an event of that name was received since connect (or clear).
 * Only the first 128 kinds of event are remembered (QEMU has fewer). */
gboolean qmp_event_seen(const struct qmp_client *c, const char *name);
void qmp_events_clear(struct qmp_client *c);
/* While *cancel is non-zero, every call that waits for QEMU returns
 * HV_ERROR_CANCELLED within a second.  cancel may be NULL (the default). */
void qmp_set_cancel(struct qmp_client *c, volatile gint *cancel);

/* QEMU's pid from the socket's peer credentials (SO_PEERCRED). */
pid_t qmp_peer_pid(const struct qmp_client *c);
/* The client as a monitor (valid until qmp_close). */
struct gm_monitor *qmp_monitor(struct qmp_client *c);

#endif
