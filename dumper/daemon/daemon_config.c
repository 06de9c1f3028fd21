/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading hvdumpd's INI file (see daemon_config.h) and the small parsers
 * behind it (sizes, after=, a format's file extension).
 * Unknown groups and keys are errors rather than ignored: a misspelt
 * max-bytes= would otherwise silently leave the spool unbounded. */
#include "dumper/daemon/daemon_config.h"

#include <errno.h>
#include <string.h>

#include "dumper/engine/job.h"
#include "common/hv_error.h"
#include "common/size_parse.h"

static const char *const after_names[] = { "none", "destroy", "restart" };

gboolean hvd_after_parse(const char *s, enum hvd_after *out, GError **err)
{
    for (size_t i = 0; i < G_N_ELEMENTS(after_names); i++) {
        if (g_strcmp0(s, after_names[i]) == 0) {
            *out = (enum hvd_after)i;
            return TRUE;
        }
    }
    g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                "invalid after= '%s' (expected none, destroy or restart)", s ? s : "");
    return FALSE;
}

const char *hvd_after_name(enum hvd_after a)
{
    return after_names[a];
}

const char *hvd_format_ext(const char *format)
{
    const struct hv_format *f = hv_format_find(format, NULL);
    return f ? f->ext : "kdump";
}

static const char *const daemon_keys[] = { "uri", "spool", "socket", "socket-group", NULL };
static const char *const collect_keys[] = { "domains", "format", "after", "keep",
                                            "max-bytes", "domain-max-bytes", "min-free",
                                            "crash-limit", NULL };

static gboolean check_keys(GKeyFile *kf, GError **err)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        const char *const *allowed;
        if (strcmp(*g, "daemon") == 0)
            allowed = daemon_keys;
        else if (strcmp(*g, "collect") == 0)
            allowed = collect_keys;
        else {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "unknown group [%s]", *g);
            return FALSE;
        }
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
        for (char **k = keys; k && *k; k++) {
            if (!g_strv_contains(allowed, *k)) {
                g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                            "unknown key '%s' in [%s]", *k, *g);
                return FALSE;
            }
            /* No value here needs an escape, and GLib 2.74's unescaping
             * mishandles some malformed ones (it sets a GError twice,
             * found by fuzz_config): refuse backslashes outright. */
            g_autofree char *raw = g_key_file_get_value(kf, *g, *k, NULL);
            if (raw && strchr(raw, '\\')) {
                g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                            "'%s' in [%s]: backslashes are not allowed in values", *k, *g);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean hvd_parse_rate(const char *s, unsigned *n, int64_t *window_usec, GError **err)
{
    guint64 count, amount;
    char *end;
    const char *slash = strchr(s, '/');
    *n = 0;
    *window_usec = 0;
    if (strcmp(s, "0") == 0)
        return TRUE;
    g_autofree char *num = slash ? g_strndup(s, (gsize)(slash - s)) : NULL;
    if (!slash || !g_ascii_string_to_unsigned(num, 10, 1, 100000, &count, NULL))
        goto bad;
    errno = 0;
    amount = g_ascii_strtoull(slash + 1, &end, 10);
    if (errno || end == slash + 1 || amount == 0)
        goto bad;
    int64_t unit;
    if (!*end || strcmp(end, "s") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "d") == 0)
        unit = 86400;
    else
        goto bad;
    if (amount > (guint64)(366 * 86400) / (guint64)unit)
        goto bad;
    *n = (unsigned)count;
    *window_usec = (int64_t)amount * unit * G_USEC_PER_SEC;
    return TRUE;
bad:
    g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                "invalid crash-limit= '%s' (want N/DURATION, e.g. 3/1h, or 0)", s);
    return FALSE;
}

/* A missing key keeps the default; any other lookup error is reported. */
static char *get_str(GKeyFile *kf, const char *g, const char *k, const char *def)
{
    char *v = g_key_file_get_string(kf, g, k, NULL);
    if (v)
        g_strstrip(v);
    if (v && *v)
        return v;
    g_free(v);
    return g_strdup(def);
}

gboolean hvd_config_load_data(struct hvd_config *c, const char *data, GError **err)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) e = NULL;
    g_autofree char *after = NULL, *keep = NULL, *maxb = NULL, *minf = NULL;
    g_autofree char *dmaxb = NULL, *rate = NULL;
    const struct hv_writer_ops *wops;
    enum hv_codec_id codec;
    guint64 k;

    memset(c, 0, sizeof *c);
    if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &e)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "%s", e->message);
        return FALSE;
    }
    if (!check_keys(kf, err))
        return FALSE;

    c->uri = get_str(kf, "daemon", "uri", NULL);
    c->spool = get_str(kf, "daemon", "spool", HVD_DEFAULT_SPOOL);
    c->socket = get_str(kf, "daemon", "socket", HVD_DEFAULT_SOCKET);
    c->socket_group = get_str(kf, "daemon", "socket-group", NULL);
    c->format = get_str(kf, "collect", "format", HV_DEFAULT_FORMAT);
    c->domains = g_key_file_get_string_list(kf, "collect", "domains", NULL, NULL);
    if (c->domains)
        for (char **d = c->domains; *d; d++)
            g_strstrip(*d);

    if (!hv_format_parse(c->format, &wops, &codec, err))
        goto fail;
    if (!g_path_is_absolute(c->spool) || !g_path_is_absolute(c->socket)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "spool= and socket= must be absolute paths");
        goto fail;
    }
    after = get_str(kf, "collect", "after", "none");
    if (!hvd_after_parse(after, &c->after, err))
        goto fail;
    keep = get_str(kf, "collect", "keep", HVD_DEFAULT_KEEP);
    if (!g_ascii_string_to_unsigned(keep, 10, 0, G_MAXUINT, &k, NULL)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "invalid keep= '%s'", keep);
        goto fail;
    }
    c->keep = (unsigned)k;
    maxb = get_str(kf, "collect", "max-bytes", "0");
    if (!hv_parse_size(maxb, &c->max_bytes, err))
        goto fail;
    minf = get_str(kf, "collect", "min-free", "0");
    if (!hv_parse_size(minf, &c->min_free, err))
        goto fail;
    dmaxb = get_str(kf, "collect", "domain-max-bytes", "0");
    if (!hv_parse_size(dmaxb, &c->domain_max_bytes, err))
        goto fail;
    rate = get_str(kf, "collect", "crash-limit", HVD_DEFAULT_CRASH_LIMIT);
    if (!hvd_parse_rate(rate, &c->crash_limit, &c->crash_window_usec, err))
        goto fail;
    return TRUE;
fail:
    hvd_config_clear(c);
    return FALSE;
}

gboolean hvd_config_load_file(struct hvd_config *c, const char *path, GError **err)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) e = NULL;

    if (!g_file_get_contents(path, &data, NULL, &e)) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    if (!hvd_config_load_data(c, data, &e)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "%s: %s", path, e->message);
        return FALSE;
    }
    return TRUE;
}

void hvd_config_clear(struct hvd_config *c)
{
    g_free(c->uri);
    g_free(c->spool);
    g_free(c->socket);
    g_free(c->socket_group);
    g_strfreev(c->domains);
    g_free(c->format);
    memset(c, 0, sizeof *c);
}

gboolean hvd_config_domain_matches(const struct hvd_config *c, const char *name)
{
    if (!c->domains || !c->domains[0])
        return TRUE;
    for (char **d = c->domains; *d; d++)
        if (**d && g_pattern_match_simple(*d, name))
            return TRUE;
    return FALSE;
}
