/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>
#include "formats/vmcoreinfo.h"

static const char text[] =
    "OSRELEASE=6.1.0-18-cloud-amd64\n"
    "BUILD-ID=abc\n"
    "PAGESIZE=4096\n"
    "SYMBOL(init_uts_ns)=ffffffff82012340\n"
    "SYMBOL(_stext)=ffffffff81000000\n"
    "OFFSET(uts_namespace.name)=4\n"
    "SIZE(page)=64\n"
    "LENGTH(mem_section)=2048\n"
    "NUMBER(phys_base)=-1073741824\n"
    "NUMBER(pgtable_l5_enabled)=0\n"
    "NUMBER(KERNELOFFSET)=0x0\n"
    "KERNELOFFSET=1000000\n"
    "BAD=12x\n"
    "CRASHTIME=1700000000";  /* no trailing newline */

#define T ((const uint8_t *)text), strlen(text)

static void lookups(void)
{
    uint64_t v = 0;
    char *s = hv_vmcoreinfo_get(T, "OSRELEASE");
    g_assert_cmpstr(s, ==, "6.1.0-18-cloud-amd64");
    g_free(s);
    s = hv_vmcoreinfo_get(T, "CRASHTIME");
    g_assert_cmpstr(s, ==, "1700000000");
    g_free(s);
    g_assert_null(hv_vmcoreinfo_get(T, "OSREL"));       /* prefix only */
    g_assert_null(hv_vmcoreinfo_get(T, "RELEASE"));     /* not at line start */
    g_assert_null(hv_vmcoreinfo_get(T, "NOPE"));

    g_assert_true(hv_vmcoreinfo_symbol(T, "_stext", &v));
    g_assert_cmphex(v, ==, 0xffffffff81000000ull);
    g_assert_true(hv_vmcoreinfo_symbol(T, "init_uts_ns", &v));
    g_assert_cmphex(v, ==, 0xffffffff82012340ull);
    g_assert_false(hv_vmcoreinfo_symbol(T, "_end", &v));

    g_assert_true(hv_vmcoreinfo_number(T, "phys_base", &v));
    g_assert_cmpint((int64_t)v, ==, -1073741824);
    g_assert_true(hv_vmcoreinfo_number(T, "pgtable_l5_enabled", &v));
    g_assert_cmpuint(v, ==, 0);
    g_assert_true(hv_vmcoreinfo_number(T, "KERNELOFFSET", &v));
    g_assert_cmpuint(v, ==, 0);

    g_assert_true(hv_vmcoreinfo_decimal(T, "OFFSET(uts_namespace.name)", &v));
    g_assert_cmpuint(v, ==, 4);
    g_assert_true(hv_vmcoreinfo_decimal(T, "SIZE(page)", &v));
    g_assert_cmpuint(v, ==, 64);
    g_assert_true(hv_vmcoreinfo_decimal(T, "LENGTH(mem_section)", &v));
    g_assert_cmpuint(v, ==, 2048);
    g_assert_false(hv_vmcoreinfo_decimal(T, "BAD", &v));
    g_assert_false(hv_vmcoreinfo_decimal(T, "OSRELEASE", &v));
}

static void nul_padded_and_null(void)
{
    uint8_t buf[64] = "PAGESIZE=4096\n";
    uint64_t v;
    g_assert_true(hv_vmcoreinfo_decimal(buf, sizeof(buf), "PAGESIZE", &v));
    g_assert_cmpuint(v, ==, 4096);
    const uint8_t nonl[] = {'A', '=', '7', 0, 0, 0};
    g_assert_true(hv_vmcoreinfo_decimal(nonl, sizeof(nonl), "A", &v));
    g_assert_cmpuint(v, ==, 7);
    g_assert_null(hv_vmcoreinfo_get(NULL, 0, "A"));
    g_assert_false(hv_vmcoreinfo_symbol(NULL, 0, "x", &v));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmcoreinfo/lookups", lookups);
    g_test_add_func("/vmcoreinfo/nul-padded", nul_padded_and_null);
    return g_test_run();
}
