/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds and parses the ELF note blob (see notes.h).  CPU notes are laid out
 * per architecture (struct hv_cpu_state's arch picks the layout); x86_64's
 * are those the kernel's elf_prstatus and QEMU's QEMUCPUState use: crash,
 * drgn and libkdumpfile read registers from these bytes at fixed offsets. */
#include "formats/notes.h"

#include <string.h>
#include "common/hv_error.h"

#ifndef HVDUMP_VERSION
#define HVDUMP_VERSION "0.1.0"
#endif

#define NHDR_SIZE 12 /* Elf64_Nhdr: namesz, descsz, type (all 32-bit) */

static size_t align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static size_t note_size(size_t name_len, size_t desc_len)
{
    return NHDR_SIZE + align4(name_len + 1) + align4(desc_len);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Writes one note header + name at p (buffer pre-zeroed) and returns where
 * its desc goes. */
static uint8_t *put_note_head(uint8_t *p, const char *name, size_t desc_len,
                              uint32_t type)
{
    size_t nl = strlen(name);
    put32(p, (uint32_t)(nl + 1));
    put32(p + 4, (uint32_t)desc_len);
    put32(p + 8, type);
    memcpy(p + NHDR_SIZE, name, nl);
    return p + NHDR_SIZE + align4(nl + 1);
}

/* pr_reg slots, in user_regs_struct order. */
enum {
    R_R15, R_R14, R_R13, R_R12, R_RBP, R_RBX, R_R11, R_R10, R_R9, R_R8,
    R_RAX, R_RCX, R_RDX, R_RSI, R_RDI, R_ORIG_RAX, R_RIP, R_CS, R_EFLAGS,
    R_RSP, R_SS, R_FS_BASE, R_GS_BASE, R_DS, R_ES, R_FS, R_GS,
};

static void fill_prstatus_x86_64(uint8_t *d, const struct hv_cpu_state *cpu)
{
    const struct hv_cpu_x86_64 *c = &cpu->u.x86_64;
    uint64_t r[HV_PRSTATUS_NREGS] = {0};

    r[R_R15] = c->r15; r[R_R14] = c->r14; r[R_R13] = c->r13;
    r[R_R12] = c->r12; r[R_RBP] = c->rbp; r[R_RBX] = c->rbx;
    r[R_R11] = c->r11; r[R_R10] = c->r10; r[R_R9] = c->r9; r[R_R8] = c->r8;
    r[R_RAX] = c->rax; r[R_RCX] = c->rcx; r[R_RDX] = c->rdx;
    r[R_RSI] = c->rsi; r[R_RDI] = c->rdi;
    r[R_ORIG_RAX] = 0; /* unknown outside the guest; QEMU writes 0 too */
    r[R_RIP] = c->rip; r[R_CS] = c->cs.selector; r[R_EFLAGS] = c->rflags;
    r[R_RSP] = c->rsp; r[R_SS] = c->ss.selector;
    r[R_FS_BASE] = c->fs.base; r[R_GS_BASE] = c->gs.base;
    r[R_DS] = c->ds.selector; r[R_ES] = c->es.selector;
    r[R_FS] = c->fs.selector; r[R_GS] = c->gs.selector;

    put32(d + HV_PRSTATUS_PID_OFFSET, cpu->index + 1);
    for (int i = 0; i < HV_PRSTATUS_NREGS; i++)
        put64(d + HV_PRSTATUS_REG_OFFSET + 8 * i, r[i]);
}

/* QEMUCPUState: u32 version, u32 size, 18 u64 (16 GPRs, rip, rflags), 10
 * segments of {u32 selector, limit, flags, pad; u64 base}, cr[5],
 * kernel_gs_base. */
#define Q_GPR_OFF 8
#define Q_SEG_OFF (Q_GPR_OFF + 18 * 8)
#define Q_SEG_SIZE 24
#define Q_CR_OFF (Q_SEG_OFF + 10 * Q_SEG_SIZE)
#define Q_KGS_OFF (Q_CR_OFF + 5 * 8)
_Static_assert(Q_KGS_OFF == HV_QEMU_CPUSTATE_MIN_SIZE, "QEMUCPUState layout");
_Static_assert(Q_KGS_OFF + 8 == HV_QEMU_CPUSTATE_SIZE, "QEMUCPUState size");

static void put_seg(uint8_t *p, const struct hv_segment *s)
{
    put32(p, s->selector);
    put32(p + 4, s->limit);
    put32(p + 8, s->flags);
    put32(p + 12, 0);
    put64(p + 16, s->base);
}

static void get_seg(const uint8_t *p, struct hv_segment *s)
{
    s->selector = get32(p);
    s->limit = get32(p + 4);
    s->flags = get32(p + 8);
    s->base = get64(p + 16);
}

/* QEMU's order of the general registers and of the segments. */
#define QEMU_GPRS(c) { &(c)->rax, &(c)->rbx, &(c)->rcx, &(c)->rdx, &(c)->rsi, \
    &(c)->rdi, &(c)->rsp, &(c)->rbp, &(c)->r8, &(c)->r9, &(c)->r10, &(c)->r11, \
    &(c)->r12, &(c)->r13, &(c)->r14, &(c)->r15, &(c)->rip, &(c)->rflags }
#define QEMU_SEGS(c) { &(c)->cs, &(c)->ds, &(c)->es, &(c)->fs, &(c)->gs, \
    &(c)->ss, &(c)->ldt, &(c)->tr, &(c)->gdt, &(c)->idt }

