/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A vmcore read back through formats/reader.h, seen as guest memory. */
#include "dumper/engine/source_vmcore.h"
#include "common/hv_error.h"
#include "formats/vmcoreinfo.h"

#include <string.h>

struct vmcore_source {
    struct gm_source pub;
    struct hv_vmcore *dump;
};

static gboolean vmcore_read(struct gm_source *s, uint64_t gpa, size_t n_pages,
                            uint8_t *buf, enum gm_page_state *state, GError **err)
{
    struct vmcore_source *vs = (struct vmcore_source *)s;
    uint64_t pfn = gpa / s->page_size;
    for (size_t i = 0; i < n_pages; i++) {
        enum hv_read_status st = hv_vmcore_read_page(vs->dump, pfn + i, buf + i * s->page_size, err);
        if (st == HV_READ_ERROR)
            return FALSE;
        if (state)
            state[i] = st == HV_READ_ABSENT ? GM_PAGE_ABSENT : GM_PAGE_READ;
    }
    return TRUE;
}

static void vmcore_close(struct gm_source *s)
{
    struct vmcore_source *vs = (struct vmcore_source *)s;
    hv_vmcore_close(vs->dump);
    g_free(vs->pub.blocks);
    g_free(vs);
}

static const struct gm_source_ops vmcore_ops = {
    .name = "vmcore",
    .read = vmcore_read,
    .map = NULL,
    .close = vmcore_close,
    .thread_safe = FALSE,
};

struct gm_source *hv_source_vmcore_open(const char *path, GError **err)
{
    struct hv_vmcore *d = hv_vmcore_open(path, err);
    if (!d)
        return NULL;
    const struct hv_vmcore_facts *info = hv_vmcore_facts(d);
    size_t n = 0;
    const struct hv_range *r = hv_vmcore_ranges(d, &n);
    if (info->page_size == 0 || n == 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT, "%s: describes no memory", path);
        hv_vmcore_close(d);
        return NULL;
    }
    struct vmcore_source *vs = g_new0(struct vmcore_source, 1);
    vs->pub.ops = &vmcore_ops;
    vs->pub.page_size = info->page_size;
    vs->pub.blocks = g_new(struct gm_block, n);
    vs->pub.n_blocks = n;
    for (size_t i = 0; i < n; i++) {
        vs->pub.blocks[i].gpa = r[i].start;
        vs->pub.blocks[i].size = r[i].size;
    }
    vs->dump = d;
    return &vs->pub;
}

struct hv_vmcore *hv_source_vmcore_dump(struct gm_source *s)
{
    return ((struct vmcore_source *)s)->dump;
}

void hv_source_vmcore_meta(struct gm_source *s, struct hv_dump_meta *meta)
{
    const struct hv_vmcore_facts *info = hv_vmcore_facts(hv_source_vmcore_dump(s));
    memset(meta, 0, sizeof(*meta));
    meta->page_size = info->page_size;
    meta->vmcoreinfo = info->vmcoreinfo;
    meta->vmcoreinfo_len = info->vmcoreinfo ? info->vmcoreinfo_len : 0;
    meta->cpus = info->n_cpus ? info->cpus : NULL;
    meta->n_cpus = info->n_cpus;
    meta->uts = info->uts;
    meta->timestamp_sec = info->timestamp_sec;
    meta->timestamp_usec = info->timestamp_usec;
    meta->phys_base = info->phys_base;
    /* ELF inputs (and QEMU's kdump files) do not carry it in a header. */
    uint64_t pb;
    if (meta->phys_base == 0 && meta->vmcoreinfo &&
        hv_vmcoreinfo_number(meta->vmcoreinfo, meta->vmcoreinfo_len, "phys_base", &pb))
        meta->phys_base = pb;
    /* A filtered input cannot give back what it left out: say so in the
     * output's dump_level too. */
    if (info->pages_dumped < info->pages_present && info->dump_level > 0)
        meta->dump_level_in = info->dump_level;
}
