/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump --daemon SOCKET dump DOMAIN [--format F] [--path P] [--no-wait]
 * hvdump --daemon SOCKET query
 * hvdump --daemon SOCKET cancel ID|DOMAIN
 * A client of hvdumpd's control socket (protocol in daemon_control.h). */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "dumper/engine/signals.h"
#include "common/hv_error.h"
#include "common/json_bounds.h"
#include "common/line_reader.h"

/* query-dumps lists at most 64 finished jobs and the running ones: far
 * below this. */
#define REPLY_MAX_LINE (4u << 20)

struct client {
    GSocketConnection *conn;
    struct hv_line_reader *in;
    GOutputStream *out;
};

static gboolean client_open(struct client *c, const char *path, GError **err)
{
    g_autoptr(GSocketClient) sc = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    c->conn = g_socket_client_connect(sc, G_SOCKET_CONNECTABLE(addr), NULL, err);
    if (!c->conn)
        return FALSE;
    c->in = hv_line_reader_new(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)),
                               REPLY_MAX_LINE);
    c->out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));
    return TRUE;
}

static void client_close(struct client *c)
{
    g_clear_pointer(&c->in, hv_line_reader_free);
    if (c->conn)
        g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_clear_object(&c->conn);
}

/* A string member of o, or dflt when o is NULL or it is absent or not a
 * string. */
static const char *member_string(JsonObject *o, const char *name, const char *dflt)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return dflt;
    return json_node_get_string(n);
}

/* Sends {"execute":cmd,"arguments":args}; returns the "return" node (owned
 * by *parser) or NULL with err "CLASS: desc". */
static JsonNode *call(struct client *c, const char *cmd, JsonObject *args, JsonParser **parser,
                      GError **err)
{
    g_autoptr(JsonObject) req = json_object_new();
    json_object_set_string_member(req, "execute", cmd);
    if (args)
        json_object_set_object_member(req, "arguments", json_object_ref(args));
    g_autoptr(JsonNode) rn = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(rn, req);
    g_autofree char *line = json_to_string(rn, FALSE);
    if (!g_output_stream_write_all(c->out, line, strlen(line), NULL, NULL, err) ||
        !g_output_stream_write_all(c->out, "\n", 1, NULL, NULL, err))
        return NULL;
    /* Whatever listens on the socket path answers: bounded, like any peer. */
    size_t len = 0;
    GError *lerr = NULL;
    g_autofree char *reply = hv_line_reader_read(c->in, &len, NULL, &lerr);
    if (!reply) {
        if (lerr)
            g_propagate_error(err, lerr);
        else
            g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "hvdumpd closed the connection");
        return NULL;
    }
    if (!g_utf8_validate(reply, (gssize)len, NULL) ||
        !hv_json_depth_ok(reply, len, HV_JSON_MAX_DEPTH)) {
        g_set_error(err, HV_ERROR, HV_ERROR_FAILED, "malformed reply from the control socket");
        return NULL;
    }
    *parser = json_parser_new();
    if (!json_parser_load_from_data(*parser, reply, -1, err))
        return NULL;
    JsonNode *root = json_parser_get_root(*parser);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (o && json_object_has_member(o, "return"))
        return json_object_get_member(o, "return");
    /* Members are type-checked: the typed getters would print criticals. */
    JsonNode *en = o ? json_object_get_member(o, "error") : NULL;
    JsonObject *e = en && JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;
    const char *cls = member_string(e, "class", "?");
    g_set_error(err, HV_ERROR, strcmp(cls, "PermissionDenied") == 0 ? HV_ERROR_PERMISSION
                                                                   : HV_ERROR_FAILED,
                "%s: %s", cls, e ? member_string(e, "desc", "?") : "malformed reply");
    return NULL;
}

/* The job with this id in a query-dumps reply. */
static JsonObject *find_job(JsonNode *list, gint64 id)
{
    if (!list || !JSON_NODE_HOLDS_ARRAY(list))
        return NULL;
    JsonArray *a = json_node_get_array(list);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *j = json_array_get_object_element(a, i);
        if (j && json_object_get_int_member_with_default(j, "id", 0) == id)
            return j;
    }
    return NULL;
}

