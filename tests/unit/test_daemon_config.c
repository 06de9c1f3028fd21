/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's configuration: defaults, every key, sizes, and the errors a
 * typo should give. */
#include <glib/gstdio.h>
#include <string.h>

#include "dumper/daemon/daemon_config.h"
#include "common/hv_error.h"


static void test_defaults(void)
{
    struct hvd_config c;
    g_assert_true(hvd_config_load_data(&c, "", NULL));
    g_assert_null(c.uri);
    g_assert_cmpstr(c.spool, ==, HVD_DEFAULT_SPOOL);
    g_assert_cmpstr(c.socket, ==, HVD_DEFAULT_SOCKET);
    g_assert_cmpstr(c.format, ==, "kdump-zstd");
    g_assert_cmpint(c.after, ==, HVD_AFTER_NONE);
    /* Limits on by default: one crash-looping guest must not fill the spool. */
    g_assert_cmpuint(c.keep, ==, 3);
    g_assert_cmpuint(c.max_bytes, ==, 0);
    g_assert_cmpuint(c.domain_max_bytes, ==, 0);
    g_assert_cmpuint(c.crash_limit, ==, 3);
    g_assert_cmpint(c.crash_window_usec, ==, (gint64)3600 * G_USEC_PER_SEC);
    g_assert_cmpuint(c.min_free, ==, 0);
    g_assert_true(hvd_config_domain_matches(&c, "anything"));
    g_assert_cmpstr(hvd_format_ext(c.format), ==, "kdump");
    hvd_config_clear(&c);
}

static void test_full(void)
{
    struct hvd_config c;
    GError *err = NULL;
    const char *ini =
        "# comment\n"
        "[daemon]\nuri=qemu:///session\nspool=/srv/dumps\nsocket=/run/x.sock\n"
        "[collect]\ndomains=web-*;db?; exact\nformat=elf\nafter=restart\n"
        "keep=3\nmax-bytes=20G\nmin-free=512M\n";
    g_assert_true(hvd_config_load_data(&c, ini, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(c.uri, ==, "qemu:///session");
    g_assert_cmpstr(c.spool, ==, "/srv/dumps");
    g_assert_cmpstr(c.socket, ==, "/run/x.sock");
    g_assert_cmpstr(c.format, ==, "elf");
    g_assert_cmpstr(hvd_format_ext(c.format), ==, "elf");
    g_assert_cmpint(c.after, ==, HVD_AFTER_RESTART);
    g_assert_cmpuint(c.keep, ==, 3);
    g_assert_cmpuint(c.max_bytes, ==, 20ull << 30);
    g_assert_cmpuint(c.min_free, ==, 512ull << 20);
    g_assert_true(hvd_config_domain_matches(&c, "web-1"));
    g_assert_true(hvd_config_domain_matches(&c, "db1"));
    g_assert_true(hvd_config_domain_matches(&c, "exact"));
    g_assert_false(hvd_config_domain_matches(&c, "db12"));
    g_assert_false(hvd_config_domain_matches(&c, "exact2"));
    g_assert_false(hvd_config_domain_matches(&c, "mail"));
    hvd_config_clear(&c);
}

static void test_errors(void)
{
    const char *bad[] = {
        "[daemon]\nspol=/x\n",                 /* typo in a key */
        "[colect]\nkeep=1\n",                  /* typo in a group */
        "[collect]\nformat=kdump-brotli\n",
        "[collect]\nafter=reboot\n",
        "[collect]\nkeep=-1\n",
        "[collect]\nkeep=many\n",
        "[collect]\nmax-bytes=lots\n",
        "[collect]\nmin-free=-1G\n",
        "[daemon]\nspool=relative/dir\n",
        "[daemon]\nsocket=x.sock\n",
        "not an ini file",
        "[daemon]\nspool=/var/spool\\shvdump\n",   /* an escape: refused */
        "[collect]\nmax-bytes=\\\\\\=\\\\\n",  /* fuzz_config: GLib's unescaping */
        "[collect]\ndomains=a\\;b\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct hvd_config c;
        GError *err = NULL;
        g_assert_false(hvd_config_load_data(&c, bad[i], &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_assert_null(c.spool); /* cleared on failure */
        g_clear_error(&err);
    }
}

static void test_file(void)
{
    struct hvd_config c;
    GError *err = NULL;
    g_assert_false(hvd_config_load_file(&c, "/nonexistent/hvdumpd.conf", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_IO);
    g_clear_error(&err);

    g_autofree char *dir = g_dir_make_tmp("hvd-conf-XXXXXX", NULL);
    g_autofree char *p = g_build_filename(dir, "c.conf", NULL);
    g_assert_true(g_file_set_contents(p, "[collect]\nkeep=7\n", -1, NULL));
    g_assert_true(hvd_config_load_file(&c, p, &err));
    g_assert_cmpuint(c.keep, ==, 7);
    hvd_config_clear(&c);
    g_assert_true(g_file_set_contents(p, "[collect]\nkeep=x\n", -1, NULL));
    g_assert_false(hvd_config_load_file(&c, p, &err));
    g_assert_nonnull(strstr(err->message, p)); /* says which file */
    g_clear_error(&err);
    g_unlink(p);
    g_rmdir(dir);
}

static void test_after(void)
{
    enum hvd_after a;
    g_assert_true(hvd_after_parse("destroy", &a, NULL));
    g_assert_cmpint(a, ==, HVD_AFTER_DESTROY);
    g_assert_cmpstr(hvd_after_name(a), ==, "destroy");
    g_assert_false(hvd_after_parse("Destroy", &a, NULL));
}

static void test_rate(void)
{
    unsigned n;
    int64_t w;
    g_assert_true(hvd_parse_rate("3/1h", &n, &w, NULL));
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpint(w, ==, (gint64)3600 * G_USEC_PER_SEC);
    g_assert_true(hvd_parse_rate("10/90", &n, &w, NULL));
    g_assert_cmpint(w, ==, (gint64)90 * G_USEC_PER_SEC);
    g_assert_true(hvd_parse_rate("1/2d", &n, &w, NULL));
    g_assert_cmpint(w, ==, (gint64)2 * 86400 * G_USEC_PER_SEC);
    g_assert_true(hvd_parse_rate("0", &n, &w, NULL));
    g_assert_cmpuint(n, ==, 0);
    const char *bad[] = { "", "3", "3/", "/1h", "0/1h", "3/0", "3/1w", "-1/1h", "3/1h ",
                          "3/99999d", "x/1h" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *err = NULL;
        g_assert_false(hvd_parse_rate(bad[i], &n, &w, &err));
        g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
        g_clear_error(&err);
    }
    struct hvd_config c;
    g_assert_true(hvd_config_load_data(&c, "[collect]\ncrash-limit=0\ndomain-max-bytes=2G\n",
                                       NULL));
    g_assert_cmpuint(c.crash_limit, ==, 0);
    g_assert_cmpuint(c.domain_max_bytes, ==, 2ull << 30);
    hvd_config_clear(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon_config/defaults", test_defaults);
    g_test_add_func("/daemon_config/full", test_full);
    g_test_add_func("/daemon_config/errors", test_errors);
    g_test_add_func("/daemon_config/file", test_file);
    g_test_add_func("/daemon_config/after", test_after);
    g_test_add_func("/daemon_config/crash-limit", test_rate);
    return g_test_run();
}
