/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/size_parse.h"
#include "common/hv_error.h"

#include <errno.h>

gboolean hv_parse_size(const char *text, uint64_t *out, GError **err)
{
    const char *s = text;
    char *end = NULL;
    gboolean hex = s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

    if (!s || !g_ascii_isdigit(*s) || (hex && !g_ascii_isxdigit(s[2])))
        goto bad;
    errno = 0;
    guint64 v = g_ascii_strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
    if (errno)
        goto bad;
    unsigned shift = 0;
    switch (g_ascii_toupper(*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && g_ascii_tolower(*end) == 'i')
        end++;
    if (!hex && g_ascii_toupper(*end) == 'B')
        end++;
    if (*end != '\0' || (shift && v > (G_MAXUINT64 >> shift)))
        goto bad;
    *out = v << shift;
    return TRUE;
bad:
    g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                "invalid size or address '%s' (decimal or 0x hex, optional K/M/G/T suffix)",
                text ? text : "");
    return FALSE;
}