static void fill_qemu_cpu_x86_64(uint8_t *d, const struct hv_cpu_state *cpu)
{
    const struct hv_cpu_x86_64 *c = &cpu->u.x86_64;
    const uint64_t *gpr[] = QEMU_GPRS(c);
    const struct hv_segment *seg[] = QEMU_SEGS(c);

    put32(d, HV_QEMU_CPUSTATE_VERSION);
    put32(d + 4, HV_QEMU_CPUSTATE_SIZE);
    for (size_t i = 0; i < G_N_ELEMENTS(gpr); i++)
        put64(d + Q_GPR_OFF + 8 * i, *gpr[i]);
    for (size_t i = 0; i < G_N_ELEMENTS(seg); i++)
        put_seg(d + Q_SEG_OFF + Q_SEG_SIZE * i, seg[i]);
    for (int i = 0; i < 5; i++)
        put64(d + Q_CR_OFF + 8 * i, c->cr[i]);
    put64(d + Q_KGS_OFF, c->kernel_gs_base);
}

/* One architecture's CPU notes: their desc sizes and how to fill them
 * (buffer pre-zeroed).  Building dispatches on each CPU's arch here. */
struct cpu_notes_layout {
    size_t prstatus_size;
    size_t qemu_cpu_size;
    void (*fill_prstatus)(uint8_t *d, const struct hv_cpu_state *c);
    void (*fill_qemu_cpu)(uint8_t *d, const struct hv_cpu_state *c);
};

static const struct cpu_notes_layout x86_64_layout = {
    .prstatus_size = HV_PRSTATUS_X86_64_SIZE,
    .qemu_cpu_size = HV_QEMU_CPUSTATE_SIZE,
    .fill_prstatus = fill_prstatus_x86_64,
    .fill_qemu_cpu = fill_qemu_cpu_x86_64,
};

/* NULL for an architecture we have no note layout for. */
static const struct cpu_notes_layout *layout_of(enum hv_arch arch)
{
    switch (arch) {
    case HV_ARCH_X86_64:
        return &x86_64_layout;
    case HV_ARCH_UNKNOWN:
        break;
    }
    return NULL;
}

/* hv_notes_check() let meta through, so every CPU has a layout. */
static const struct cpu_notes_layout *cpu_layout(const struct hv_cpu_state *c)
{
    const struct cpu_notes_layout *l = layout_of(c->arch);
    g_assert(l);
    return l;
}

