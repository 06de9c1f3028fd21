/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>
#include "common/hv_error.h"
#include "formats/notes.h"

static const char vmci[] = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=16777216\n";

static struct hv_cpu_state make_cpu(uint32_t idx)
{
    struct hv_cpu_state cpu;
    struct hv_cpu_x86_64 *cx = &cpu.u.x86_64;
    uint64_t *u = (uint64_t *)&cx->rax;
    memset(&cpu, 0, sizeof(cpu));
    cpu.arch = HV_ARCH_X86_64;
    cpu.index = idx;
    /* Distinct values everywhere so a swapped field shows. */
    for (int i = 0; i < 18; i++)
        u[i] = 0x1000 * (idx + 1) + (uint64_t)i;
    struct hv_segment *segs[] = {&cx->cs, &cx->ds, &cx->es, &cx->fs, &cx->gs, &cx->ss,
                                 &cx->ldt, &cx->tr, &cx->gdt, &cx->idt};
    for (int i = 0; i < 10; i++) {
        segs[i]->selector = 0x10 + (uint32_t)i * 8;
        segs[i]->limit = 0xfffff - (uint32_t)i;
        segs[i]->flags = 0xa09b00 + (uint32_t)i;
        segs[i]->base = 0xffff888000000000ull + (uint64_t)i * 0x100 + idx;
    }
    for (int i = 0; i < 5; i++)
        cx->cr[i] = 0x80050033ull + (uint64_t)i + idx * 0x10;
    cx->kernel_gs_base = 0xffff88807fc00000ull + idx;
    return cpu;
}

static void assert_seg(const struct hv_segment *a, const struct hv_segment *b)
{
    g_assert_cmpuint(a->selector, ==, b->selector);
    g_assert_cmpuint(a->limit, ==, b->limit);
    g_assert_cmpuint(a->flags, ==, b->flags);
    g_assert_cmphex(a->base, ==, b->base);
}

