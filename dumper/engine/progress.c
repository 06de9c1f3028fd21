/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress: a one-line bar rewritten with \r on a TTY, or JSON lines (one
 * object per line) for programs driving hvdump. */
#include "dumper/engine/progress.h"
#include "common/hv_error.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#define MIN_INTERVAL_US (200 * 1000) /* at most ~5 updates a second */
#define BAR_WIDTH 30

struct hv_progress {
    enum hv_progress_mode mode; /* BAR, JSON or NONE: AUTO is resolved */
    FILE *out;
    char *what;
    uint64_t total;
    GMutex lock;
    gint64 start_us;
    gint64 last_us;
    uint64_t done;
    uint64_t out_bytes;
    gboolean drawn;
};

gboolean hv_progress_mode_parse(const char *s, enum hv_progress_mode *out, GError **err)
{
    static const struct { const char *name; enum hv_progress_mode mode; } modes[] = {
        {"auto", HV_PROGRESS_AUTO}, {"bar", HV_PROGRESS_BAR},
        {"json", HV_PROGRESS_JSON}, {"none", HV_PROGRESS_NONE},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        if (s && strcmp(s, modes[i].name) == 0) {
            *out = modes[i].mode;
            return TRUE;
        }
    }
    g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                "bad progress mode '%s' (auto, bar, json or none)", s ? s : "");
    return FALSE;
}

struct hv_progress *hv_progress_new(enum hv_progress_mode mode, FILE *out,
                                    const char *what, uint64_t total_bytes)
{
    struct hv_progress *p = g_new0(struct hv_progress, 1);
    if (mode == HV_PROGRESS_AUTO)
        mode = (out && isatty(fileno(out))) ? HV_PROGRESS_BAR : HV_PROGRESS_NONE;
    p->mode = out ? mode : HV_PROGRESS_NONE;
    p->out = out;
    p->what = g_strdup(what ? what : "dump");
    p->total = total_bytes;
    g_mutex_init(&p->lock);
    p->start_us = g_get_monotonic_time();
    return p;
}

static double elapsed_s(const struct hv_progress *p, gint64 now)
{
    double s = (double)(now - p->start_us) / 1e6;
    return s > 1e-6 ? s : 1e-6;
}

static double mbps(const struct hv_progress *p, gint64 now)
{
    return (double)p->done / 1e6 / elapsed_s(p, now);
}

static double eta_s(const struct hv_progress *p, gint64 now)
{
    double rate = (double)p->done / elapsed_s(p, now);
    if (rate <= 0 || p->done >= p->total)
        return 0;
    return (double)(p->total - p->done) / rate;
}

static void emit_json(struct hv_progress *p, const char *event, gint64 now, int ok)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    if (ok >= 0) {
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, ok);
    }
    json_builder_set_member_name(b, "done");
    json_builder_add_int_value(b, (gint64)p->done);
    json_builder_set_member_name(b, "total");
    json_builder_add_int_value(b, (gint64)p->total);
    json_builder_set_member_name(b, "out");
    json_builder_add_int_value(b, (gint64)p->out_bytes);
    json_builder_set_member_name(b, "mbps");
    json_builder_add_double_value(b, mbps(p, now));
    if (ok < 0) {
        json_builder_set_member_name(b, "eta_s");
        json_builder_add_double_value(b, eta_s(p, now));
    } else {
        json_builder_set_member_name(b, "seconds");
        json_builder_add_double_value(b, elapsed_s(p, now));
    }
    json_builder_end_object(b);
    JsonGenerator *g = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    char *line = json_generator_to_data(g, NULL);
    fprintf(p->out, "%s\n", line);
    fflush(p->out);
    g_free(line);
    json_node_unref(root);
    g_object_unref(g);
    g_object_unref(b);
}

static void draw_bar(struct hv_progress *p, gint64 now)
{
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (frac > 1)
        frac = 1;
    int fill = (int)(frac * BAR_WIDTH);
    char bar[BAR_WIDTH + 1];
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, ' ', (size_t)(BAR_WIDTH - fill));
    bar[BAR_WIDTH] = '\0';
    unsigned eta = (unsigned)eta_s(p, now);
    fprintf(p->out, "\r%s [%s] %3d%% %8.1f MB/s  ETA %u:%02u ", p->what, bar,
            (int)(frac * 100), mbps(p, now), eta / 60, eta % 60);
    fflush(p->out);
    p->drawn = TRUE;
}

void hv_progress_update(struct hv_progress *p, uint64_t done_bytes, uint64_t out_bytes)
{
    if (!p || p->mode == HV_PROGRESS_NONE)
        return;
    g_mutex_lock(&p->lock);
    p->done = done_bytes;
    p->out_bytes = out_bytes;
    gint64 now = g_get_monotonic_time();
    if (now - p->last_us >= MIN_INTERVAL_US) {
        p->last_us = now;
        if (p->mode == HV_PROGRESS_JSON)
            emit_json(p, "progress", now, -1);
        else
            draw_bar(p, now);
    }
    g_mutex_unlock(&p->lock);
}

void hv_progress_finish(struct hv_progress *p, gboolean ok)
{
    if (!p || p->mode == HV_PROGRESS_NONE)
        return;
    g_mutex_lock(&p->lock);
    gint64 now = g_get_monotonic_time();
    if (p->mode == HV_PROGRESS_JSON) {
        emit_json(p, "done", now, ok ? 1 : 0);
    } else {
        if (ok)
            draw_bar(p, now);
        /* End the \r line so later messages start on a fresh one. */
        if (p->drawn)
            fputc('\n', p->out);
        fflush(p->out);
    }
    g_mutex_unlock(&p->lock);
}

void hv_progress_free(struct hv_progress *p)
{
    if (!p)
        return;
    g_mutex_clear(&p->lock);
    g_free(p->what);
    g_free(p);
}
