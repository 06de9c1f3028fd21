/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `gpa2hva ADDR` output. */
#include "guest-mem/hmp_parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    GError *err = NULL;
    uint64_t hva;

    if (!hmp_parse_gpa2hva(text, &hva, &err)) {
        if (!err)
            abort();
        g_error_free(err);
    }
    g_free(text);
    return 0;
}
