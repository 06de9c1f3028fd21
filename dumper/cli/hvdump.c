/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump COMMAND [options]: dispatch to one subcommand. */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "dumper/engine/guardian.h"
#ifdef HVDUMP_HAVE_LIBVIRT
#include "dumper/libvirt/libvirt_dump.h"

static gboolean dump_domain(const char *uri, const char *domain,
                            const struct hv_session_opts *so,
                            struct hv_session_result *res, GError **err)
{
    struct hv_libvirt_dump_opts o = {
        .job = so->job, .live = so->live, .guardian = TRUE, .uri = uri,
        .vmcoreinfo = so->vmcoreinfo, .report = so->report, .report_ud = so->report_ud,
    };
    struct hv_libvirt_dump_result r;
    memset(&r, 0, sizeof r);
    memset(res, 0, sizeof *res);
    gboolean ok = hv_libvirt_dump_by_name(uri, domain, &o, &r, err);
    res->job = r.job;
    res->guest_bytes = r.guest_bytes;
    res->kernel_release = g_steal_pointer(&r.kernel_release);
    res->written = r.written;
    hv_libvirt_dump_result_clear(&r);
    return ok;
}

static int cli_dump(int argc, char **argv)
{
    return hv_cli_dump_with_domains(argc, argv, dump_domain);
}

static int guardian(int argc, char **argv)
{
    return hv_guardian_main(argc, argv, hv_libvirt_guardian_rescue);
}
#else
static int guardian(int argc, char **argv)
{
    return hv_guardian_main(argc, argv, NULL);
}

static int cli_dump(int argc, char **argv)
{
    return hv_cli_dump(argc, argv);
}
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"convert", hv_cli_convert, "convert memory images or a vmcore to another dump format"},
    {"dump", cli_dump, "dump a running QEMU guest (--qmp SOCKET, or a libvirt DOMAIN)"},
    {"info", hv_cli_info, "describe a vmcore (format, pages, CPUs, VMCOREINFO)"},
    {"verify", hv_cli_verify, "check every structure and page of a vmcore"},
#ifdef HVDUMP_HAVE_LIBVIRT
    {"list", hv_cmd_list, "list libvirt domains and whether they can be dumped"},
#endif
    {"--daemon", hv_cli_daemon_client, "SOCKET dump DOMAIN: have hvdumpd take a dump"},
    {"__guardian", guardian, NULL}, /* internal: see guardian.h */
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: hvdump COMMAND [OPTIONS]\n\n"
                 "Kernel crash dumps of running QEMU/KVM guests, taken from the host.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (commands[i].help)
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nRun 'hvdump COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    /* The user's language and character set for messages (GOption's help
     * shows "[OPTION…]" only then); numbers stay in C format so that JSON
     * and machine-read lines are the same in every locale. */
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    if (argc < 2) {
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return HV_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("hvdump %s\n", HVDUMP_VERSION);
        return HV_EXIT_OK;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            /* GOption prints the program name in --help: "hvdump convert". */
            char *prg = g_strdup_printf("hvdump %s", cmd);
            g_set_prgname(prg);
            g_free(prg);
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "hvdump: unknown command '%s'\n", cmd);
    usage(stderr);
    return HV_EXIT_USAGE;
}
