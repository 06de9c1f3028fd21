/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/json_bounds.h"

gboolean hv_json_depth_ok(const char *text, size_t len, unsigned max_depth)
{
    unsigned depth = 0;
    gboolean in_string = FALSE;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;            /* the escaped character, whatever it is */
            else if (c == '"')
                in_string = FALSE;
            continue;
        }
        switch (c) {
        case '"':
            in_string = TRUE;
            break;
        case '[':
        case '{':
            if (++depth > max_depth)
                return FALSE;
            break;
        case ']':
        case '}':
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
    }
    return TRUE;
}