static int wait_for(struct client *c, gint64 id)
{
    volatile gint cancel = 0;
    gboolean cancel_sent = FALSE;
    hv_signals_install(&cancel);
    for (;;) {
        g_autoptr(JsonParser) p = NULL;
        g_autoptr(GError) err = NULL;
        if (g_atomic_int_get(&cancel) && !cancel_sent) {
            g_autoptr(JsonParser) cp = NULL;
            g_autoptr(JsonObject) a = json_object_new();
            json_object_set_int_member(a, "id", id);
            call(c, "cancel", a, &cp, NULL);
            cancel_sent = TRUE;
        }
        JsonObject *j = find_job(call(c, "query-dumps", NULL, &p, &err), id);
        if (!j) {
            hv_cli_error("daemon", "%s", err ? err->message : "the dump vanished from hvdumpd");
            return HV_EXIT_FAILURE;
        }
        const char *st = json_object_get_string_member_with_default(j, "status", "?");
        if (strcmp(st, "running") != 0) {
            if (strcmp(st, "completed") == 0) {
                printf("%s\n", json_object_get_string_member_with_default(j, "path", ""));
                return HV_EXIT_OK;
            }
            hv_cli_error("daemon", "dump %s: %s", st,
                         json_object_get_string_member_with_default(j, "error", "?"));
            return strcmp(st, "cancelled") == 0 ? HV_EXIT_CANCELLED : HV_EXIT_FAILURE;
        }
        g_usleep(300 * 1000);
    }
}

int hv_cli_daemon_client(int argc, char **argv)
{
    g_autofree char *format = NULL, *path = NULL;
    gboolean no_wait = FALSE;
    GOptionEntry entries[] = {
        { "format", 0, 0, G_OPTION_ARG_STRING, &format, "dump format (default: the daemon's)", "F" },
        { "path", 0, 0, G_OPTION_ARG_STRING, &path, "file name relative inside the spool", "P" },
        { "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "print the job and return at once", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "SOCKET dump DOMAIN | SOCKET query | SOCKET cancel ID|DOMAIN - talk to hvdumpd");
    g_autoptr(GError) err = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        hv_cli_error("daemon", "%s", err->message);
        return HV_EXIT_USAGE;
    }
    const char *sub = argc > 2 ? argv[2] : NULL;
    gboolean ok_args = sub && ((strcmp(sub, "dump") == 0 && argc == 4) ||
                               (strcmp(sub, "query") == 0 && argc == 3) ||
                               (strcmp(sub, "cancel") == 0 && argc == 4));
    if (!ok_args) {
        hv_cli_error("daemon", "usage: hvdump --daemon SOCKET dump DOMAIN [--format F] "
                               "[--path P] [--no-wait] | query | cancel ID|DOMAIN");
        return HV_EXIT_USAGE;
    }
    struct client c = { 0 };
    if (!client_open(&c, argv[1], &err)) {
        hv_cli_error("daemon", "cannot connect to %s: %s", argv[1], err->message);
        return HV_EXIT_FAILURE;
    }
    g_autoptr(JsonParser) p = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    int rc = HV_EXIT_OK;
    if (strcmp(sub, "query") == 0) {
        JsonNode *r = call(&c, "query-dumps", NULL, &p, &err);
        if (r) {
            g_autofree char *txt = json_to_string(r, TRUE);
            printf("%s\n", txt);
        }
    } else if (strcmp(sub, "cancel") == 0) {
        gint64 id = g_ascii_strtoll(argv[3], NULL, 10);
        if (id > 0)
            json_object_set_int_member(args, "id", id);
        else
            json_object_set_string_member(args, "domain", argv[3]);
        call(&c, "cancel", args, &p, &err);
    } else {
        json_object_set_string_member(args, "domain", argv[3]);
        if (format)
            json_object_set_string_member(args, "format", format);
        if (path)
            json_object_set_string_member(args, "path", path);
        JsonNode *r = call(&c, "dump", args, &p, &err);
        if (r && JSON_NODE_HOLDS_OBJECT(r)) {
            JsonObject *j = json_node_get_object(r);
            gint64 id = json_object_get_int_member_with_default(j, "id", 0);
            if (no_wait)
                printf("%" G_GINT64_FORMAT " %s\n", id,
                       json_object_get_string_member_with_default(j, "path", ""));
            else
                rc = wait_for(&c, id);
        }
    }
    if (err) {
        hv_cli_error("daemon", "%s", err->message);
        rc = HV_EXIT_FAILURE;
    }
    client_close(&c);
    return rc;
}
