/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HMP output is meant for humans, so these parsers are strict about the
 * parts they rely on (numbers, the FlatView's range lines) and ignore what
 * they do not need.  Formats seen in QEMU 7.2; newer QEMUs drop "prio N, "
 * from range lines, and under KVM an accelerator name may follow a range. */
#include "guest-mem/hmp_parse.h"
#include "common/hv_error.h"

#include <errno.h>
#include <string.h>

static void range_clear(void *p)
{
    g_free(((struct hmp_ram_range *)p)->name);
}

/* HMP text reaches us through QMP with "\r\n" line ends. */
static char **split_lines(const char *text)
{
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        size_t n = strlen(*l);
        if (n > 0 && (*l)[n - 1] == '\r')
            (*l)[n - 1] = '\0';
    }
    return lines;
}

static gboolean parse_hex(const char *s, const char **end, uint64_t *out)
{
    char *e;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (!g_ascii_isxdigit(*s))
        return FALSE;
    errno = 0;
    *out = g_ascii_strtoull(s, &e, 16);
    if (errno)
        return FALSE;
    *end = e;
    return TRUE;
}

/* "  START-END (prio P, TYPE): NAME[ @OFFSET][ ACCEL]" */
static gboolean parse_range_line(const char *l, struct hmp_ram_range *r, char **type)
{
    const char *p, *open, *close;
    uint64_t start, last;

    while (*l == ' ')
        l++;
    if (!parse_hex(l, &p, &start) || *p != '-' || !parse_hex(p + 1, &p, &last) ||
        strncmp(p, " (", 2) != 0 || last < start)
        return FALSE;
    open = p + 2;
    close = strstr(open, "): ");
    if (!close)
        return FALSE;
    /* TYPE is after the last ", " in the parentheses (or all of it). */
    const char *t = g_strrstr_len(open, close - open, ", ");
    t = t ? t + 2 : open;
    *type = g_strndup(t, (gsize)(close - t));

    const char *name = close + 3, *at = strstr(name, " @"), *name_end;
    uint64_t off = 0;
    if (at && parse_hex(at + 2, &p, &off)) {
        name_end = at;
    } else {
        name_end = name + strlen(name);
        /* An accelerator tag ("KVM") may follow the name. */
        if (name_end - name > 4 && strcmp(name_end - 4, " KVM") == 0)
            name_end -= 4;
    }
    r->gpa = start;
    r->size = last - start + 1;
    r->offset = off;
    r->name = g_strndup(name, (gsize)(name_end - name));
    r->readonly = FALSE;
    r->hva = 0;
    return TRUE;
}

GArray *hmp_parse_mtree_ram(const char *text, GError **err)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(struct hmp_ram_range));
    char **lines = split_lines(text);
    gboolean in_view = FALSE, is_memory = FALSE, found = FALSE;

    g_array_set_clear_func(out, range_clear);
    for (char **lp = lines; *lp; lp++) {
        const char *l = *lp;
        struct hmp_ram_range r;
        char *type = NULL;

        if (g_str_has_prefix(l, "FlatView #")) {
            if (is_memory)
                break; /* the view of "memory" is complete */
            in_view = TRUE;
            continue;
        }
        if (!in_view)
            continue;
        if (g_str_has_prefix(l, " AS \"memory\",")) {
            is_memory = found = TRUE;
            continue;
        }
        if (!is_memory || !parse_range_line(l, &r, &type))
            continue;
        /* dump-guest-memory takes memory_region_is_ram() regions that are
         * neither RAM devices nor non-volatile; "rom" is RAM mapped
         * read-only.  ROM devices ("romd") are not RAM. */
        if (strcmp(type, "ram") == 0 || strcmp(type, "rom") == 0) {
            r.readonly = type[1] == 'o';
            g_array_append_val(out, r);
        } else {
            g_free(r.name);
        }
        g_free(type);
    }
    g_strfreev(lines);
    if (!found) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "`info mtree -f` shows no FlatView for address space \"memory\"");
        g_array_unref(out);
        return NULL;
    }
    if (out->len == 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "`info mtree -f` shows no RAM in address space \"memory\"");
        g_array_unref(out);
        return NULL;
    }
    return out;
}

