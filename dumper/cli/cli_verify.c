/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump verify FILE: walks every structure of a vmcore and decompresses
 * every page.  One line either way, so that scripts can grep it. */
#include <stdio.h>

#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "formats/reader.h"

static void remember_done(uint64_t done, uint64_t total, void *ud)
{
    (void)total;
    *(uint64_t *)ud = done;
}

int hv_cli_verify(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("FILE - check that a vmcore is consistent and every page reads back");
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
    printf("%s: OK (%" G_GUINT64_FORMAT " pages checked)\n", path, checked);
    return HV_EXIT_OK;
}
