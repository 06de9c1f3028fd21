/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sidecar hvdumpd writes next to a dump carries strings from the guest
 * (kernel release, panic message).  Input: the two strings, split at the
 * first NUL.  The sidecar must come out as valid UTF-8 JSON that parses,
 * with no control character in either string. */
#include "dumper/daemon/daemon_sidecar.h"
#include "fuzz_common.h"

#include <json-glib/json-glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        abort();
    for (const char *p = json_node_get_string(n); *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    char *release = g_strndup((const char *)data, nul ? (size_t)(nul - data) : size);
    char *panic = nul ? fuzz_cstring(nul + 1, size - (size_t)(nul - data) - 1) : g_strdup("");
    /* The dump is the scratch file; the sidecar sits next to it. */
    const char *dump = fuzz_temp_file((const uint8_t *)"dump", 4);
    char *sc = g_strconcat(dump, ".json", NULL);
    struct hvd_sidecar s = {
        .domain = "vm", .uuid = "u", .trigger = "crash", .format = "kdump-zstd",
        .dump_path = dump, .kernel_release = release, .panic_message = panic,
    };
    GError *err = NULL;
    if (!hvd_sidecar_write(sc, &s, &err))
        abort();
    gchar *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(sc, &text, &len, NULL) || !g_utf8_validate(text, (gssize)len, NULL))
        abort();
    JsonParser *p = json_parser_new();
    if (!json_parser_load_from_data(p, text, (gssize)len, NULL))
        abort();
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    check_clean(o, "kernel_release");
    check_clean(o, "panic_message");
    g_object_unref(p);
    g_free(text);
    unlink(sc);
    g_free(sc);
    g_free(release);
    g_free(panic);
    return 0;
}
