/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VMCOREINFO text comes from guest memory or a dump's note: any bytes
 * (no NUL terminator, NULs inside, no final newline) must be handled. */
#include "formats/vmcoreinfo.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {
        "OSRELEASE", "PAGESIZE", "CRASHTIME", "KERNELOFFSET", "SYMBOL(_stext)",
        "NUMBER(phys_base)", "", "=", "SYMBOL(", "A",
    };
    uint8_t *text = fuzz_copy(data, size);
    uint64_t v;

    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        g_free(hv_vmcoreinfo_get(text, size, keys[i]));
    hv_vmcoreinfo_symbol(text, size, "_stext", &v);
    hv_vmcoreinfo_symbol(text, size, "init_uts_ns", &v);
    hv_vmcoreinfo_number(text, size, "phys_base", &v);
    hv_vmcoreinfo_number(text, size, "KERNEL_IMAGE_SIZE", &v);
    hv_vmcoreinfo_decimal(text, size, "PAGESIZE", &v);
    hv_vmcoreinfo_decimal(text, size, "OFFSET(list_head.next)", &v);
    hv_vmcoreinfo_decimal(text, size, "SIZE(page)", &v);
    free(text);
    return 0;
}
