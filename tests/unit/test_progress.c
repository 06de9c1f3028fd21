/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress output: JSON lines parse and carry the numbers; none is silent. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "dumper/engine/progress.h"
#include "common/hv_error.h"

static char *run_mode(enum hv_progress_mode mode, gboolean ok)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct hv_progress *p = hv_progress_new(mode, f, "test", 1000000);
    hv_progress_update(p, 500000, 1234);
    hv_progress_update(p, 600000, 2000); /* rate-limited: dropped */
    hv_progress_update(p, 1000000, 4321);
    hv_progress_finish(p, ok);
    hv_progress_free(p);
    fclose(f);
    return buf;
}

static void test_parse(void)
{
    enum hv_progress_mode m;
    GError *err = NULL;
    g_assert_true(hv_progress_mode_parse("json", &m, &err));
    g_assert_cmpint(m, ==, HV_PROGRESS_JSON);
    g_assert_true(hv_progress_mode_parse("none", &m, &err));
    g_assert_cmpint(m, ==, HV_PROGRESS_NONE);
    g_assert_false(hv_progress_mode_parse("loud", &m, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
}

static void test_json(void)
{
    char *out = run_mode(HV_PROGRESS_JSON, TRUE);
    char **lines = g_strsplit(g_strchomp(out), "\n", -1);
    /* First update printed, second rate-limited, third too; then "done". */
    g_assert_cmpuint(g_strv_length(lines), ==, 2);
    JsonParser *jp = json_parser_new();
    g_assert_true(json_parser_load_from_data(jp, lines[0], -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(jp));
    g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "progress");
    g_assert_cmpint(json_object_get_int_member(o, "done"), ==, 500000);
    g_assert_cmpint(json_object_get_int_member(o, "total"), ==, 1000000);
    g_assert_cmpint(json_object_get_int_member(o, "out"), ==, 1234);
    g_assert_true(json_object_has_member(o, "mbps"));
    g_assert_true(json_object_has_member(o, "eta_s"));
    g_assert_true(json_parser_load_from_data(jp, lines[1], -1, NULL));
    o = json_node_get_object(json_parser_get_root(jp));
    g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "done");
    g_assert_true(json_object_get_boolean_member(o, "ok"));
    g_assert_cmpint(json_object_get_int_member(o, "done"), ==, 1000000);
    g_assert_cmpint(json_object_get_int_member(o, "out"), ==, 4321);
    g_object_unref(jp);
    g_strfreev(lines);
    g_free(out);
}

static void test_bar_and_none(void)
{
    char *out = run_mode(HV_PROGRESS_BAR, TRUE);
    g_assert_nonnull(strstr(out, "\rtest ["));
    g_assert_nonnull(strstr(out, "100%"));
    g_assert_nonnull(strstr(out, "MB/s"));
    g_assert_true(g_str_has_suffix(out, "\n"));
    g_free(out);
    out = run_mode(HV_PROGRESS_NONE, FALSE);
    g_assert_cmpstr(out, ==, "");
    g_free(out);
    /* AUTO on a non-TTY stream is silent. */
    out = run_mode(HV_PROGRESS_AUTO, TRUE);
    g_assert_cmpstr(out, ==, "");
    g_free(out);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/progress/parse", test_parse);
    g_test_add_func("/progress/json", test_json);
    g_test_add_func("/progress/bar-and-none", test_bar_and_none);
    return g_test_run();
}
