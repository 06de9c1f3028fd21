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
#include <sys/types.h>

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

/* What one client may take.  A peer is any member of the socket's group:
 * without these, one line without a newline grows our memory without end,
 * and idle connections use up our file descriptors (those the dumps need).
 * Root connections have room kept for them past max_total - root_reserve,
 * so that root can always ask while group members flood. */
struct hvd_control_limits {
    size_t max_line;        /* longest request line; a longer one closes the connection */
    unsigned max_per_uid;   /* connections of one non-root uid at once */
    unsigned max_total;     /* connections at once, root's reserve included */
    unsigned root_reserve;  /* of max_total, kept for root */
    unsigned idle_s;        /* a connection with no request for this long is closed */
};
#define HVD_CONTROL_LIMITS_DEFAULT { 65536, 16, 128, 16, 300 }

/* Whether a new connection of uid may be taken, with n_uid connections of
 * that uid and n_total in all open now. */
gboolean hvd_control_admit(const struct hvd_control_limits *l, uid_t uid, unsigned n_uid,
                           unsigned n_total);

struct hvd_control;
/* Listens on path, mode 0660, group `group` when not NULL.  Peers must be
 * root, the daemon's user, or members of the socket's group (SO_PEERCRED
 * and SO_PEERGROUPS: no /proc lookup, no pid-reuse race).  A stale socket
 * there is replaced, but not one that another hvdumpd serves: path.lock is
 * held (flock) while we listen, and a second instance fails with
 * HV_ERROR_EXISTS instead of taking the socket away.  Default limits. */
struct hvd_control *hvd_control_new(const char *path, const char *group,
                                    const struct hvd_control_ops *ops, void *ud,
                                    GError **err);
void hvd_control_free(struct hvd_control *c);
void hvd_control_set_limits(struct hvd_control *c, const struct hvd_control_limits *l);

/* TRUE when a peer with these credentials may use a socket owned by group
 * sock_gid.  groups: the peer process's supplementary groups. */
gboolean hvd_control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                                  uid_t daemon_uid, gid_t sock_gid);

#endif
