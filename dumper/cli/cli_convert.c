/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdump convert: raw memory images (FILE@GPA...) or one existing vmcore
 * (ELF or kdump, plain or flattened) -> a new dump in the chosen format. */
#include "dumper/cli/cli.h"
#include "dumper/cli/cli_common.h"
#include "dumper/engine/guest_meta.h"
#include "dumper/engine/job.h"
#include "dumper/engine/signals.h"
#include "dumper/engine/source_vmcore.h"
#include "common/hv_error.h"
#include "common/page.h"
#include "guest-mem/source.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define CMD "convert"

/* A FILE@GPA spec when FILE exists; also when the whole argument is no file
 * but has an '@' (so that the image opener reports the missing FILE). */
static gboolean is_image_spec(const char *arg)
{
    const char *at = strrchr(arg, '@');
    if (!at)
        return FALSE;
    char *file = g_strndup(arg, (gsize)(at - arg));
    gboolean left_exists = g_file_test(file, G_FILE_TEST_EXISTS);
    g_free(file);
    return left_exists || !g_file_test(arg, G_FILE_TEST_EXISTS);
}

/* The inputs, opened, with the metadata to carry into the output. */
struct convert_input {
    struct gm_source *src;
    struct hv_dump_meta meta;
    struct hv_guest_meta gm; /* facts read from guest memory */
    GBytes *vmcoreinfo;      /* --vmcoreinfo text */
};

static void warn(const char *what)
{
    if (what)
        hv_cli_error(CMD, "warning: %s", what);
}

/* Raw images carry nothing but memory: find VMCOREINFO (or take the
 * user's), utsname, phys_base and the ELF addresses in it. */
static gboolean open_images(char **specs, int n, struct convert_input *in, GError **err)
{
    in->src = gm_source_image_open((const char *const *)specs, (size_t)n, HV_PAGE_SIZE, err);
    if (!in->src)
        return FALSE;
    if (!hv_guest_meta_fill(&in->gm, in->src, in->vmcoreinfo, err))
        return FALSE;
    warn(in->gm.warning);
    in->meta = in->gm.meta;
    return TRUE;
}

/* A vmcore brings its own metadata; what it lacks for kexec-style ELF
 * output (virtual addresses) and libkdumpfile (utsname) can still be read
 * from its memory when it has VMCOREINFO. */
static gboolean open_vmcore(const char *path, struct convert_input *in, GError **err)
{
    in->src = hv_source_vmcore_open(path, err);
    if (!in->src)
        return FALSE;
    hv_source_vmcore_meta(in->src, &in->meta);
    in->gm.meta.page_size = in->meta.page_size;
    GBytes *vi = in->vmcoreinfo;
    if (!vi && in->meta.vmcoreinfo)
        vi = g_bytes_new_static(in->meta.vmcoreinfo, in->meta.vmcoreinfo_len);
    else if (vi)
        g_bytes_ref(vi);
    if (vi) {
        GError *e = NULL;
        if (hv_guest_meta_fill(&in->gm, in->src, vi, &e)) {
            const struct hv_dump_meta *g = &in->gm.meta;
            in->meta.have_vaddrs = g->have_vaddrs;
            in->meta.direct_map_base = g->direct_map_base;
            in->meta.ktext_vaddr = g->ktext_vaddr;
            in->meta.ktext_paddr = g->ktext_paddr;
            in->meta.ktext_size = g->ktext_size;
            in->meta.kernel_end_pfn = g->kernel_end_pfn;
            if (!in->meta.uts.sysname[0])
                in->meta.uts = g->uts;
            if (!in->meta.phys_base)
                in->meta.phys_base = g->phys_base;
        } else {
            warn(e->message); /* the input's own metadata still goes over */
            g_error_free(e);
        }
        g_bytes_unref(vi);
    }
    return TRUE;
}

/* Usage errors: images and a vmcore mixed, or several vmcores. */
static gboolean check_inputs(char **args, int n, gboolean *images_out, GError **err)
{
    int images = 0;
    for (int i = 0; i < n; i++)
        images += is_image_spec(args[i]);
    if (images != 0 && images != n) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "give either FILE@GPA memory images or one vmcore, not both");
        return FALSE;
    }
    if (images == 0 && n != 1) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "convert takes exactly one vmcore");
        return FALSE;
    }
    *images_out = images > 0;
    return TRUE;
}

