/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The format-independent part of reading a vmcore: probing, the note list,
 * ranges, and verification by reading every page.  The formats themselves
 * live in reader_elf.c and reader_kdump.c behind struct hv_vmcore_ops. */

#include <stdarg.h>
#include "formats/notes.h"

#include "formats/reader_priv.h"

#include <string.h>
#include "common/hv_error.h"

static const struct hv_vmcore_ops *const formats[] = {
    &hv_vmcore_elf_ops,
    &hv_vmcore_kdump_ops,
};

gboolean hv_reader_add_notes(struct hv_vmcore *d, uint8_t *blob, size_t len,
                             GError **err)
{
    struct hv_note_iter it;
    struct hv_blob_note n;
    struct hv_notes_info ni;
    const uint8_t *vmci = NULL;
    size_t vmci_len = 0;
    int r;

    g_ptr_array_add(d->blobs, blob);
    hv_note_iter_init(&it, blob, len);
    while ((r = hv_note_iter_next(&it, &n, err)) == 1) {
        struct hv_vmcore_note out = { .type = n.type, .desc = n.desc,
                                      .desc_size = (uint32_t)n.desc_len };
        size_t nl = MIN(n.name_len, sizeof(out.name) - 1);
        memcpy(out.name, n.name, nl);
        out.name[nl] = '\0';
        g_array_append_val(d->notes, out);
        if (!vmci && hv_note_is(&n, "VMCOREINFO", HV_NT_VMCOREINFO)) {
            vmci = n.desc;
            vmci_len = n.desc_len;
        }
    }
    if (r < 0)
        return FALSE;
    /* The blob is well-formed; what hv_notes_parse() can still reject is a
     * CPU note of another layout (a 32-bit guest's NT_PRSTATUS).  That
     * costs the CPU list, not the dump. */
    if (!hv_notes_parse(blob, len, &ni, NULL)) {
        memset(&ni, 0, sizeof(ni));
        ni.vmcoreinfo = vmci;
        ni.vmcoreinfo_len = vmci_len;
    }
    if (ni.n_cpus > 0)
        g_array_append_vals(d->cpus, ni.cpus, (guint)ni.n_cpus);
    if (ni.vmcoreinfo && !d->info.vmcoreinfo) {
        d->info.vmcoreinfo = ni.vmcoreinfo;
        d->info.vmcoreinfo_len = ni.vmcoreinfo_len;
    }
    if (ni.have_hvdump) {
        d->info.have_hvdump = TRUE;
        d->info.live = ni.live;
        d->info.vmcoreinfo_untrusted = ni.vmcoreinfo_untrusted;
        g_free(d->producer);
        d->producer = ni.producer;
        ni.producer = NULL;
    }
    hv_notes_info_clear(&ni);
    return TRUE;
}

void hv_reader_set_vmcoreinfo(struct hv_vmcore *d, const uint8_t *text, size_t len)
{
    g_free(d->vmcoreinfo_own);
    d->vmcoreinfo_own = g_memdup2(text, len);
    d->info.vmcoreinfo = d->vmcoreinfo_own;
    d->info.vmcoreinfo_len = len;
}

void hv_reader_add_range(struct hv_vmcore *d, uint64_t start, uint64_t end)
{
    if (end <= start)
        return;
    if (d->ranges->len > 0) {
        struct hv_range *last = &g_array_index(d->ranges, struct hv_range,
                                               d->ranges->len - 1);
        if (start <= last->start + last->size) {
            if (end > last->start + last->size)
                last->size = end - last->start;
            return;
        }
    }
    struct hv_range r = { start, end - start };
    g_array_append_val(d->ranges, r);
}

struct hv_vmcore *hv_vmcore_open(const char *path, GError **err)
{
    struct hv_vmcore *d = g_new0(struct hv_vmcore, 1);
    uint8_t head[HV_READER_PROBE_LEN] = { 0 };