gboolean hv_notes_check(const struct hv_dump_meta *meta, GError **err)
{
    /* Never write what our own readers (and crash's) would refuse. */
    if (meta->n_cpus > HV_MAX_CPUS) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "%zu vCPUs: more than the %d a dump may hold",
                    meta->n_cpus, HV_MAX_CPUS);
        return FALSE;
    }
    for (size_t i = 0; i < meta->n_cpus; i++) {
        if (!layout_of(meta->cpus[i].arch)) {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                        "vCPU %u: no CPU note layout for architecture %d",
                        meta->cpus[i].index, (int)meta->cpus[i].arch);
            return FALSE;
        }
    }
    if (meta->vmcoreinfo_len > HV_NOTES_MAX_BYTES / 2) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "VMCOREINFO of %zu bytes is too large",
                    meta->vmcoreinfo_len);
        return FALSE;
    }
    return TRUE;
}

/* Desc of the HVDUMP note; buf NULL just measures. */
static size_t hvdump_desc(const struct hv_dump_meta *meta, char *buf, size_t cap)
{
    /* The untrusted line only when it applies: other dumps stay as they were. */
    int n = g_snprintf(buf, cap, "producer=hvdump %s\nlive=%d\n%s",
                       HVDUMP_VERSION, meta->live ? 1 : 0,
                       meta->vmcoreinfo_untrusted ? "vmcoreinfo=untrusted\n" : "");
    return (size_t)n;
}

size_t hv_notes_size(const struct hv_dump_meta *meta)
{
    size_t total = 0;

    for (size_t i = 0; i < meta->n_cpus; i++) {
        const struct cpu_notes_layout *l = cpu_layout(&meta->cpus[i]);
        total += note_size(4, l->prstatus_size) + note_size(4, l->qemu_cpu_size);
    }
    if (meta->vmcoreinfo && meta->vmcoreinfo_len)
        total += note_size(strlen("VMCOREINFO"), meta->vmcoreinfo_len);
    total += note_size(strlen("HVDUMP"), hvdump_desc(meta, NULL, 0));
    return total;
}

uint8_t *hv_notes_build(const struct hv_dump_meta *meta, size_t *len_out)
{
    size_t len = hv_notes_size(meta);
    uint8_t *blob = g_malloc0(len);
    uint8_t *p = blob;

    for (size_t i = 0; i < meta->n_cpus; i++) {
        const struct cpu_notes_layout *l = cpu_layout(&meta->cpus[i]);
        uint8_t *d = put_note_head(p, "CORE", l->prstatus_size, HV_NT_PRSTATUS);
        l->fill_prstatus(d, &meta->cpus[i]);
        p = d + align4(l->prstatus_size);
    }
    for (size_t i = 0; i < meta->n_cpus; i++) {
        const struct cpu_notes_layout *l = cpu_layout(&meta->cpus[i]);
        uint8_t *d = put_note_head(p, "QEMU", l->qemu_cpu_size, HV_NT_QEMU);
        l->fill_qemu_cpu(d, &meta->cpus[i]);
        p = d + align4(l->qemu_cpu_size);
    }
    if (meta->vmcoreinfo && meta->vmcoreinfo_len) {
        uint8_t *d = put_note_head(p, "VMCOREINFO", meta->vmcoreinfo_len,
                                   HV_NT_VMCOREINFO);
        memcpy(d, meta->vmcoreinfo, meta->vmcoreinfo_len);
        p = d + align4(meta->vmcoreinfo_len);
    }
    size_t hl = hvdump_desc(meta, NULL, 0);
    uint8_t *d = put_note_head(p, "HVDUMP", hl, HV_NT_HVDUMP);
    char tmp[128];
    hvdump_desc(meta, tmp, sizeof(tmp));
    memcpy(d, tmp, hl); /* without the NUL: desc_len counts text only */
    p = d + align4(hl);

    g_assert((size_t)(p - blob) == len);
    *len_out = len;
    return blob;
}

void hv_note_iter_init(struct hv_note_iter *it, const uint8_t *blob, size_t len)
{
    it->pos = blob;
    it->end = blob + len;
}

