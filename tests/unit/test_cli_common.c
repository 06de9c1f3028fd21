/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dumper/cli/cli_common.c: the exit status each error kind gives (only the
 * user's mistakes are "bad usage"; a bug exits 1), and --format's help and
 * validation list the names from the format table. */
#include <glib.h>
#include <string.h>
#include "common/hv_error.h"
#include "dumper/cli/cli_common.h"

static void exit_codes(void)
{
    g_assert_cmpint(hv_cli_exit_code(NULL), ==, HV_EXIT_FAILURE);
    for (int code = HV_ERROR_FAILED; code <= HV_ERROR_NOT_FOUND; code++) {
        GError *err = g_error_new(HV_ERROR, code, "x");
        int want = code == HV_ERROR_INVALID ? HV_EXIT_USAGE
                   : code == HV_ERROR_CANCELLED ? HV_EXIT_CANCELLED : HV_EXIT_FAILURE;
        g_assert_cmpint(hv_cli_exit_code(err), ==, want);
        g_error_free(err);
    }
    /* A broken invariant is a bug, not bad usage. */
    GError *err = NULL;
    hv_error_internal(&err, "page 0x1 is not the next page due");
    g_assert_cmpint(hv_cli_exit_code(err), ==, HV_EXIT_FAILURE);
    g_clear_error(&err);
    /* Another domain's code that happens to equal HV_ERROR_INVALID. */
    err = g_error_new(G_FILE_ERROR, HV_ERROR_INVALID, "x");
    g_assert_cmpint(hv_cli_exit_code(err), ==, HV_EXIT_FAILURE);
    g_clear_error(&err);
}

static void format_help_lists_the_table(void)
{
    struct hv_cli_output_opts oo;
    hv_cli_output_opts_init(&oo);
    GOptionContext *ctx = g_option_context_new("- test");
    hv_cli_add_output_options(ctx, &oo);
    g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
    g_assert_nonnull(strstr(help, "elf, kdump-zlib, kdump-lzo, kdump-snappy or kdump-zstd "
                                  "(default kdump-zstd)"));
    g_option_context_free(ctx);
    hv_cli_output_opts_clear(&oo);
}

static void unknown_format_is_usage(void)
{
    struct hv_cli_output_opts oo;
    hv_cli_output_opts_init(&oo);
    oo.output = g_strdup("out.kdump");
    oo.format = g_strdup("kdump-bzip");
    struct hv_job_opts job;
    GError *err = NULL;
    g_assert_false(hv_cli_output_opts_to_job(&oo, &job, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, "unknown format 'kdump-bzip' "
                    "(elf, kdump-zlib, kdump-lzo, kdump-snappy, kdump-zstd)");
    g_assert_cmpint(hv_cli_exit_code(err), ==, HV_EXIT_USAGE);
    g_clear_error(&err);

    g_free(oo.format);
    oo.format = g_strdup("elf");
    g_assert_true(hv_cli_output_opts_to_job(&oo, &job, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(job.format, ==, "elf");
    hv_cli_output_opts_clear(&oo);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli_common/exit-codes", exit_codes);
    g_test_add_func("/cli_common/format-help", format_help_lists_the_table);
    g_test_add_func("/cli_common/unknown-format", unknown_format_is_usage);
    return g_test_run();
}