void hmp_ram_ranges_merge(GArray *ranges)
{
    guint w = 0;

    for (guint i = 0; i < ranges->len; i++) {
        struct hmp_ram_range *r = &g_array_index(ranges, struct hmp_ram_range, i);
        if (w > 0) {
            struct hmp_ram_range *p = &g_array_index(ranges, struct hmp_ram_range, w - 1);
            if (p->gpa + p->size == r->gpa && p->hva + p->size == r->hva) {
                p->size += r->size;
                p->readonly = p->readonly && r->readonly;
                g_free(r->name);
                r->name = NULL;
                continue;
            }
        }
        if (w != i) {
            g_array_index(ranges, struct hmp_ram_range, w) = *r;
            r->name = NULL;
        }
        w++;
    }
    /* Slots past w hold no names any more; the clear func sees NULL. */
    g_array_set_size(ranges, w);
}

gboolean hmp_parse_gpa2hva(const char *text, uint64_t *hva, GError **err)
{
    static const char lead[] = "Host virtual address for ";
    const char *is = strstr(text, ") is ");
    const char *p;

    if (!g_str_has_prefix(text, lead) || !is || !parse_hex(is + 5, &p, hva)) {
        char *msg = g_strstrip(g_strdup(text));
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "gpa2hva: %s",
                    msg[0] ? msg : "no answer");
        g_free(msg);
        return FALSE;
    }
    return TRUE;
}

/* ---- info registers ---- */

static struct hv_segment *segment(struct hv_cpu_x86_64 *c, const char *key)
{
    static const char *const names[] = { "ES", "CS", "SS", "DS", "FS", "GS",
                                         "LDT", "TR", "GDT", "IDT" };
    struct hv_segment *segs[] = { &c->es, &c->cs, &c->ss, &c->ds, &c->fs, &c->gs,
                                  &c->ldt, &c->tr, &c->gdt, &c->idt };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (strcmp(key, names[i]) == 0)
            return segs[i];
    return NULL;
}

static uint64_t *gpr(struct hv_cpu_x86_64 *c, const char *key)
{
    /* 64-bit names, then the 32-bit ones QEMU prints outside long mode. */
    static const char *const names[] = {
        "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP", "R8", "R9", "R10",
        "R11", "R12", "R13", "R14", "R15", "RIP", "RFL", "CR0", "CR2", "CR3",
        "CR4", "EFER", "EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "ESP", "EBP",
        "EIP", "EFL" };
    uint64_t *regs[] = {
        &c->rax, &c->rbx, &c->rcx, &c->rdx, &c->rsi, &c->rdi, &c->rsp, &c->rbp,
        &c->r8, &c->r9, &c->r10, &c->r11, &c->r12, &c->r13, &c->r14, &c->r15,
        &c->rip, &c->rflags, &c->cr[0], &c->cr[2], &c->cr[3], &c->cr[4], &c->efer,
        &c->rax, &c->rbx, &c->rcx, &c->rdx, &c->rsi, &c->rdi, &c->rsp, &c->rbp,
        &c->rip, &c->rflags };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (strcmp(key, names[i]) == 0)
            return regs[i];
    return NULL;
}

/* "R8 =..." → "R8=...": QEMU pads short names before '='. */
static char *squeeze_before_eq(const char *l)
{
    GString *s = g_string_new(NULL);
    for (const char *p = l; *p; p++) {
        if (*p == ' ') {
            const char *q = p;
            while (*q == ' ')
                q++;
            if (*q == '=') {
                p = q - 1;
                continue;
            }
        }
        g_string_append_c(s, *p);
    }
    return g_string_free(s, FALSE);
}