int hv_note_iter_next(struct hv_note_iter *it, struct hv_blob_note *out, GError **err)
{
    size_t left = (size_t)(it->end - it->pos);

    if (left < NHDR_SIZE)
        return 0;
    uint32_t namesz = get32(it->pos), descsz = get32(it->pos + 4);
    uint32_t type = get32(it->pos + 8);
    if (namesz == 0 && descsz == 0 && type == 0)
        return 0; /* zero padding after the last note */
    size_t need = NHDR_SIZE + align4(namesz);
    if (need > left || align4(descsz) > left - need) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "ELF note overruns its area (namesz %u, descsz %u, %zu bytes left)",
                    namesz, descsz, left);
        return -1;
    }
    out->name = (const char *)it->pos + NHDR_SIZE;
    out->name_len = namesz;
    /* namesz counts the NUL; be lenient about writers that omit it. */
    if (namesz > 0 && out->name[namesz - 1] == '\0')
        out->name_len = namesz - 1;
    out->type = type;
    out->desc = it->pos + need;
    out->desc_len = descsz;
    it->pos += need + align4(descsz);
    return 1;
}

gboolean hv_note_is(const struct hv_blob_note *n, const char *name, uint32_t type)
{
    size_t l = strlen(name);
    return n->type == type && n->name_len == l && memcmp(n->name, name, l) == 0;
}

gboolean hv_notes_parse_prstatus_x86_64(const uint8_t *desc, size_t len,
                                        struct hv_cpu_state *cpu)
{
    struct hv_cpu_x86_64 *c = &cpu->u.x86_64;
    uint64_t r[HV_PRSTATUS_NREGS];

    if (len < HV_PRSTATUS_REG_OFFSET + 8 * HV_PRSTATUS_NREGS)
        return FALSE;
    for (int i = 0; i < HV_PRSTATUS_NREGS; i++)
        r[i] = get64(desc + HV_PRSTATUS_REG_OFFSET + 8 * i);
    uint32_t pid = get32(desc + HV_PRSTATUS_PID_OFFSET);
    cpu->arch = HV_ARCH_X86_64;
    cpu->index = pid > 0 ? pid - 1 : 0;
    c->r15 = r[R_R15]; c->r14 = r[R_R14]; c->r13 = r[R_R13];
    c->r12 = r[R_R12]; c->rbp = r[R_RBP]; c->rbx = r[R_RBX];
    c->r11 = r[R_R11]; c->r10 = r[R_R10]; c->r9 = r[R_R9]; c->r8 = r[R_R8];
    c->rax = r[R_RAX]; c->rcx = r[R_RCX]; c->rdx = r[R_RDX];
    c->rsi = r[R_RSI]; c->rdi = r[R_RDI];
    c->rip = r[R_RIP]; c->cs.selector = (uint32_t)r[R_CS];
    c->rflags = r[R_EFLAGS]; c->rsp = r[R_RSP];
    c->ss.selector = (uint32_t)r[R_SS];
    c->fs.base = r[R_FS_BASE]; c->gs.base = r[R_GS_BASE];
    c->ds.selector = (uint32_t)r[R_DS]; c->es.selector = (uint32_t)r[R_ES];
    c->fs.selector = (uint32_t)r[R_FS]; c->gs.selector = (uint32_t)r[R_GS];
    return TRUE;
}

gboolean hv_notes_parse_qemu_cpu_x86_64(const uint8_t *desc, size_t len,
                                        struct hv_cpu_state *cpu)
{
    struct hv_cpu_x86_64 *c = &cpu->u.x86_64;

    if (len < HV_QEMU_CPUSTATE_MIN_SIZE)
        return FALSE;
    uint32_t version = get32(desc), size = get32(desc + 4);
    if (version != HV_QEMU_CPUSTATE_VERSION || size < HV_QEMU_CPUSTATE_MIN_SIZE ||
        size > len)
        return FALSE;

