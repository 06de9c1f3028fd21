/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One request line on hvdumpd's control socket (dumper/daemon_control.c)
 * into one reply line.  The commands are stubs that succeed or fail by
 * their arguments, so both reply shapes are built; every reply must be one
 * line of valid JSON. */
#include "dumper/daemon/daemon_control.h"
#include "common/hv_error.h"
#include "fuzz_common.h"

static JsonNode *stub_dump(void *ud, const char *domain, const char *format, const char *path,
                           const char **err_class, GError **err)
{
    (void)ud;
    (void)format;
    if (strlen(domain) % 2) {
        *err_class = HVD_ERR_NO_DOMAIN;
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "no domain %s", domain);
        return NULL;
    }
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "id", 1);
    json_object_set_string_member(o, "path", path ? path : domain);
    return json_node_init_object(json_node_alloc(), o);
}

static JsonNode *stub_query(void *ud, const char **err_class, GError **err)
{
    (void)ud;
    (void)err_class;
    (void)err;
    return json_node_init_array(json_node_alloc(), json_array_new());
}

static JsonNode *stub_cancel(void *ud, guint id, const char *domain, const char **err_class,
                             GError **err)
{
    (void)ud;
    (void)domain;
    if (id == 7) {
        *err_class = HVD_ERR_BUSY;
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "busy");
        return NULL;
    }
    return json_node_init_object(json_node_alloc(), json_object_new());
}

static const struct hvd_control_ops stub_ops = { stub_dump, stub_query, stub_cancel };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_cstring(data, size);
    char *reply = hvd_control_handle_line(&stub_ops, NULL, line);

    if (!reply || strchr(reply, '\n'))
        abort();
    JsonNode *n = json_from_string(reply, NULL);
    if (!n || !JSON_NODE_HOLDS_OBJECT(n))
        abort();
    json_node_unref(n);
    g_free(reply);
    g_free(line);
    return 0;
}
