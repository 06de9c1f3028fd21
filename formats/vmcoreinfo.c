/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lookups in VMCOREINFO text.  The text is small (a few KiB) and looked up
 * a handful of times per dump, so a linear scan is the right tool. */
#include "formats/vmcoreinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Finds "KEY=" at the start of a line; returns the value's span. */
static gboolean find_value(const uint8_t *text, size_t len, const char *key,
                           const char **val, size_t *val_len)
{
    size_t kl = strlen(key);
    const char *p = (const char *)text, *end = p + len;

    if (!text || kl == 0)
        return FALSE;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            *val = p + kl + 1;
            *val_len = (size_t)(le - *val);
            /* Stop at a NUL: notes are often padded with them. */
            const char *z = memchr(*val, '\0', *val_len);
            if (z)
                *val_len = (size_t)(z - *val);
            return TRUE;
        }
        p = le + 1;
    }
    return FALSE;
}

char *hv_vmcoreinfo_get(const uint8_t *text, size_t len, const char *key)
{
    const char *v;
    size_t vl;

    if (!find_value(text, len, key, &v, &vl))
        return NULL;
    return g_strndup(v, vl);
}

static gboolean parse_num(const uint8_t *text, size_t len, const char *key,
                          int base, gboolean allow_neg, uint64_t *out)
{
    char *s = hv_vmcoreinfo_get(text, len, key);
    char *endp = NULL;
    gboolean ok = FALSE;

    if (!s)
        return FALSE;
    g_strstrip(s);
    errno = 0;
    if (allow_neg && s[0] == '-') {
        gint64 v = g_ascii_strtoll(s, &endp, base);
        if (errno == 0 && endp != s && *endp == '\0') {
            *out = (uint64_t)v;
            ok = TRUE;
        }
    } else if (s[0] != '\0' && s[0] != '-') {
        guint64 v = g_ascii_strtoull(s, &endp, base);
        if (errno == 0 && endp != s && *endp == '\0') {
            *out = v;
            ok = TRUE;
        }
    }
    g_free(s);
    return ok;
}

gboolean hv_vmcoreinfo_symbol(const uint8_t *text, size_t len, const char *name,
                              uint64_t *out)
{
    char *key = g_strdup_printf("SYMBOL(%s)", name);
    gboolean ok = parse_num(text, len, key, 16, FALSE, out);
    g_free(key);
    return ok;
}

gboolean hv_vmcoreinfo_number(const uint8_t *text, size_t len, const char *name,
                              uint64_t *out)
{
    char *key = g_strdup_printf("NUMBER(%s)", name);
    /* The kernel prints NUMBER() as signed decimal, except a few (e.g.
     * phys_base on some kernels, KERNELOFFSET) that are hex: accept 0x too. */
    gboolean ok = parse_num(text, len, key, 10, TRUE, out) ||
                  parse_num(text, len, key, 16, FALSE, out);
    g_free(key);
    return ok;
}

gboolean hv_vmcoreinfo_decimal(const uint8_t *text, size_t len, const char *key,
                               uint64_t *out)
{
    return parse_num(text, len, key, 10, TRUE, out);
}
