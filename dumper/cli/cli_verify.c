/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump verify FILE: walks every structure of a vmcore and decompresses
 * every page; where hvdumpd's sidecar (NAME.json, with a "sha256") lies
 * beside it, the file's bytes are checked against that too.  One line
 * either way, saying what was checked, so that scripts can grep it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "common/hv_error.h"
#include "formats/reader.h"

static void remember_done(uint64_t done, uint64_t total, void *ud)
{
    (void)total;
    *(uint64_t *)ud = done;
}

/* The sidecar of a dump: its extension replaced by .json, or NULL when
 * the name has none (hvdumpd names dumps NAME.kdump / NAME.elf). */
static char *sidecar_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash) || !(strcmp(dot, ".kdump") == 0 || strcmp(dot, ".elf") == 0))
        return NULL;
    return g_strdup_printf("%.*s.json", (int)(dot - path), path);
}

/* The "sha256" the sidecar records, or NULL (no sidecar, none in it). */
static char *recorded_sha256(const char *sidecar)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    /* Sidecars are small; anything bigger is not one of ours. */
    if (!g_file_get_contents(sidecar, &text, &len, NULL) || len > (1u << 20))
        return NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text, (gssize)len, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(p);
    JsonNode *n = root && JSON_NODE_HOLDS_OBJECT(root)
                      ? json_object_get_member(json_node_get_object(root), "sha256") : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

static char *file_sha256(const char *path, GError **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s: %s", path, g_strerror(errno));
        return NULL;
    }
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    guchar *buf = g_malloc(1u << 20);
    ssize_t n;
    while ((n = read(fd, buf, 1u << 20)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_checksum_update(sum, buf, (gssize)n);
    int e = errno;
    g_free(buf);
    close(fd);
    if (n < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s: %s", path, g_strerror(e));
        return NULL;
    }
    return g_strdup(g_checksum_get_string(sum));
}

int hv_cli_verify(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("FILE - check that a vmcore is consistent and every page reads back");
    g_option_context_set_summary(ctx,
        "Reads every structure and decompresses every page.  When hvdumpd's sidecar\n"
        "(FILE with .json for its extension) records a SHA-256, the file's bytes are\n"
        "checked against it too.\n\n"
        "Example: hvdump verify /var/spool/hvdump/vm1/20261208T010203Z.kdump");
    g_autoptr(GError) err = NULL;
    uint64_t checked = 0;

    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        hv_cli_error("verify", "%s", err->message);
        return HV_EXIT_USAGE;
    }
    if (argc != 2) {
        hv_cli_error("verify", argc < 2 ? "missing FILE" : "expected exactly one FILE");
        return HV_EXIT_USAGE;
    }
    const char *path = argv[1];
    struct hv_vmcore *d = hv_vmcore_open(path, &err);
    if (!d || !hv_vmcore_verify(d, remember_done, &checked, &err)) {
        hv_cli_error("verify", "%s: %s", path, err->message);
        hv_vmcore_close(d);
        return HV_EXIT_FAILURE;
    }
    hv_vmcore_close(d);
    g_autofree char *sidecar = sidecar_of(path);
    g_autofree char *want = sidecar ? recorded_sha256(sidecar) : NULL;
    if (!want) {
        printf("%s: OK (%" G_GUINT64_FORMAT " pages checked; no sidecar SHA-256)\n", path,
               checked);
        return HV_EXIT_OK;
    }
    g_autofree char *have = file_sha256(path, &err);
    if (!have) {
        hv_cli_error("verify", "%s", err->message);
        return HV_EXIT_FAILURE;
    }
    if (g_ascii_strcasecmp(have, want) != 0) {
        hv_cli_error("verify", "%s: SHA-256 %s differs from %s's %.64s: the file changed "
                     "since hvdumpd wrote it", path, have, sidecar, want);
        return HV_EXIT_FAILURE;
    }
    printf("%s: OK (%" G_GUINT64_FORMAT " pages checked; SHA-256 matches %s)\n", path, checked,
           sidecar);
    return HV_EXIT_OK;
}
