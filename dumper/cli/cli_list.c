/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump list [-c URI]: the domains a libvirt daemon runs, and whether
 * hvdump can dump each one from here. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/libvirt/libvirt_monitor.h"
#include "common/hv_error.h"

/* NULL when dumpable, else why not (a static or g_free'd string in *why). */
static char *why_not_dumpable(virDomainPtr dom)
{
    g_autoptr(GError) e = NULL;
    if (!hv_libvirt_check_dumpable(dom, NULL, &e))
        return g_strdup("not running");
    pid_t pid = hv_libvirt_qemu_pid(dom, &e);
    if (pid < 0)
        return g_strdup("QEMU process not found on this host");
    /* Reading guest RAM needs ptrace-level access to QEMU. */
    char path[64];
    g_snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return g_strdup_printf("cannot read QEMU memory (%s)", g_strerror(errno));
    close(fd);
    return NULL;
}

int hv_cmd_list(int argc, char **argv)
{
    g_autofree char *uri = NULL;
    gboolean all = FALSE;
    GOptionEntry entries[] = {
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri, "libvirt URI (default $LIBVIRT_DEFAULT_URI or qemu:///system)", "URI" },
        { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "also list inactive domains", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- list libvirt domains hvdump can dump");
    g_autoptr(GError) err = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        hv_cli_error("list", "%s", err->message);
        return HV_EXIT_USAGE;
    }
    if (argc > 1) {
        hv_cli_error("list", "unexpected argument '%s'", argv[1]);
        return HV_EXIT_USAGE;
    }

    virConnectPtr conn = hv_libvirt_connect(uri, &err);
    if (!conn) {
        hv_cli_error("list", "%s", err->message);
        return hv_cli_exit_code(err);
    }
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms,
                                     all ? 0 : VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        hv_libvirt_error(&err, HV_ERROR_FAILED, "cannot list domains");
        hv_cli_error("list", "%s", err->message);
        virConnectClose(conn);
        return HV_EXIT_FAILURE;
    }
    printf("%-5s %-32s %-10s %10s  %s\n", "ID", "NAME", "STATE", "MEMORY", "DUMPABLE");
    for (int i = 0; i < n; i++) {
        virDomainInfo info = { 0 };
        virDomainGetInfo(doms[i], &info);
        int id = (int)virDomainGetID(doms[i]);
        char idbuf[16];
        if (id < 0)
            g_strlcpy(idbuf, "-", sizeof idbuf);
        else
            g_snprintf(idbuf, sizeof idbuf, "%d", id);
        /* Not g_format_size(): it puts a no-break space in UTF-8 locales,
         * which scripts parsing this output trip over. */
        g_autofree char *mem = g_strdup_printf("%lu MiB", info.memory / 1024);
        g_autofree char *why = why_not_dumpable(doms[i]);
        printf("%-5s %-32s %-10s %10s  %s%s%s\n", idbuf, virDomainGetName(doms[i]),
               hv_libvirt_state_name(info.state), mem, why ? "no" : "yes",
               why ? ": " : "", why ? why : "");
        virDomainFree(doms[i]);
    }
    free(doms);
    virConnectClose(conn);
    return HV_EXIT_OK;
}
