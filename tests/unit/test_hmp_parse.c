/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HMP parsers against outputs captured from QEMU 7.2 (tests/unit/data/). */
#include "guest-mem/hmp_parse.h"
#include "common/hv_error.h"

#include <string.h>

static char *load(const char *name)
{
    char *path = g_test_build_filename(G_TEST_DIST, "data", name, NULL);
    char *text = NULL;
    GError *err = NULL;

    g_file_get_contents(path, &text, NULL, &err);
    g_assert_no_error(err);
    g_free(path);
    return text;
}

#define RANGE(a, i) (&g_array_index((a), struct hmp_ram_range, (i)))

static void test_mtree_pc(void)
{
    char *text = load("hmp-mtree-f-pc-512m.txt");
    GError *err = NULL;
    GArray *r = hmp_parse_mtree_ram(text, &err);

    g_assert_no_error(err);
    /* FlatView #2 ("memory"): pc.ram split by VGA and PAM, vga.vram, pc.bios;
     * the SMM views (#3, #4) that follow must not be mixed in. */
    g_assert_cmpuint(r->len, ==, 9);
    g_assert_cmphex(RANGE(r, 0)->gpa, ==, 0);
    g_assert_cmphex(RANGE(r, 0)->size, ==, 0xa0000);
    g_assert_cmpstr(RANGE(r, 0)->name, ==, "pc.ram");
    g_assert_false(RANGE(r, 0)->readonly);
    g_assert_cmphex(RANGE(r, 1)->gpa, ==, 0xc0000);
    g_assert_cmphex(RANGE(r, 1)->size, ==, 0xb000);
    g_assert_cmphex(RANGE(r, 1)->offset, ==, 0xc0000);
    g_assert_true(RANGE(r, 1)->readonly);
    g_assert_cmphex(RANGE(r, 6)->gpa, ==, 0x100000);
    g_assert_cmphex(RANGE(r, 6)->size, ==, 0x20000000 - 0x100000);
    g_assert_cmphex(RANGE(r, 6)->offset, ==, 0x100000);
    g_assert_cmpstr(RANGE(r, 7)->name, ==, "vga.vram");
    g_assert_cmphex(RANGE(r, 7)->gpa, ==, 0xfd000000);
    g_assert_cmphex(RANGE(r, 7)->offset, ==, 0);
    g_assert_cmpstr(RANGE(r, 8)->name, ==, "pc.bios");
    g_assert_cmphex(RANGE(r, 8)->size, ==, 0x40000);

    /* With host addresses as QEMU has them (pc.ram linear, others apart),
     * merging gives exactly the PT_LOADs of QEMU's own dump of this guest. */
    for (guint i = 0; i < r->len; i++) {
        struct hmp_ram_range *x = RANGE(r, i);
        if (strcmp(x->name, "pc.ram") == 0)
            x->hva = 0x7f9debe00000ull + x->offset;
        else
            x->hva = 0x100000000000ull * (i + 1);
    }
    hmp_ram_ranges_merge(r);
    g_assert_cmpuint(r->len, ==, 4);
    g_assert_cmphex(RANGE(r, 0)->size, ==, 0xa0000);
    g_assert_cmphex(RANGE(r, 1)->gpa, ==, 0xc0000);
    g_assert_cmphex(RANGE(r, 1)->size, ==, 0x1ff40000);
    g_assert_false(RANGE(r, 1)->readonly);
    g_assert_cmphex(RANGE(r, 2)->gpa, ==, 0xfd000000);
    g_assert_cmphex(RANGE(r, 3)->gpa, ==, 0xfffc0000);
    g_array_unref(r);
    g_free(text);
}

