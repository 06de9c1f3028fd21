/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guest-mem/source_qemu.c against a monitor that lies: the "QEMU" is this
 * test process (its RAM one mmap of ours, readable with process_vm_readv),
 * and the monitor's answers are scripted.  What the monitor says about RAM
 * must match the process's mappings; what it says about CPUs must match
 * itself. */
#include <glib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cpu_state.h"
#include "common/hv_error.h"
#include "guest-mem/monitor.h"
#include "guest-mem/source_qemu.h"

struct script {
    struct gm_monitor mon;     /* first: handed out as the monitor */
    const char *mtree;         /* printf format: %lx is the RAM size - 1 */
    uint64_t ram_size;
    uint64_t hva;              /* what gpa2hva answers */
    char *registers;           /* `info registers -a` */
    int qmp_cpus;              /* query-cpus-fast length, -1 = refuse */
};

static char *s_hmp(struct gm_monitor *m, const char *line, GError **err)
{
    struct script *s = (struct script *)m;
    if (strcmp(line, "info mtree -f") == 0)
        return g_strdup_printf(s->mtree, (unsigned long)(s->ram_size - 1));
    if (g_str_has_prefix(line, "gpa2hva "))
        return g_strdup_printf("Host virtual address for %s (pc.ram) is 0x%" G_GINT64_MODIFIER "x\n",
                               line + 8, (guint64)s->hva);
    if (strcmp(line, "info registers -a") == 0)
        return g_strdup(s->registers);
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "unexpected HMP %s", line);
    return NULL;
}

static char *s_qmp(struct gm_monitor *m, const char *json, GError **err)
{
    struct script *s = (struct script *)m;
    if (strstr(json, "query-cpus-fast") && s->qmp_cpus >= 0) {
        GString *a = g_string_new("[");
        for (int i = 0; i < s->qmp_cpus; i++)
            g_string_append_printf(a, "%s{\"cpu-index\":%d}", i ? "," : "", i);
        g_string_append(a, "]");
        return g_string_free(a, FALSE);
    }
    g_set_error(err, HV_ERROR, HV_ERROR_GUEST, "unexpected QMP %s", json);
    return NULL;
}

static pid_t s_pid(struct gm_monitor *m, GError **err)
{
    (void)m;
    (void)err;
    return getpid();
}

static const struct gm_monitor_ops script_ops = { .hmp = s_hmp, .qmp = s_qmp, .pid = s_pid };

#define RAM (4u << 20)
#define MTREE_OK "FlatView #0\n AS \"memory\", root: system\n Root memory region: system\n" \
                 "  0000000000000000-%016lx (prio 0, ram): pc.ram\n"

static void honest(void)
{
    uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(ram != MAP_FAILED);
    memset(ram + 8192, 0x5a, 4096);
    struct script s = { { &script_ops }, MTREE_OK, RAM, (uintptr_t)ram, NULL, 1 };
    GError *err = NULL;
    struct gm_source *src = gm_source_qemu_open(&s.mon, 4096, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(src->n_blocks, ==, 1);
    g_assert_cmpuint(src->blocks[0].size, ==, RAM);
    uint8_t page[4096];
    g_assert_true(src->ops->read(src, 8192, 1, page, NULL, &err));
    g_assert_cmpuint(page[100], ==, 0x5a);
    src->ops->close(src);
    munmap(ram, RAM);
}

/* RAM that QEMU does not have: 0..2^64-2, or an address not mapped. */
static void lies_about_ram(void)
{
    uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(ram != MAP_FAILED);
    GError *err = NULL;
    struct script huge = { { &script_ops }, MTREE_OK, UINT64_C(0xffffffffffffffff),
                           (uintptr_t)ram, NULL, 1 };
    g_assert_null(gm_source_qemu_open(&huge.mon, 4096, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "implausible"));
    g_clear_error(&err);
    /* Larger than the mapping behind it. */
    struct script over = { { &script_ops }, MTREE_OK, 64u << 20, (uintptr_t)ram, NULL, 1 };
    g_assert_null(gm_source_qemu_open(&over.mon, 4096, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "not mapped in QEMU's memory"));
    g_clear_error(&err);
    /* Somewhere nothing is mapped at all. */
    munmap(ram, RAM);
    struct script gone = { { &script_ops }, MTREE_OK, RAM, (uintptr_t)ram, NULL, 1 };
    g_assert_null(gm_source_qemu_open(&gone.mon, 4096, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_clear_error(&err);
}

static char *registers(unsigned n)
{
    GString *t = g_string_new(NULL);
    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(t, "CPU#%u\nRAX=0000000000000000 RBX=0000000000000000\n"
                                  "RIP=ffffffff81000000 RFL=00000002\n", i);
    return g_string_free(t, FALSE);
}

/* More register sets than vCPUs, or more than any dump may hold. */
static void lies_about_cpus(void)
{
    struct script s = { { &script_ops }, MTREE_OK, RAM, 0, registers(4), 4 };
    GError *err = NULL;
    GArray *cpus = gm_qemu_read_cpus(&s.mon, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(cpus->len, ==, 4);
    g_array_unref(cpus);
    s.qmp_cpus = 2;
    g_assert_null(gm_qemu_read_cpus(&s.mon, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "but QEMU has 2"));
    g_clear_error(&err);
    g_free(s.registers);
    /* A million "CPUs": refused past HV_MAX_CPUS, whatever query-cpus-fast says. */
    s.registers = registers(HV_MAX_CPUS + 1);
    s.qmp_cpus = -1;
    g_assert_null(gm_qemu_read_cpus(&s.mon, &err));
    g_assert_error(err, HV_ERROR, HV_ERROR_GUEST);
    g_assert_nonnull(strstr(err->message, "more than"));
    g_clear_error(&err);
    g_free(s.registers);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/source_qemu/honest", honest);
    g_test_add_func("/source_qemu/lies-about-ram", lies_about_ram);
    g_test_add_func("/source_qemu/lies-about-cpus", lies_about_cpus);
    return g_test_run();
}
