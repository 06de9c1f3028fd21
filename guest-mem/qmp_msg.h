/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One line from a QMP server, parsed and type-checked without any socket:
 * QEMU (or whatever answers on the socket) is not trusted, so every member
 * is checked for its type before use and anything else is a clear error. */
#ifndef GM_QMP_MSG_H
#define GM_QMP_MSG_H

#include <glib.h>
#include <json-glib/json-glib.h>

enum qmp_msg_kind {
    QMP_MSG_GREETING, /* {"QMP": {...}} */
    QMP_MSG_EVENT,    /* {"event": "NAME", ...} */
    QMP_MSG_RETURN,   /* {"return": ANY, "id": N} */
    QMP_MSG_ERROR,    /* {"error": {"class": C, "desc": D}, "id": N} */
};

struct qmp_msg {
    enum qmp_msg_kind kind;
    gboolean has_id;      /* replies: whether "id" was present */
    gint64 id;            /* an integer id */
    char *id_str;         /* a string id (libvirt's "libvirt-N"), else NULL */
    char *event;          /* EVENT: the event name */
    JsonNode *ret;        /* RETURN: the "return" member (owned) */
    char *error_class;    /* ERROR: "class" ("?" when absent) */
    char *error_desc;     /* ERROR: "desc" ("" when absent) */
};

/* Parses one line (no newline needed).  On success fills *m (release it with
 * qmp_msg_clear); otherwise returns FALSE with HV_ERROR_GUEST "not a JSON
 * object: ..." or "malformed QMP reply: ..." and leaves *m cleared. */
gboolean qmp_msg_parse(const char *line, struct qmp_msg *m, GError **err);
void qmp_msg_clear(struct qmp_msg *m);

#endif