static void test_mtree_variants(void)
{
    /* Newer QEMU (no prio), a KVM tag, RAM devices, ROM devices, NVDIMM. */
    const char *text =
        "FlatView #0\n"
        " AS \"memory\", root: system\n"
        " Root memory region: system\n"
        "  0000000000000000-000000007fffffff (ram): pc.ram KVM\n"
        "  0000000080000000-00000000800fffff (ramd): vfio-bar\n"
        "  0000000080100000-00000000801fffff (romd): pflash\n"
        "  0000000080200000-00000000802fffff (nv-ram): nvdimm\n"
        "  0000000100000000-000000017fffffff (ram): pc.ram @0000000080000000 KVM\n"
        "\n"
        "FlatView #1\n"
        " AS \"cpu-smm-0\", root: memory\n"
        "  0000000200000000-000000020fffffff (ram): smram\n";
    GError *err = NULL;
    GArray *r = hmp_parse_mtree_ram(text, &err);

    g_assert_no_error(err);
    g_assert_cmpuint(r->len, ==, 2);
    g_assert_cmpstr(RANGE(r, 0)->name, ==, "pc.ram");
    g_assert_cmphex(RANGE(r, 0)->size, ==, 0x80000000);
    g_assert_cmphex(RANGE(r, 1)->gpa, ==, 0x100000000);
    g_assert_cmphex(RANGE(r, 1)->offset, ==, 0x80000000);
    g_array_unref(r);

    r = hmp_parse_mtree_ram("FlatView #0\n AS \"I/O\", root: io\n", &err);
    g_assert_null(r);
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
}

static void test_gpa2hva(void)
{
    char *ok = load("hmp-gpa2hva-ram.txt");
    char *notram = load("hmp-gpa2hva-notram.txt");
    char *unmapped = load("hmp-gpa2hva-unmapped.txt");
    GError *err = NULL;
    uint64_t hva = 0;

    g_assert_true(hmp_parse_gpa2hva(ok, &hva, &err));
    g_assert_cmphex(hva, ==, 0x7f9debf00000ull);
    g_assert_false(hmp_parse_gpa2hva(notram, &hva, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "is not RAM"));
    g_clear_error(&err);
    g_assert_false(hmp_parse_gpa2hva(unmapped, &hva, &err));
    g_assert_nonnull(strstr(err->message, "No memory is mapped"));
    g_clear_error(&err);
    g_free(ok);
    g_free(notram);
    g_free(unmapped);
}

