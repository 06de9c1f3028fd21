/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The note blob parser (notes.c): a PT_NOTE segment or kdump note area is
 * file content, so any bytes must parse or fail cleanly. */
#include "formats/notes.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob = fuzz_copy(data, size);
    struct hv_note_iter it;
    struct hv_blob_note n;
    struct hv_cpu_state cpu;
    GError *err = NULL;
    int r;

    hv_note_iter_init(&it, blob, size);
    while ((r = hv_note_iter_next(&it, &n, &err)) == 1) {
        if (n.desc_len > size || n.name_len > size)
            abort();
        hv_notes_parse_prstatus_x86_64(n.desc, n.desc_len, &cpu);
        hv_notes_parse_qemu_cpu_x86_64(n.desc, n.desc_len, &cpu);
        hv_note_is(&n, "CORE", HV_NT_PRSTATUS);
    }
    if (r < 0)
        g_clear_error(&err);

    struct hv_notes_info info;
    if (hv_notes_parse(blob, size, &info, &err)) {
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < info.vmcoreinfo_len; i++)
            sink ^= info.vmcoreinfo[i];
        for (size_t i = 0; i < info.n_cpus; i++)
            sink ^= (uint8_t)info.cpus[i].u.x86_64.rip;
        if (info.producer)
            sink ^= (uint8_t)strlen(info.producer);
        (void)sink;
        hv_notes_info_clear(&info);
    } else {
        g_clear_error(&err);
    }
    free(blob);
    return 0;
}