    d->ranges = g_array_new(FALSE, FALSE, sizeof(struct hv_range));
    d->notes = g_array_new(FALSE, FALSE, sizeof(struct hv_vmcore_note));
    d->blobs = g_ptr_array_new_with_free_func(g_free);
    d->cpus = g_array_new(FALSE, TRUE, sizeof(struct hv_cpu_state));
    d->src = hv_bytesrc_open(path, err);
    if (!d->src)
        goto fail;
    size_t hlen = (size_t)MIN(d->src->size, sizeof(head));
    if (!d->src->read_at(d->src, 0, head, hlen, err))
        goto fail;
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        if (formats[i]->probe(head, hlen)) {
            d->ops = formats[i];
            break;
        }
    }
    if (!d->ops) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    hlen == 0 ? "empty file" : "not an ELF or kdump-compressed vmcore");
        goto fail;
    }
    d->info.flattened = d->src->flattened;
    d->info.dump_level = -1;
    if (!d->ops->open(d, err))
        goto fail;
    /* The arrays are final now: publish their storage. */
    d->info.n_notes = d->notes->len;
    d->info.notes = (const struct hv_vmcore_note *)(void *)d->notes->data;
    d->info.n_cpus = d->cpus->len;
    d->info.cpus = (const struct hv_cpu_state *)(void *)d->cpus->data;
    d->info.producer = d->producer;
    return d;
fail:
    hv_vmcore_close(d);
    return NULL;
}

const struct hv_vmcore_facts *hv_vmcore_facts(struct hv_vmcore *d)
{
    return &d->info;
}

const struct hv_range *hv_vmcore_ranges(struct hv_vmcore *d, size_t *n)
{
    *n = d->ranges->len;
    return (const struct hv_range *)(void *)d->ranges->data;
}

enum hv_read_status hv_vmcore_read_page(struct hv_vmcore *d, uint64_t pfn,
                                        void *buf, GError **err)
{
    return d->ops->read_page(d, pfn, buf, err);
}

uint64_t hv_vmcore_next_data_pfn(struct hv_vmcore *d, uint64_t pfn)
{
    return d->ops->next_data_pfn ? d->ops->next_data_pfn(d, pfn) : pfn;
}

gboolean hv_vmcore_verify(struct hv_vmcore *d,
                          void (*progress_cb)(uint64_t done, uint64_t total, void *ud),
                          void *ud, GError **err)
{
    const uint64_t ps = d->info.page_size;
    uint64_t done = 0, total = d->info.pages_dumped;
    gboolean ok = TRUE;

    if (d->ops->verify && !d->ops->verify(d, err))
        return FALSE;
    uint8_t *buf = g_malloc(ps);
    for (guint i = 0; ok && i < d->ranges->len; i++) {
        const struct hv_range *r = &g_array_index(d->ranges, struct hv_range, i);
        const uint64_t end = (r->start + r->size) / ps;
        for (uint64_t pfn = r->start / ps; pfn < end;) {
            /* Pages no file data backs are zero by definition: count them
             * as read rather than reading each (a zero tail may be huge). */
            uint64_t next = MIN(hv_vmcore_next_data_pfn(d, pfn), end);
            if (next > pfn) {
                done += next - pfn;
                pfn = next;
                if (progress_cb)
                    progress_cb(done, total, ud);
                continue;
            }
            enum hv_read_status st = d->ops->read_page(d, pfn, buf, err);
            if (st == HV_READ_ERROR) {
                g_prefix_error(err, "page 0x%" G_GINT64_MODIFIER "x: ", pfn);
                ok = FALSE;
                break;
            }
            if (st == HV_READ_OK)
                done++;
            if (progress_cb && (done & 0xffff) == 0)
                progress_cb(done, total, ud);
            pfn++;
        }
    }
    g_free(buf);
    if (ok && done != total) {
        g_set_error(err, HV_ERROR, HV_ERROR_CORRUPT,
                    "%" G_GUINT64_FORMAT " pages readable but %" G_GUINT64_FORMAT
                    " announced as dumped", done, total);
        ok = FALSE;
    }
    if (ok && progress_cb)
        progress_cb(done, total, ud);
    return ok;
}

void hv_vmcore_close(struct hv_vmcore *d)
{
    if (!d)
        return;
    if (d->ops && d->ops->cleanup)
        d->ops->cleanup(d);
    if (d->src)
        d->src->close(d->src);
    g_array_free(d->ranges, TRUE);
    g_array_free(d->notes, TRUE);
    g_ptr_array_free(d->blobs, TRUE);
    g_array_free(d->cpus, TRUE);
    g_free(d->vmcoreinfo_own);
    g_free(d->producer);
    g_free(d);
}

gboolean hv_reader_corrupt(GError **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(err, HV_ERROR, HV_ERROR_CORRUPT, msg);
    g_free(msg);
    return FALSE;
}
