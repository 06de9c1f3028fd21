/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Any file handed to `hvdump info|verify|convert`: open it (ELF or kdump,
 * plain or flattened), read every page it claims, then verify it.  Errors are
 * fine; crashes, sanitizer reports, leaks and hangs are not. */
#include "formats/reader.h"
#include "fuzz_common.h"

/* A header may claim terabytes whose pages all read as absent or zero; the
 * reader must cope, but the fuzzer must not spend its time there. */
#define MAX_PAGES 4096
#define MAX_PAGE_SIZE (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Pages of the ranges hv_vmcore_verify() would read, counted up to just past
 * MAX_PAGES. */
static uint64_t data_pages(struct hv_vmcore *d, const struct hv_range *r, size_t n,
                           uint32_t ps)
{
    uint64_t count = 0;
    for (size_t i = 0; i < n && count <= MAX_PAGES; i++) {
        uint64_t end = (r[i].start + r[i].size) / ps;
        for (uint64_t pfn = r[i].start / ps; pfn < end && count <= MAX_PAGES; pfn++) {
            pfn = hv_vmcore_next_data_pfn(d, pfn);
            if (pfn >= end)
                break;
            count++;
        }
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size);
    GError *err = NULL;
    struct hv_vmcore *d = hv_vmcore_open(path, &err);

    if (!d) {
        if (!err || !err->message)
            abort(); /* a failure must say why */
        g_error_free(err);
        return 0;
    }
    const struct hv_vmcore_facts *info = hv_vmcore_facts(d);
    size_t n_ranges;
    const struct hv_range *ranges = hv_vmcore_ranges(d, &n_ranges);

    /* Touch everything info points at, so ASan sees stale pointers. */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < info->n_notes; i++)
        for (uint32_t k = 0; k < info->notes[i].desc_size; k++)
            sink ^= info->notes[i].desc[k];
    for (size_t i = 0; i < info->vmcoreinfo_len; i++)
        sink ^= info->vmcoreinfo[i];
    for (size_t i = 0; i < info->n_cpus; i++)
        sink ^= (uint8_t)info->cpus[i].u.x86_64.rip;
    if (info->producer)
        sink ^= (uint8_t)strlen(info->producer);
    (void)sink;

    if (info->page_size == 0 || info->page_size > MAX_PAGE_SIZE) {
        hv_vmcore_close(d);
        return 0;
    }
    uint8_t *buf = g_malloc(info->page_size);
    uint64_t budget = MAX_PAGES;
    for (size_t r = 0; r < n_ranges && budget > 0; r++) {
        uint64_t first = ranges[r].start / info->page_size;
        uint64_t end = (ranges[r].start + ranges[r].size) / info->page_size;
        for (uint64_t pfn = first; pfn < end && budget > 0; pfn++, budget--) {
            if (hv_vmcore_read_page(d, pfn, buf, &err) == HV_READ_ERROR)
                g_clear_error(&err);
        }
    }
    /* Past the end and far away: must be ABSENT or an error, never a crash. */
    if (hv_vmcore_read_page(d, info->max_pfn, buf, &err) == HV_READ_ERROR)
        g_clear_error(&err);
    if (hv_vmcore_read_page(d, UINT64_MAX / info->page_size, buf, &err) == HV_READ_ERROR)
        g_clear_error(&err);
    g_free(buf);

    /* Verify reads only the pages file data backs (a zero tail is counted,
     * not read): bound those, not the announced size. */
    if (data_pages(d, ranges, n_ranges, info->page_size) <= MAX_PAGES) {
        if (!hv_vmcore_verify(d, NULL, NULL, &err))
            g_clear_error(&err);
    }
    hv_vmcore_close(d);
    return 0;
}
