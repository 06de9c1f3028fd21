/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's jobs with a fake dump: one dump per domain at a time, different
 * domains at once, cancel leaves no file, sidecar and retention after a
 * successful dump, failures reported. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumper/daemon/daemon_jobs.h"
#include "dumper/engine/output.h"
#include "common/hv_error.h"

static volatile gint release_dumps; /* the fake dump runs until set */

/* Writes PATH.partial in steps, like hv_job_run, and honours cancel. */
static gboolean fake_dump(virDomainPtr dom, const struct hv_libvirt_dump_opts *o,
                          struct hv_libvirt_dump_result *res, GError **err)
{
    (void)dom;
    memset(res, 0, sizeof *res);
    if (strstr(o->job.output_path, "fail")) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "the guest went away");
        return FALSE;
    }
    g_autofree char *partial = hv_output_partial_path(o->job.output_path);
    int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0600);
    g_assert_cmpint(fd, >=, 0);
    char buf[4096] = { 1 };
    for (;;) {
        if (g_atomic_int_get(o->job.cancel)) {
            close(fd);
            unlink(partial);
            g_set_error(err, HV_ERROR, HV_ERROR_CANCELLED, "cancelled");
            return FALSE;
        }
        g_assert_cmpint(write(fd, buf, sizeof buf), ==, sizeof buf);
        if (g_atomic_int_get(&release_dumps))
            break;
        g_usleep(2000);
    }
    close(fd);
    g_assert_cmpint(rename(partial, o->job.output_path), ==, 0);
    res->kernel_release = g_strdup("6.1.0-test");
    res->guest_bytes = 1 << 20;
    return TRUE;
}

static JsonObject *job(struct hvd_jobs *j, guint id, JsonNode **keep)
{
    *keep = hvd_jobs_describe(j, id);
    g_assert_nonnull(*keep);
    return json_node_get_object(*keep);
}

static const char *status_of(struct hvd_jobs *j, guint id)
{
    static char buf[32];
    g_autoptr(JsonNode) n = NULL;
    g_strlcpy(buf, json_object_get_string_member(job(j, id, &n), "status"), sizeof buf);
    return buf;
}

static void wait_finished(struct hvd_jobs *j)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (hvd_jobs_n_running(j) > 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

static void test_jobs(void)
{
    g_autofree char *spool = g_dir_make_tmp("hvd-jobs-XXXXXX", NULL);
    struct hvd_config cfg = { 0 };
    cfg.spool = spool;
    cfg.format = (char *)"kdump-zlib";
    cfg.keep = 1;
    struct hvd_jobs *j = hvd_jobs_new(&cfg, fake_dump);
    struct hvd_job_request r = { .domain = "vm1", .uuid = "u1", .trigger = "request" };
    GError *err = NULL;
    g_atomic_int_set(&release_dumps, 0);

    guint a = hvd_jobs_start(j, &r, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(a, >, 0);
    /* Same domain again: refused while the first runs, as BUSY (hvdumpd
     * answers class "Busy" on that code alone, whatever the message). */
    g_assert_cmpuint(hvd_jobs_start(j, &r, &err), ==, 0);
    g_assert_error(err, HV_ERROR, HV_ERROR_BUSY);
    g_clear_error(&err);
    /* Another domain: runs at the same time. */
    struct hvd_job_request r2 = { .domain = "vm2", .trigger = "request", .path = "x.elf",
                                  .format = "elf" };
    guint b = hvd_jobs_start(j, &r2, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(hvd_jobs_n_running(j), ==, 2);
    g_assert_cmpstr(status_of(j, a), ==, "running");
    /* Bad inputs. */
    struct hvd_job_request r3 = { .domain = "vm3", .path = "../x" };
    g_assert_cmpuint(hvd_jobs_start(j, &r3, &err), ==, 0);
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
    r3.path = NULL;
    r3.format = "tarball";
    g_assert_cmpuint(hvd_jobs_start(j, &r3, &err), ==, 0);
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);

    /* Progress: bytes appear while running. */
    g_usleep(50000);
    g_autoptr(JsonNode) n1 = NULL;
    g_assert_cmpint(json_object_get_int_member(job(j, a, &n1), "written"), >, 0);

    /* Cancel vm2 by domain: no file left, not even the partial one. */
    g_assert_true(hvd_jobs_cancel(j, 0, "vm2", NULL));
    g_assert_false(hvd_jobs_cancel(j, 0, "vm9", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_NOT_FOUND);
    g_clear_error(&err);
    while (hvd_jobs_n_running(j) > 1)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpstr(status_of(j, b), ==, "cancelled");
    g_autofree char *bpath = g_build_filename(spool, "vm2", "x.elf", NULL);
    g_autofree char *bpartial = hv_output_partial_path(bpath);
    g_assert_false(g_file_test(bpath, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(bpartial, G_FILE_TEST_EXISTS));
    g_assert_false(hvd_jobs_cancel(j, b, NULL, NULL)); /* finished: nothing to cancel */

    g_atomic_int_set(&release_dumps, 1);
    wait_finished(j);
    g_autoptr(JsonNode) n2 = NULL;
    JsonObject *ja = job(j, a, &n2);
    g_assert_cmpstr(json_object_get_string_member(ja, "status"), ==, "completed");
    const char *apath = json_object_get_string_member(ja, "path");
    g_assert_true(g_str_has_suffix(apath, ".kdump"));
    g_assert_true(g_file_test(apath, G_FILE_TEST_IS_REGULAR));
    g_autofree char *vm1dir = g_build_filename(spool, "vm1", "", NULL);
    g_assert_true(g_str_has_prefix(apath, vm1dir));
    /* Its sidecar. */
    g_autofree char *sc = g_strndup(apath, strlen(apath) - strlen(".kdump"));
    g_autofree char *scj = g_strconcat(sc, ".json", NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_file(p, scj, NULL));
    JsonObject *so = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(so, "kernel_release"), ==, "6.1.0-test");
    g_assert_cmpstr(json_object_get_string_member(so, "uuid"), ==, "u1");
    g_assert_cmpint(json_object_get_int_member(so, "dump_bytes"), ==,
                    json_object_get_int_member(ja, "written"));

    /* A second dump of vm1 with keep=1: the first is removed, the new kept. */
    guint c = hvd_jobs_start(j, &r, &err);
    g_assert_no_error(err);
    wait_finished(j);
    g_autoptr(JsonNode) n3 = NULL;
    JsonObject *jc = job(j, c, &n3);
    g_assert_cmpstr(json_object_get_string_member(jc, "status"), ==, "completed");
    g_assert_true(g_file_test(json_object_get_string_member(jc, "path"), G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(apath, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(scj, G_FILE_TEST_EXISTS));

    /* A failing dump. */
    struct hvd_job_request rf = { .domain = "vm4", .path = "fail.kdump" };
    guint d = hvd_jobs_start(j, &rf, &err);
    wait_finished(j);
    g_autoptr(JsonNode) n4 = NULL;
    JsonObject *jd = job(j, d, &n4);
    g_assert_cmpstr(json_object_get_string_member(jd, "status"), ==, "failed");
    g_assert_cmpstr(json_object_get_string_member(jd, "error"), ==, "the guest went away");

    /* query-dumps lists all four, in id order. */
    g_autoptr(JsonNode) q = hvd_jobs_query(j);
    JsonArray *qa = json_node_get_array(q);
    g_assert_cmpuint(json_array_get_length(qa), ==, 4);
    hvd_jobs_free(j);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", spool);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon_jobs/lifecycle", test_jobs);
    return g_test_run();
}
