/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `info mtree -f` output as QEMU (any version, any machine) may print it. */
#include "guest-mem/hmp_parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    GError *err = NULL;
    GArray *r = hmp_parse_mtree_ram(text, &err);

    if (r) {
        /* Fake host addresses, half contiguous, so merging has work. */
        for (guint i = 0; i < r->len; i++) {
            struct hmp_ram_range *x = &g_array_index(r, struct hmp_ram_range, i);
            if (!x->name)
                abort();
            x->hva = (i & 1) ? 0x7f0000000000ull + x->gpa : x->gpa;
        }
        hmp_ram_ranges_merge(r);
        g_array_unref(r);
    } else {
        if (!err)
            abort();
        g_error_free(err);
    }
    g_free(text);
    return 0;
}