/* Returns FALSE on a malformed value of a register we know. */
static gboolean parse_reg_line(struct hv_cpu_x86_64 *c, const char *line, gboolean *saw_rip)
{
    char *l = squeeze_before_eq(line);
    char *eq = strchr(l, '=');
    gboolean ok = TRUE;

    if (!eq) {
        g_free(l);
        return TRUE;
    }
    *eq = '\0';
    struct hv_segment *seg = segment(c, l);
    if (seg) {
        /* Segments: SEL BASE LIMIT FLAGS; GDT/IDT: BASE LIMIT. */
        gboolean table = seg == &c->gdt || seg == &c->idt;
        uint64_t v[4] = { 0 };
        const char *p = eq + 1;
        int n = table ? 2 : 4;
        for (int i = 0; i < n && ok; i++) {
            while (*p == ' ')
                p++;
            ok = parse_hex(p, &p, &v[i]);
        }
        if (ok && table) {
            seg->base = v[0];
            seg->limit = (uint32_t)v[1];
        } else if (ok) {
            seg->selector = (uint32_t)v[0];
            seg->base = v[1];
            seg->limit = (uint32_t)v[2];
            seg->flags = (uint32_t)v[3];
            /* QEMU prints flags & 0x00ffff00; in the raw descriptor word its
             * CPU note carries, bits 0-7 and 24-31 are base bits 16-23 and
             * 24-31.  For LDT and TR the cached base is the descriptor's, so
             * those bits can be restored; for the others (FS/GS bases come
             * from MSRs) they cannot, and are 0 for flat segments anyway. */
            if (seg == &c->ldt || seg == &c->tr)
                seg->flags |= (uint32_t)((seg->base >> 16) & 0xff) |
                              (uint32_t)((seg->base >> 24) & 0xff) << 24;
        }
        g_free(l);
        return ok;
    }
    *eq = '=';
    char **tok = g_strsplit_set(l, " \t", -1);
    for (char **t = tok; *t && ok; t++) {
        char *e = strchr(*t, '=');
        if (!e)
            continue;
        *e = '\0';
        uint64_t *dst = gpr(c, *t);
        const char *end;
        if (dst) {
            ok = parse_hex(e + 1, &end, dst) && *end == '\0';
            if (ok && (strcmp(*t, "RIP") == 0 || strcmp(*t, "EIP") == 0))
                *saw_rip = TRUE;
        }
    }
    g_strfreev(tok);
    g_free(l);
    return ok;
}

GArray *hmp_parse_registers_x86_64(const char *text, GError **err)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(struct hv_cpu_state));
    char **lines = split_lines(text);
    struct hv_cpu_state *cur = NULL;
    gboolean saw_rip = FALSE, ok = TRUE;

    for (char **lp = lines; *lp && ok; lp++) {
        const char *l = *lp;
        guint64 idx;
        if (g_str_has_prefix(l, "CPU#")) {
            if (cur && !saw_rip)
                break;
            if (!g_ascii_string_to_unsigned(l + 4, 10, 0, G_MAXUINT32, &idx, NULL)) {
                ok = FALSE;
                break;
            }
            if (out->len >= HV_MAX_CPUS) {
                g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                            "`info registers -a` lists more than %d vCPUs", HV_MAX_CPUS);
                g_strfreev(lines);
                g_array_unref(out);
                return NULL;
            }
            g_array_set_size(out, out->len + 1);
            cur = &g_array_index(out, struct hv_cpu_state, out->len - 1);
            cur->arch = HV_ARCH_X86_64;
            cur->index = (uint32_t)idx;
            saw_rip = FALSE;
            continue;
        }
        if (!cur && strchr(l, '=')) {
            /* `info registers` without -a prints one CPU and no header. */
            g_array_set_size(out, 1);
            cur = &g_array_index(out, struct hv_cpu_state, 0);
            cur->arch = HV_ARCH_X86_64;
        }
        if (cur)
            ok = parse_reg_line(&cur->u.x86_64, l, &saw_rip);
    }
    g_strfreev(lines);
    if (!ok || !cur || !saw_rip) {
        g_set_error(err, HV_ERROR, HV_ERROR_GUEST,
                    "cannot parse `info registers` output%s",
                    cur ? "" : " (no CPU found)");
        g_array_unref(out);
        return NULL;
    }
    return out;
}
