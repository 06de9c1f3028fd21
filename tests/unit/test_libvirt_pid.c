/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which process is a libvirt domain's QEMU: only the one libvirt's pid file
 * names, running a QEMU binary with "-uuid UUID".  What that process holds
 * is dumped as the guest's memory, so a local user's `sleep 1d UUID` must
 * never be taken for it.  No libvirtd needed. */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumper/libvirt/libvirt_monitor.h"
#include "common/hv_error.h"

#define UUID "5a1d7c1e-8f0b-4c41-9a8e-0123456789ab"

static GPid spawn(const char *const *argv)
{
    GPid pid;
    GError *err = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &err));
    g_assert_no_error(err);
    return pid;
}

static void reap(GPid pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static char *pidfile(const char *dir, const char *name, GPid pid, mode_t mode)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *txt = g_strdup_printf("%d\n", (int)pid);
    g_assert_true(g_file_set_contents(path, txt, -1, NULL));
    g_assert_cmpint(g_chmod(path, mode), ==, 0);
    return path;
}

static void expect_refused(const char *path, const char *what)
{
    GError *err = NULL;
    g_assert_cmpint(hv_libvirt_pid_from_pidfile(path, UUID, &err), ==, -1);
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    if (!strstr(err->message, what))
        g_error("expected \"%s\" in: %s", what, err->message);
    g_clear_error(&err);
}

static void impostor(void)
{
    g_autofree char *dir = g_dir_make_tmp("hv-pid-XXXXXX", NULL);
    /* A process that mentions the UUID, even after "-uuid": not QEMU. */
    const char *sleeper[] = { "/bin/sh", "-c", "sleep 30", "-uuid", UUID, NULL };
    GPid s = spawn(sleeper);
    g_autofree char *p1 = pidfile(dir, "a.pid", s, 0644);
    g_usleep(100000); /* let exec happen */
    expect_refused(p1, "is not the domain's QEMU");
    reap(s);
    /* A pid file others could have written, or reached through a symlink. */
    g_autofree char *p2 = pidfile(dir, "b.pid", getpid(), 0666);
    expect_refused(p2, "not a pid file libvirt wrote");
    g_autofree char *link = g_build_filename(dir, "c.pid", NULL);
    g_assert_cmpint(symlink(p2, link), ==, 0);
    expect_refused(link, "c.pid");
    g_autofree char *empty = pidfile(dir, "d.pid", 0, 0644);
    expect_refused(empty, "no pid");
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* A real QEMU started with -uuid is found; the same QEMU with another
 * UUID is not. */
static void real_qemu(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    if (!qemu) {
        g_test_skip("qemu-system-x86_64 not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("hv-pid-XXXXXX", NULL);
    const char *argv[] = { qemu, "-machine", "none", "-nodefaults", "-display", "none",
                           "-uuid", UUID, NULL };
    GPid q = spawn(argv);
    g_autofree char *p = pidfile(dir, "vm.pid", q, 0644);
    GError *err = NULL;
    pid_t got = -1;
    for (int i = 0; i < 50 && got < 0; i++) {
        g_clear_error(&err);
        g_usleep(100000);
        got = hv_libvirt_pid_from_pidfile(p, UUID, &err);
    }
    g_assert_no_error(err);
    g_assert_cmpint(got, ==, q);
    g_assert_cmpint(hv_libvirt_pid_from_pidfile(p, "00000000-0000-0000-0000-000000000000",
                                                &err), ==, -1);
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
    reap(q);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt_pid/impostor", impostor);
    g_test_add_func("/libvirt_pid/real-qemu", real_qemu);
    return g_test_run();
}
