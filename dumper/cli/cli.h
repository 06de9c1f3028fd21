/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Subcommand entry points of `hvdump`, one file each (cli_<name>.c).
 * argv[0] is the subcommand's name; the return value is the exit code
 * (HV_EXIT_* in cli_common.h). */
#ifndef HV_CLI_H
#define HV_CLI_H

int hv_cli_convert(int argc, char **argv); /* cli_convert.c */
int hv_cli_info(int argc, char **argv);    /* cli_info.c */
int hv_cli_verify(int argc, char **argv);  /* cli_verify.c */
int hv_cli_dump(int argc, char **argv);    /* cli_dump.c: --qmp only */

#include "dumper/engine/session.h"
/* Dumps a libvirt domain (name, UUID or id) with libvirt's pause/resume, as
 * hv_session_run does (same opts, same result).  hvdump.c passes one when
 * built with libvirt, keeping libvirt out of the core library. */
typedef gboolean (*hv_domain_dump_fn)(const char *uri, const char *domain,
                                      const struct hv_session_opts *opts,
                                      struct hv_session_result *res, GError **err);
int hv_cli_dump_with_domains(int argc, char **argv, hv_domain_dump_fn domain_dump);
int hv_cmd_list(int argc, char **argv);    /* cli_list.c (named hv_cmd_ there) */
int hv_cli_daemon_client(int argc, char **argv); /* cli_daemon_client.c: --daemon SOCKET ... */

#endif
