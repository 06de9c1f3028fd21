/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the JSON sidecar of a dump (see daemon_sidecar.h) and the facts
 * it carries from outside the dump: the dump's SHA-256, and the panic
 * message scraped from the console log file named in the domain XML. */
#include "dumper/daemon/daemon_sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "common/hv_error.h"
#include "common/text_safe.h"

/* Longest guest-supplied string kept in a sidecar. */
#define GUEST_TEXT_MAX 1024

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

/* A string from the guest: valid UTF-8, no control characters, bounded;
 * null when unknown. */
static void add_guest_text(JsonBuilder *b, const char *member, const char *text)
{
    json_builder_set_member_name(b, member);
    if (text) {
        g_autofree char *safe = hv_text_safe(text, -1, GUEST_TEXT_MAX);
        json_builder_add_string_value(b, safe);
    } else {
        json_builder_add_null_value(b);
    }
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
    if (s->qemu_pid > 0 && s->qemu_start > 0) {
        json_builder_set_member_name(b, "qemu_pid");
        json_builder_add_int_value(b, s->qemu_pid);
        json_builder_set_member_name(b, "qemu_start");
        json_builder_add_int_value(b, (gint64)s->qemu_start);
    }
    add_guest_text(b, "kernel_release", s->kernel_release);
    add_guest_text(b, "panic_message", s->panic_message);
    if (s->vmcoreinfo_untrusted) {
        json_builder_set_member_name(b, "vmcoreinfo_untrusted");
        json_builder_add_boolean_value(b, TRUE);
    }
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

uint64_t hvd_process_start_time(int64_t pid)
{
    char path[64], buf[1024];
    g_snprintf(path, sizeof path, "/proc/%" G_GINT64_FORMAT "/stat", pid);
    int fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The name (field 2) is in parentheses and may hold anything, ')' too:
     * the fields after it start at the last ')'.  starttime is field 22. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return 0;
    }
    return g_ascii_strtoull(p + 1, NULL, 10);
}

gboolean hvd_sidecar_is_crash_of(const char *path, int64_t qemu_pid, uint64_t qemu_start)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autofree char *text = NULL;
    gsize len = 0;
    /* Our own small files; anything else there is not a match. */
    if (!g_file_get_contents(path, &text, &len, NULL) || len > 65536 ||
        !json_parser_load_from_data(p, text, (gssize)len, NULL))
        return FALSE;
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return FALSE;
    JsonObject *o = json_node_get_object(root);
    JsonNode *trig = json_object_get_member(o, "trigger");
    JsonNode *pid = json_object_get_member(o, "qemu_pid");
    JsonNode *start = json_object_get_member(o, "qemu_start");
    return trig && JSON_NODE_HOLDS_VALUE(trig) && json_node_get_value_type(trig) == G_TYPE_STRING &&
           g_strcmp0(json_node_get_string(trig), "crash") == 0 &&
           pid && JSON_NODE_HOLDS_VALUE(pid) && json_node_get_value_type(pid) == G_TYPE_INT64 &&
           json_node_get_int(pid) == qemu_pid &&
           start && JSON_NODE_HOLDS_VALUE(start) && json_node_get_value_type(start) == G_TYPE_INT64 &&
           (uint64_t)json_node_get_int(start) == qemu_start;
}

char *hvd_console_tail(const char *path, size_t max, GError **err)
{
    /* The path is in the domain's XML, which whoever defines domains
     * controls, and the file is the guest's to fill: no symlinks (root
     * would read any file), no FIFOs or devices (a read that never ends),
     * and only the end of a file of any size. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "console log %s: %s", path, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "console log %s: not a regular file", path);
        close(fd);
        return NULL;
    }
    off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
    char *buf = g_malloc(max + 1);
    size_t got = 0;
    while (got < max) {
        ssize_t n = pread(fd, buf + got, max - got, from + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return buf;
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