static void assert_cpu(const struct hv_cpu_state *ca, const struct hv_cpu_state *cb)
{
    g_assert_cmpint(ca->arch, ==, cb->arch);
    g_assert_cmpuint(ca->index, ==, cb->index);
    const struct hv_cpu_x86_64 *a = &ca->u.x86_64, *b = &cb->u.x86_64;
    g_assert_cmpmem(&a->rax, 18 * 8, &b->rax, 18 * 8); /* rax..r15, rip, rflags */
    const struct hv_segment *sa[] = {&a->cs, &a->ds, &a->es, &a->fs, &a->gs, &a->ss,
                                     &a->ldt, &a->tr, &a->gdt, &a->idt};
    const struct hv_segment *sb[] = {&b->cs, &b->ds, &b->es, &b->fs, &b->gs, &b->ss,
                                     &b->ldt, &b->tr, &b->gdt, &b->idt};
    for (int i = 0; i < 10; i++)
        assert_seg(sa[i], sb[i]);
    g_assert_cmpmem(a->cr, sizeof(a->cr), b->cr, sizeof(b->cr));
    g_assert_cmphex(a->kernel_gs_base, ==, b->kernel_gs_base);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void build_and_parse(void)
{
    struct hv_cpu_state cpus[3] = {make_cpu(0), make_cpu(1), make_cpu(2)};
    struct hv_dump_meta meta = {0};
    meta.page_size = 4096;
    meta.cpus = cpus;
    meta.n_cpus = 3;
    meta.vmcoreinfo = (const uint8_t *)vmci;
    meta.vmcoreinfo_len = strlen(vmci);
    meta.live = TRUE;

    size_t len;
    uint8_t *blob = hv_notes_build(&meta, &len);
    g_assert_cmpuint(len, ==, hv_notes_size(&meta));
    g_assert_cmpuint(len % 4, ==, 0);

    /* Walk the raw notes: order, names, types, sizes. */
    struct hv_note_iter it;
    struct hv_blob_note n;
    GError *err = NULL;
    hv_note_iter_init(&it, blob, len);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(hv_note_iter_next(&it, &n, &err), ==, 1);
        g_assert_true(hv_note_is(&n, "CORE", 1));
        g_assert_cmpuint(n.desc_len, ==, 336);
        /* pr_pid at 32, pr_reg at 112: rip is slot 16, rsp 19, cs 17. */
        g_assert_cmpuint(get32(n.desc + 32), ==, (uint32_t)i + 1);
        g_assert_cmpuint(get64(n.desc + 112 + 16 * 8), ==, cpus[i].u.x86_64.rip);
        g_assert_cmpuint(get64(n.desc + 112 + 19 * 8), ==, cpus[i].u.x86_64.rsp);
        g_assert_cmpuint(get64(n.desc + 112 + 0 * 8), ==, cpus[i].u.x86_64.r15);
        g_assert_cmpuint(get64(n.desc + 112 + 10 * 8), ==, cpus[i].u.x86_64.rax);
        g_assert_cmpuint(get64(n.desc + 112 + 15 * 8), ==, 0); /* orig_rax */
        g_assert_cmpuint(get64(n.desc + 112 + 17 * 8), ==, cpus[i].u.x86_64.cs.selector);
        g_assert_cmpuint(get64(n.desc + 112 + 22 * 8), ==, cpus[i].u.x86_64.gs.base);
        g_assert_cmpuint(get64(n.desc + 112 + 26 * 8), ==, cpus[i].u.x86_64.gs.selector);
        g_assert_cmpuint(get64(n.desc + 328), ==, 0);
    }
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(hv_note_iter_next(&it, &n, &err), ==, 1);
        g_assert_true(hv_note_is(&n, "QEMU", 0));
        g_assert_cmpuint(n.desc_len, ==, 440);
        g_assert_cmpuint(get32(n.desc), ==, 1);
        g_assert_cmpuint(get32(n.desc + 4), ==, 440);
        g_assert_cmpuint(get64(n.desc + 8), ==, cpus[i].u.x86_64.rax);
        g_assert_cmpuint(get64(n.desc + 8 + 16 * 8), ==, cpus[i].u.x86_64.rip);
        /* cr3 at 392 + 24, kernel_gs_base at 432. */
        g_assert_cmpuint(get64(n.desc + 392 + 3 * 8), ==, cpus[i].u.x86_64.cr[3]);
        g_assert_cmpuint(get64(n.desc + 432), ==, cpus[i].u.x86_64.kernel_gs_base);
        /* idt is the 10th segment: base at 152 + 9*24 + 16. */
        g_assert_cmpuint(get64(n.desc + 152 + 9 * 24 + 16), ==, cpus[i].u.x86_64.idt.base);
    }
    g_assert_cmpint(hv_note_iter_next(&it, &n, &err), ==, 1);
    g_assert_true(hv_note_is(&n, "VMCOREINFO", 0));
    g_assert_cmpmem(n.desc, n.desc_len, vmci, strlen(vmci));
    g_assert_cmpint(hv_note_iter_next(&it, &n, &err), ==, 1);
    g_assert_true(hv_note_is(&n, "HVDUMP", 0x4856));
    g_assert_cmpint(hv_note_iter_next(&it, &n, &err), ==, 0);
    g_assert_no_error(err);

    /* Parse back. */
    struct hv_notes_info info;
    g_assert_true(hv_notes_parse(blob, len, &info, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(info.n_cpus, ==, 3);
    g_assert_true(info.have_qemu_cpu);
    for (int i = 0; i < 3; i++) {
        assert_cpu(&info.cpus[i], &cpus[i]);
    }
    g_assert_cmpmem(info.vmcoreinfo, info.vmcoreinfo_len, vmci, strlen(vmci));
    g_assert_true(info.have_hvdump);
    g_assert_true(info.live);
    g_assert_true(g_str_has_prefix(info.producer, "hvdump "));
    hv_notes_info_clear(&info);

    /* Truncated blob: an error, not a crash. */
    g_assert_false(hv_notes_parse(blob, 200, &info, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_free(blob);
}

static void no_cpus_no_vmcoreinfo(void)
{
    struct hv_dump_meta meta = {0};
    meta.page_size = 4096;
    size_t len;
    uint8_t *blob = hv_notes_build(&meta, &len);
    /* Just the HVDUMP note, with trailing zero padding tolerated. */
    uint8_t *padded = g_malloc0(len + 64);
    memcpy(padded, blob, len);
    struct hv_notes_info info;
    g_assert_true(hv_notes_parse(padded, len + 64, &info, NULL));
    g_assert_cmpuint(info.n_cpus, ==, 0);
    g_assert_null(info.vmcoreinfo);
    g_assert_true(info.have_hvdump);
    g_assert_false(info.live);
    hv_notes_info_clear(&info);
    g_free(padded);
    g_free(blob);
}

/* An older QEMU note without kernel_gs_base (432 bytes) still parses. */
static void old_qemu_note(void)
{
    struct hv_cpu_state c = make_cpu(0);
    struct hv_dump_meta meta = {0};
    meta.page_size = 4096;
    meta.cpus = &c;
    meta.n_cpus = 1;
    size_t len;
    uint8_t *blob = hv_notes_build(&meta, &len);
    struct hv_note_iter it;
    struct hv_blob_note n;
    hv_note_iter_init(&it, blob, len);
    g_assert_cmpint(hv_note_iter_next(&it, &n, NULL), ==, 1);
    g_assert_cmpint(hv_note_iter_next(&it, &n, NULL), ==, 1);
    uint8_t desc[432];
    memcpy(desc, n.desc, sizeof(desc));
    uint32_t sz = 432;
    memcpy(desc + 4, &sz, 4);
    struct hv_cpu_state got = {0};
    g_assert_true(hv_notes_parse_qemu_cpu_x86_64(desc, sizeof(desc), &got));
    g_assert_cmpint(got.arch, ==, HV_ARCH_X86_64);
    g_assert_cmpuint(got.u.x86_64.cr[3], ==, c.u.x86_64.cr[3]);
    g_assert_cmpuint(got.u.x86_64.kernel_gs_base, ==, 0);
    uint32_t bad = 2;
    memcpy(desc, &bad, 4);
    g_assert_false(hv_notes_parse_qemu_cpu_x86_64(desc, sizeof(desc), &got));
    g_assert_false(hv_notes_parse_prstatus_x86_64(desc, 100, &got));
    g_free(blob);
}

/* A CPU whose architecture has no note layout is refused, not written as
 * some other architecture's registers. */
static void unknown_arch_refused(void)
{
    struct hv_cpu_state cpus[2] = {make_cpu(0), make_cpu(1)};
    struct hv_dump_meta meta = {0};
    GError *err = NULL;

    meta.page_size = 4096;
    meta.cpus = cpus;
    meta.n_cpus = 2;
    g_assert_true(hv_notes_check(&meta, &err));
    g_assert_no_error(err);
    cpus[1].arch = HV_ARCH_UNKNOWN;
    g_assert_false(hv_notes_check(&meta, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
}

/* Writers refuse what readers refuse: more vCPUs than a dump may hold, or
 * a VMCOREINFO that would push the notes past the readers' limit. */
static void too_much_refused(void)
{
    struct hv_dump_meta meta = { 0 };
    struct hv_cpu_state *cpus = g_new0(struct hv_cpu_state, HV_MAX_CPUS + 1);
    for (size_t i = 0; i <= HV_MAX_CPUS; i++)
        cpus[i].arch = HV_ARCH_X86_64;
    meta.cpus = cpus;
    meta.n_cpus = HV_MAX_CPUS;
    GError *err = NULL;
    g_assert_true(hv_notes_check(&meta, &err));
    g_assert_cmpuint(hv_notes_size(&meta), <, HV_NOTES_MAX_BYTES / 2);
    meta.n_cpus = HV_MAX_CPUS + 1;
    g_assert_false(hv_notes_check(&meta, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
    meta.n_cpus = 1;
    meta.vmcoreinfo = (const uint8_t *)"x";
    meta.vmcoreinfo_len = HV_NOTES_MAX_BYTES / 2 + 1;
    g_assert_false(hv_notes_check(&meta, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_INVALID);
    g_clear_error(&err);
    g_free(cpus);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/notes/build-and-parse", build_and_parse);
    g_test_add_func("/notes/minimal", no_cpus_no_vmcoreinfo);
    g_test_add_func("/notes/old-qemu-note", old_qemu_note);
    g_test_add_func("/notes/unknown-arch-refused", unknown_arch_refused);
    g_test_add_func("/notes/too-much-refused", too_much_refused);
    return g_test_run();
}
