/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a hostile QEMU says about its guest: the input is `info mtree -f`
 * and `info registers -a` (split at the first NUL).  The monitor answers
 * gpa2hva with addresses inside one buffer of ours, which stands for the
 * guest's RAM in this process.  gm_source_qemu_open() must accept only
 * layouts that lie in our mappings (every block then reads back) and
 * refuse the rest with an error; the CPUs must stay within HV_MAX_CPUS. */
#include "common/cpu_state.h"
#include "guest-mem/monitor.h"
#include "guest-mem/source_qemu.h"
#include "fuzz_common.h"

#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (1u << 20)

struct script {
    struct gm_monitor mon;
    char *mtree, *registers;
    uint8_t *ram;
};

static char *s_hmp(struct gm_monitor *m, const char *line, GError **err)
{
    struct script *s = (struct script *)m;
    if (strcmp(line, "info mtree -f") == 0)
        return g_strdup(s->mtree);
    if (strcmp(line, "info registers -a") == 0)
        return g_strdup(s->registers);
    if (g_str_has_prefix(line, "gpa2hva ")) {
        guint64 gpa = g_ascii_strtoull(line + 8, NULL, 0);
        return g_strdup_printf("Host virtual address for 0x%" G_GINT64_MODIFIER "x (ram) is %p\n",
                               gpa, (void *)(s->ram + gpa % RAM));
    }
    g_set_error(err, 1, 1, "unexpected %s", line);
    return NULL;
}

static char *s_qmp(struct gm_monitor *m, const char *json, GError **err)
{
    (void)m;
    (void)json;
    g_set_error(err, 1, 1, "no QMP here");
    return NULL;
}

static pid_t s_pid(struct gm_monitor *m, GError **err)
{
    (void)m;
    (void)err;
    return getpid();
}

static const struct gm_monitor_ops ops = { .hmp = s_hmp, .qmp = s_qmp, .pid = s_pid };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    if (!ram) {
        ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ram == MAP_FAILED)
            abort();
    }
    const uint8_t *nul = memchr(data, 0, size);
    struct script s = { { &ops }, NULL, NULL, ram };
    s.mtree = g_strndup((const char *)data, nul ? (size_t)(nul - data) : size);
    s.registers = nul ? fuzz_cstring(nul + 1, size - (size_t)(nul - data) - 1) : g_strdup("");
    GError *err = NULL;
    struct gm_source *src = gm_source_qemu_open(&s.mon, 4096, &err);
    if (src) {
        /* Accepted: every block lies in readable memory of ours; a read
         * may still fail (the kernel's special mappings such as [vvar]
         * refuse process_vm_readv), but only with an error. */
        uint8_t page[4096];
        for (size_t i = 0; i < src->n_blocks; i++) {
            if (!src->ops->read(src, src->blocks[i].gpa, 1, page, NULL, &err)) {
                if (!err)
                    abort();
                g_clear_error(&err);
            }
        }
        gm_source_close(src);
    } else {
        if (!err)
            abort();
        g_clear_error(&err);
    }
    GArray *cpus = gm_qemu_read_cpus(&s.mon, &err);
    if (cpus) {
        if (cpus->len == 0 || cpus->len > HV_MAX_CPUS)
            abort();
        g_array_unref(cpus);
    } else {
        if (!err)
            abort();
        g_clear_error(&err);
    }
    g_free(s.mtree);
    g_free(s.registers);
    return 0;
}