static void test_registers(void)
{
    char *text = load("hmp-info-registers-a-2cpu.txt");
    GError *err = NULL;
    GArray *a = hmp_parse_registers_x86_64(text, &err);

    g_assert_no_error(err);
    g_assert_cmpuint(a->len, ==, 2);
    const struct hv_cpu_state *s0 = &g_array_index(a, struct hv_cpu_state, 0);
    const struct hv_cpu_state *s1 = &g_array_index(a, struct hv_cpu_state, 1);
    g_assert_cmpint(s0->arch, ==, HV_ARCH_X86_64);
    g_assert_cmpint(s1->arch, ==, HV_ARCH_X86_64);
    g_assert_cmpuint(s0->index, ==, 0);
    g_assert_cmpuint(s1->index, ==, 1);
    const struct hv_cpu_x86_64 *c0 = &s0->u.x86_64, *c1 = &s1->u.x86_64;
    g_assert_cmphex(c0->rax, ==, 0x0000002b41ca4a3aull);
    g_assert_cmphex(c0->rbp, ==, 0xffffcc1480013e10ull);
    g_assert_cmphex(c0->rsp, ==, 0xffffcc1480013d98ull);
    g_assert_cmphex(c0->r8, ==, 0);
    g_assert_cmphex(c0->r9, ==, 0x274c24);
    g_assert_cmphex(c0->r11, ==, 0xffffffffb74d2328ull);
    g_assert_cmphex(c0->r13, ==, 0x10bf8);
    g_assert_cmphex(c0->r14, ==, 0x19);
    g_assert_cmphex(c0->rip, ==, 0xffffffffb63c3643ull);
    g_assert_cmphex(c0->rflags, ==, 0x283);
    g_assert_cmphex(c0->cs.selector, ==, 0x10);
    g_assert_cmphex(c0->cs.limit, ==, 0xffffffff);
    g_assert_cmphex(c0->cs.flags, ==, 0x00af9b00);
    g_assert_cmphex(c0->ss.selector, ==, 0x18);
    g_assert_cmphex(c0->ss.flags, ==, 0x00cf9300);
    g_assert_cmphex(c0->gs.base, ==, 0xffff88b2df400000ull);
    g_assert_cmphex(c0->ldt.flags, ==, 0x8200);
    g_assert_cmphex(c0->tr.selector, ==, 0x40);
    g_assert_cmphex(c0->tr.base, ==, 0xfffffe0000003000ull);
    g_assert_cmphex(c0->tr.limit, ==, 0x4087);
    /* HMP's masked flags plus base bits 16-23 (0x00) and 24-31 (0x00),
     * the raw word QEMU's own CPU note carries. */
    g_assert_cmphex(c0->tr.flags, ==, 0x8900);
    g_assert_cmphex(c0->gdt.base, ==, 0xfffffe0000001000ull);
    g_assert_cmphex(c0->gdt.limit, ==, 0x7f);
    g_assert_cmphex(c0->idt.base, ==, 0xfffffe0000000000ull);
    g_assert_cmphex(c0->idt.limit, ==, 0xfff);
    g_assert_cmphex(c0->cr[0], ==, 0x80050033);
    g_assert_cmphex(c0->cr[2], ==, 0xffff88b2d7601000ull);
    g_assert_cmphex(c0->cr[3], ==, 0x16810000);
    g_assert_cmphex(c0->cr[4], ==, 0x6b0);
    g_assert_cmphex(c0->efer, ==, 0xd01);
    g_assert_cmphex(c0->kernel_gs_base, ==, 0);
    g_assert_cmphex(c1->rip, ==, 0xffffffffb5a3d023ull);
    g_assert_cmphex(c1->rcx, ==, 0xc0000080);
    g_assert_cmphex(c1->gs.base, ==, 0xffff88b2df500000ull);
    /* TSS at ...03e000: base bits 16-23 (0x03) restored in the low byte. */
    g_assert_cmphex(c1->tr.flags, ==, 0x8903);
    g_assert_cmphex(c1->gdt.base, ==, 0xfffffe000003c000ull);
    g_assert_cmphex(c1->cr[4], ==, 0x6a0);
    g_array_unref(a);
    g_free(text);
}

static void test_registers_bad(void)
{
    GError *err = NULL;

    g_assert_null(hmp_parse_registers_x86_64("", &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
    g_assert_null(hmp_parse_registers_x86_64("CPU#0\nRAX=zz RIP=1\n", &err));
    g_clear_error(&err);
    /* 32-bit names outside long mode (a CPU still in the firmware). */
    GArray *a = hmp_parse_registers_x86_64(
        "CPU#0\nEAX=00000001 EBX=00000002\nEIP=0000fff0 EFL=00000002\n"
        "CS =f000 ffff0000 0000ffff 00009b00\n", &err);
    g_assert_no_error(err);
    g_assert_cmpint(g_array_index(a, struct hv_cpu_state, 0).arch, ==, HV_ARCH_X86_64);
    g_assert_cmphex(g_array_index(a, struct hv_cpu_state, 0).u.x86_64.rip, ==, 0xfff0);
    g_assert_cmphex(g_array_index(a, struct hv_cpu_state, 0).u.x86_64.cs.base, ==, 0xffff0000);
    g_array_unref(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hmp_parse/mtree/pc", test_mtree_pc);
    g_test_add_func("/hmp_parse/mtree/variants", test_mtree_variants);
    g_test_add_func("/hmp_parse/gpa2hva", test_gpa2hva);
    g_test_add_func("/hmp_parse/registers", test_registers);
    g_test_add_func("/hmp_parse/registers_bad", test_registers_bad);
    return g_test_run();
}
