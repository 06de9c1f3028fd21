/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt connection, monitor and pause against a real domain, named by
 * $HVDUMP_LV_DOMAIN (the test script defines it); skipped without one. */
#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "dumper/libvirt/libvirt_conn.h"
#include "dumper/libvirt/libvirt_dump.h"
#include "dumper/libvirt/libvirt_monitor.h"
#include "dumper/libvirt/libvirt_pause.h"
#include "common/hv_error.h"

static const char *dom_name;

static int state_of(virDomainPtr d)
{
    int st = -1, reason;
    g_assert_cmpint(virDomainGetState(d, &st, &reason, 0), ==, 0);
    return st;
}

static void test_lookup(void)
{
    GError *err = NULL;
    virConnectPtr c = hv_libvirt_connect(NULL, &err);
    g_assert_no_error(err);
    virDomainPtr d = hv_libvirt_lookup(c, dom_name, &err);
    g_assert_no_error(err);
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainGetUUIDString(d, uuid);
    g_autofree char *id = g_strdup_printf("%u", virDomainGetID(d));
    /* By UUID and by id: the same domain. */
    virDomainPtr d2 = hv_libvirt_lookup(c, uuid, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(virDomainGetName(d2), ==, dom_name);
    virDomainPtr d3 = hv_libvirt_lookup(c, id, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(virDomainGetName(d3), ==, dom_name);
    g_assert_null(hv_libvirt_lookup(c, "hvdump-no-such-domain", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "not found"));
    g_clear_error(&err);
    int st;
    g_assert_true(hv_libvirt_check_dumpable(d, &st, &err));
    virDomainFree(d);
    virDomainFree(d2);
    virDomainFree(d3);
    virConnectClose(c);
    /* Not the QEMU driver. */
    g_assert_null(hv_libvirt_connect("test:///default", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_UNSUPPORTED);
    g_clear_error(&err);
}

static void test_monitor(void)
{
    struct hv_libvirt_target t;
    GError *err = NULL;
    g_assert_true(hv_libvirt_target_open(&t, NULL, dom_name, &err));
    g_assert_no_error(err);

    g_autofree char *st = t.mon->ops->qmp(t.mon, "{\"execute\":\"query-status\"}", &err);
    g_assert_no_error(err);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, st, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_has_member(o, "status")); /* "return" was unwrapped */

    g_assert_null(t.mon->ops->qmp(t.mon, "{\"execute\":\"no-such-command\"}", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);

    g_autofree char *mtree = t.mon->ops->hmp(t.mon, "info mtree -f", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(mtree, "pc.ram"));

    pid_t pid = t.mon->ops->pid(t.mon, &err);
    g_assert_no_error(err);
    g_autofree char *pf = g_strdup_printf("/run/libvirt/qemu/%s.pid", dom_name);
    g_autofree char *txt = NULL;
    if (g_file_get_contents(pf, &txt, NULL, NULL))
        g_assert_cmpint(pid, ==, atoi(txt));
    g_assert_cmpint(pid, >, 1);
    hv_libvirt_target_close(&t);
}

static void test_pause(void)
{
    struct hv_libvirt_target t;
    GError *err = NULL;
    g_assert_true(hv_libvirt_target_open(&t, NULL, dom_name, &err));
    g_assert_cmpint(state_of(t.dom), ==, VIR_DOMAIN_RUNNING);
    g_assert_true(hv_libvirt_target_pause(&t, &err));
    g_assert_true(t.pause.we_paused);
    g_assert_cmpint(state_of(t.dom), ==, VIR_DOMAIN_PAUSED);
    g_assert_true(hv_libvirt_target_resume(&t, &err));
    g_assert_cmpint(state_of(t.dom), ==, VIR_DOMAIN_RUNNING);
    g_assert_true(hv_libvirt_target_resume(&t, &err)); /* twice: harmless */

    /* Paused by someone else: we leave it paused. */
    g_assert_cmpint(virDomainSuspend(t.dom), ==, 0);
    g_assert_true(hv_libvirt_target_pause(&t, &err));
    g_assert_false(t.pause.we_paused);
    g_assert_true(hv_libvirt_target_resume(&t, &err));
    g_assert_cmpint(state_of(t.dom), ==, VIR_DOMAIN_PAUSED);
    g_assert_cmpint(virDomainResume(t.dom), ==, 0);

    /* close() resumes what we paused. */
    g_assert_true(hv_libvirt_target_pause(&t, &err));
    virDomainPtr keep = t.dom;
    virDomainRef(keep);
    hv_libvirt_target_close(&t);
    g_assert_cmpint(state_of(keep), ==, VIR_DOMAIN_RUNNING);
    virDomainFree(keep);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    dom_name = g_getenv("HVDUMP_LV_DOMAIN");
    if (!dom_name) {
        printf("1..0 # SKIP HVDUMP_LV_DOMAIN not set\n");
        return 0;
    }
    g_test_add_func("/libvirt/lookup", test_lookup);
    g_test_add_func("/libvirt/monitor", test_monitor);
    g_test_add_func("/libvirt/pause", test_pause);
    return g_test_run();
}
