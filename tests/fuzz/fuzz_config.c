/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's configuration file parser (dumper/daemon_config.c). */
#include "dumper/daemon/daemon_config.h"
#include "common/size_parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    struct hvd_config c;
    GError *err = NULL;
    uint64_t v;
    enum hvd_after a;

    if (hvd_config_load_data(&c, text, &err)) {
        hvd_config_domain_matches(&c, "vm1");
        hvd_config_domain_matches(&c, "");
        hvd_format_ext(c.format);
        hvd_after_name(c.after);
        hvd_config_clear(&c);
    } else {
        if (!err)
            abort();
        g_clear_error(&err);
    }
    /* The same bytes as a size and as an after= value. */
    if (!hv_parse_size(text, &v, &err))
        g_clear_error(&err);
    if (!hvd_after_parse(text, &a, &err))
        g_clear_error(&err);
    g_free(text);
    return 0;
}
