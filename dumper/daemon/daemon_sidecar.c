/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the JSON sidecar of a dump (see daemon_sidecar.h) and the facts
 * it carries from outside the dump: the dump's SHA-256, and the panic
 * message scraped from the console log file named in the domain XML. */
#include "dumper/daemon/daemon_sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "common/hv_error.h"

char *hvd_sha256_file(const char *path, GError **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s: %s", path, g_strerror(errno));
        return NULL;
    }
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
    guchar *buf = g_malloc(1 << 20);
    ssize_t n;
    while ((n = read(fd, buf, 1 << 20)) > 0)
        g_checksum_update(ck, buf, (gssize)n);
    int saved = errno;
    close(fd);
    g_free(buf);
    char *hex = n < 0 ? NULL : g_strdup(g_checksum_get_string(ck));
    g_checksum_free(ck);
    if (!hex)
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s: %s", path, g_strerror(saved));
    return hex;
}

static char *iso8601(int64_t usec)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
    return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

gboolean hvd_sidecar_write(const char *path, const struct hvd_sidecar *s, GError **err)
{
    g_autofree char *sha = hvd_sha256_file(s->dump_path, err);
    if (!sha)
        return FALSE;
    g_autofree char *start = iso8601(s->start_usec);
    g_autofree char *end = iso8601(s->end_usec);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    json_builder_add_string_value(b, s->domain);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, s->uuid);
    json_builder_set_member_name(b, "host");
    json_builder_add_string_value(b, g_get_host_name());
    json_builder_set_member_name(b, "trigger");
    json_builder_add_string_value(b, s->trigger);
    json_builder_set_member_name(b, "start");
    json_builder_add_string_value(b, start);
    json_builder_set_member_name(b, "end");
    json_builder_add_string_value(b, end);
    json_builder_set_member_name(b, "duration_s");
    json_builder_add_double_value(b, (double)(s->end_usec - s->start_usec) / G_USEC_PER_SEC);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, s->format);
    json_builder_set_member_name(b, "file");
    g_autofree char *base = g_path_get_basename(s->dump_path);
    json_builder_add_string_value(b, base);
    json_builder_set_member_name(b, "dump_bytes");
    json_builder_add_int_value(b, (gint64)s->dump_bytes);
    if (s->guest_bytes) {
        json_builder_set_member_name(b, "guest_bytes");
        json_builder_add_int_value(b, (gint64)s->guest_bytes);
    }
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, sha);
    json_builder_set_member_name(b, "kernel_release");
    if (s->kernel_release)
        json_builder_add_string_value(b, s->kernel_release);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "panic_message");
    if (s->panic_message)
        json_builder_add_string_value(b, s->panic_message);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autofree char *withnl = g_strconcat(text, "\n", NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(path, withnl, -1, &e)) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    return TRUE;
}

char *hvd_panic_message_from_log(const char *text, size_t len)
{
    static const char key[] = "Kernel panic - not syncing: ";
    const char *last = NULL;
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), key, sizeof key - 1);
        if (!hit)
            break;
        last = hit + sizeof key - 1;
        p = last;
    }
    if (!last)
        return NULL;
    const char *eol = last;
    while (eol < end && *eol != '\n' && *eol != '\r')
        eol++;
    /* The console may carry control characters; keep the sidecar clean. */
    char *msg = g_strndup(last, (gsize)(eol - last));
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    g_strstrip(msg);
    if (!*msg)
        g_clear_pointer(&msg, g_free);
    return msg;
}

struct xml_scan {
    int depth_in_chardev;   /* >0 inside a <serial>/<console> of type file */
    char *path;
};

static void xml_start(GMarkupParseContext *ctx, const char *el, const char **names,
                      const char **vals, gpointer ud, GError **err)
{
    struct xml_scan *x = ud;
    (void)ctx;
    (void)err;
    if (x->path)
        return;
    if (!strcmp(el, "serial") || !strcmp(el, "console")) {
        for (int i = 0; names[i]; i++)
            if (!strcmp(names[i], "type") && !strcmp(vals[i], "file"))
                x->depth_in_chardev = 1;
        return;
    }
    if (x->depth_in_chardev && !strcmp(el, "source"))
        for (int i = 0; names[i]; i++)
            if (!strcmp(names[i], "path"))
                x->path = g_strdup(vals[i]);
}

static void xml_end(GMarkupParseContext *ctx, const char *el, gpointer ud, GError **err)
{
    struct xml_scan *x = ud;
    (void)ctx;
    (void)err;
    if (!strcmp(el, "serial") || !strcmp(el, "console"))
        x->depth_in_chardev = 0;
}

char *hvd_console_log_path(const char *domain_xml)
{
    static const GMarkupParser parser = { xml_start, xml_end, NULL, NULL, NULL };
    struct xml_scan x = { 0, NULL };
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &x, NULL);
    g_markup_parse_context_parse(ctx, domain_xml, -1, NULL);
    g_markup_parse_context_free(ctx);
    return x.path;
}
