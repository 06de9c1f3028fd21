/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's control socket: a Unix stream socket, one JSON object per line
 * each way, in QMP's shape:
 *
 *   -> {"execute":"dump","arguments":{"domain":"vm1","format":"elf","path":"x/y.elf"}}
 *   <- {"return":{"id":3,"path":"/var/spool/hvdump/x/y.elf"}}
 *   -> {"execute":"query-dumps"}            <- {"return":[{...},...]}
 *   -> {"execute":"cancel","arguments":{"id":3}}   (or {"domain":"vm1"})
 *   <- {"error":{"class":"CommandNotFound","desc":"..."}}
 *
 * An "id" member in a request is echoed in its reply.  Errors never close
 * the connection, except refusing an unauthorised peer. */
#ifndef HV_DAEMON_CONTROL_H
#define HV_DAEMON_CONTROL_H

#include <glib.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* Error classes in replies. */
#define HVD_ERR_GENERIC "GenericError"
#define HVD_ERR_NOT_FOUND "CommandNotFound"
#define HVD_ERR_NO_DOMAIN "DeviceNotFound"
#define HVD_ERR_BUSY "Busy"
#define HVD_ERR_DENIED "PermissionDenied"

/* What the commands do; each returns the "return" value, or NULL and sets
 * *err_class (one of the above) and err. */
struct hvd_control_ops {
    JsonNode *(*dump)(void *ud, const char *domain, const char *format, const char *path,
                      const char **err_class, GError **err);
    JsonNode *(*query_dumps)(void *ud, const char **err_class, GError **err);
    JsonNode *(*cancel)(void *ud, guint id, const char *domain, const char **err_class,
                        GError **err);
};

/* One request line to one reply line (without the newline). */
char *hvd_control_handle_line(const struct hvd_control_ops *ops, void *ud, const char *line);

/* An error reply line. */
char *hvd_control_error_line(const char *cls, const char *desc);

struct hvd_control;
/* Listens on path (a stale socket there is replaced), mode 0660, group
 * `group` when not NULL.  Peers must be root, the daemon's user, or members
 * of the socket's group (SO_PEERCRED). */
struct hvd_control *hvd_control_new(const char *path, const char *group,
                                    const struct hvd_control_ops *ops, void *ud,
                                    GError **err);
void hvd_control_free(struct hvd_control *c);

/* TRUE when a peer with these credentials may use a socket owned by group
 * sock_gid.  groups: the peer process's supplementary groups. */
gboolean hvd_control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                                  uid_t daemon_uid, gid_t sock_gid);

#endif
