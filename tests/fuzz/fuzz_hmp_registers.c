/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `info registers -a` output for x86_64. */
#include "guest-mem/hmp_parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    GError *err = NULL;
    GArray *r = hmp_parse_registers_x86_64(text, &err);

    if (r)
        g_array_unref(r);
    else if (err)
        g_error_free(err);
    else
        abort();
    g_free(text);
    return 0;
}
