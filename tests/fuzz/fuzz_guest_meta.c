/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest metadata from a hostile guest's memory: the input is the guest's
 * RAM (at guest-physical 0), and hv_guest_meta_fill() does all it does for
 * a dump -- the VMCOREINFO scan with its candidate checks, utsname, the
 * x86_64 page-table walk for the direct map and kernel text, the
 * mem_section walk.  Whatever the memory holds: no crash, no critical,
 * bounded time (libFuzzer's -timeout), and the meta stays consistent. */
#include "dumper/engine/guest_meta.h"
#include "tests/unit/fake_source.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Whole pages, at least one: the rest of the last page is zero. */
    size_t pages = size / 4096 + 1;
    struct fake_source *f = fake_source_new(pages * 4096, 0, 0);
    memcpy(fake_at(f, 0), data, size);
    struct hv_guest_meta gm;
    hv_guest_meta_init(&gm, 4096);
    GError *err = NULL;
    if (!hv_guest_meta_fill(&gm, &f->base, NULL, &err)) {
        if (!err)
            abort();
        g_error_free(err);
    } else if (err) {
        abort();
    }
    const struct hv_dump_meta *m = &gm.meta;
    if ((m->vmcoreinfo == NULL) != (gm.vmcoreinfo == NULL) ||
        (m->vmcoreinfo && m->vmcoreinfo_len > pages * 4096) ||
        (m->vmcoreinfo_untrusted && !m->vmcoreinfo) ||
        (m->kernel_end_pfn && m->kernel_end_pfn < pages))
        abort();
    hv_guest_meta_clear(&gm);
    gm_source_close(&f->base);
    return 0;
}