static gboolean open_inputs(char **args, int n, gboolean images, const char *vmcoreinfo_file,
                            struct convert_input *in, GError **err)
{
    hv_guest_meta_init(&in->gm, HV_PAGE_SIZE);
    if (vmcoreinfo_file) {
        gsize len = 0;
        char *text = NULL;
        if (!g_file_get_contents(vmcoreinfo_file, &text, &len, err)) {
            (*err)->domain = HV_ERROR;
            (*err)->code = HV_ERROR_IO;
            return FALSE;
        }
        in->vmcoreinfo = g_bytes_new_take(text, len);
        if (len == 0 || !memchr(text, '=', len)) {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                        "%s does not look like VMCOREINFO text (KEY=VALUE lines)", vmcoreinfo_file);
            return FALSE;
        }
    }
    if (images ? !open_images(args, n, in, err) : !open_vmcore(args[0], in, err))
        return FALSE;
    if (in->vmcoreinfo) { /* the user's text wins over what the input had */
        in->meta.vmcoreinfo = g_bytes_get_data(in->vmcoreinfo, &in->meta.vmcoreinfo_len);
    }
    return TRUE;
}

static void close_inputs(struct convert_input *in)
{
    hv_guest_meta_clear(&in->gm);
    gm_source_close(in->src);
    if (in->vmcoreinfo)
        g_bytes_unref(in->vmcoreinfo);
}

static int run_convert(char **inputs, int n_inputs, const char *vmcoreinfo_file,
                       const struct hv_cli_output_opts *oo)
{
    struct hv_job_opts job;
    struct hv_job_result res;
    struct convert_input in = {0};
    GError *err = NULL;
    gboolean images = FALSE;
    int rc = HV_EXIT_OK;
    static volatile gint cancel; /* the signal handler's flag */

    if (!hv_cli_output_opts_to_job(oo, &job, &err) ||
        !check_inputs(inputs, n_inputs, &images, &err)) {
        hv_cli_error(CMD, "%s", err->message);
        g_error_free(err);
        return HV_EXIT_USAGE;
    }
    if (!open_inputs(inputs, n_inputs, images, vmcoreinfo_file, &in, &err)) {
        hv_cli_error(CMD, "%s", err->message);
        /* A bad FILE@GPA is bad usage (2); an unreadable file a failure (1). */
        rc = hv_cli_exit_code(err);
        g_error_free(err);
        close_inputs(&in);
        return rc;
    }
    g_atomic_int_set(&cancel, 0);
    hv_signals_install(&cancel);
    job.cancel = &cancel;
    if (hv_job_run(in.src, &in.meta, &job, &res, &err)) {
        hv_cli_print_summary(&job, &res);
    } else {
        if (g_error_matches(err, HV_ERROR, HV_ERROR_CANCELLED)) {
            int sig = hv_signals_last();
            hv_cli_error(CMD, "cancelled by %s, nothing written",
                         sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
                         : sig == SIGHUP ? "SIGHUP" : "request");
            rc = HV_EXIT_CANCELLED;
        } else {
            hv_cli_error(CMD, "%s", err->message);
            rc = HV_EXIT_FAILURE;
        }
        g_error_free(err);
    }
    close_inputs(&in);
    return rc;
}

int hv_cli_convert(int argc, char **argv)
{
    struct hv_cli_output_opts oo;
    char *vmcoreinfo_file = NULL;
    GError *err = NULL;
    const GOptionEntry entries[] = {
        {"vmcoreinfo", 0, 0, G_OPTION_ARG_FILENAME, &vmcoreinfo_file,
         "VMCOREINFO text to put in the dump (e.g. a copy of the guest's)", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };

    hv_cli_output_opts_init(&oo);
    GOptionContext *ctx = g_option_context_new("INPUT... - convert memory images or a vmcore");
    g_option_context_set_summary(ctx,
        "INPUT is either one or more raw memory images FILE@GPA (GPA decimal or\n"
        "0x hex, optional K/M/G/T suffix) or exactly one vmcore (ELF or kdump,\n"
        "plain or flattened).  A kdump written to a pipe (-o -) is flattened.");
    hv_cli_add_output_options(ctx, &oo);
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        hv_cli_error(CMD, "%s", err->message);
        g_error_free(err);
        rc = HV_EXIT_USAGE;
    } else if (argc < 2) {
        hv_cli_error(CMD, "no input given (FILE@GPA... or a vmcore); see --help");
        rc = HV_EXIT_USAGE;
    } else {
        rc = run_convert(argv + 1, argc - 1, vmcoreinfo_file, &oo);
    }
    g_option_context_free(ctx);
    g_free(vmcoreinfo_file);
    hv_cli_output_opts_clear(&oo);
    return rc;
}