    cpu->arch = HV_ARCH_X86_64;
    uint64_t *gpr[] = QEMU_GPRS(c);
    struct hv_segment *seg[] = QEMU_SEGS(c);
    for (size_t i = 0; i < G_N_ELEMENTS(gpr); i++)
        *gpr[i] = get64(desc + Q_GPR_OFF + 8 * i);
    for (size_t i = 0; i < G_N_ELEMENTS(seg); i++)
        get_seg(desc + Q_SEG_OFF + Q_SEG_SIZE * i, seg[i]);
    for (int i = 0; i < 5; i++)
        c->cr[i] = get64(desc + Q_CR_OFF + 8 * i);
    if (size >= HV_QEMU_CPUSTATE_SIZE)
        c->kernel_gs_base = get64(desc + Q_KGS_OFF);
    return TRUE;
}

static void parse_hvdump(const struct hv_blob_note *n, struct hv_notes_info *out)
{
    char *text = g_strndup((const char *)n->desc, n->desc_len);
    char **lines = g_strsplit(text, "\n", -1);

    out->have_hvdump = TRUE;
    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "producer=")) {
            g_free(out->producer);
            out->producer = g_strdup(*l + strlen("producer="));
        } else if (g_str_has_prefix(*l, "live=")) {
            out->live = strcmp(*l + strlen("live="), "1") == 0;
        } else if (strcmp(*l, "vmcoreinfo=untrusted") == 0) {
            out->vmcoreinfo_untrusted = TRUE;
        }
    }
    g_strfreev(lines);
    g_free(text);
}

gboolean hv_notes_parse(const uint8_t *blob, size_t len,
                        struct hv_notes_info *out, GError **err)
{
    struct hv_note_iter it;
    struct hv_blob_note n;
    GArray *cpus = g_array_new(FALSE, TRUE, sizeof(struct hv_cpu_state));
    size_t n_qemu = 0;
    int r;

    memset(out, 0, sizeof(*out));
    hv_note_iter_init(&it, blob, len);
    while ((r = hv_note_iter_next(&it, &n, err)) == 1) {
        if (hv_note_is(&n, "CORE", HV_NT_PRSTATUS)) {
            struct hv_cpu_state c = {0};
            if (!hv_notes_parse_prstatus_x86_64(n.desc, n.desc_len, &c)) {
                g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                            "NT_PRSTATUS note too short (%zu bytes)", n.desc_len);
                r = -1;
                break;
            }
            g_array_append_val(cpus, c);
        } else if (hv_note_is(&n, "QEMU", HV_NT_QEMU)) {
            /* QEMU notes follow all PRSTATUS notes, k-th to k-th; their
             * values agree with PRSTATUS, so overwriting is harmless. */
            struct hv_cpu_state *c;
            if (n_qemu >= cpus->len) {
                /* A QEMU note without a PRSTATUS one: still a CPU of the
                 * layout this parser knows, even if the note is refused. */
                g_array_set_size(cpus, n_qemu + 1);
                g_array_index(cpus, struct hv_cpu_state, n_qemu).arch = HV_ARCH_X86_64;
            }
            c = &g_array_index(cpus, struct hv_cpu_state, n_qemu);
            if (hv_notes_parse_qemu_cpu_x86_64(n.desc, n.desc_len, c)) {
                if (n_qemu > 0 && c->index == 0)
                    c->index = (uint32_t)n_qemu;
                n_qemu++;
            }
        } else if (hv_note_is(&n, "VMCOREINFO", HV_NT_VMCOREINFO)) {
            out->vmcoreinfo = n.desc;
            out->vmcoreinfo_len = n.desc_len;
        } else if (hv_note_is(&n, "HVDUMP", HV_NT_HVDUMP)) {
            parse_hvdump(&n, out);
        }
    }
    if (r < 0) {
        g_array_free(cpus, TRUE);
        hv_notes_info_clear(out);
        return FALSE;
    }
    out->have_qemu_cpu = n_qemu > 0;
    out->n_cpus = cpus->len;
    out->cpus = (struct hv_cpu_state *)(void *)g_array_free(cpus, FALSE);
    return TRUE;
}

void hv_notes_info_clear(struct hv_notes_info *info)
{
    g_free(info->cpus);
    g_free(info->producer);
    memset(info, 0, sizeof(*info));
}
