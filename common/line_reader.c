/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/line_reader.h"

#include <string.h>

/* How much is read from the stream at a time. */
#define READ_CHUNK 4096

struct hv_line_reader {
    GInputStream *in;
    size_t max_line;
    /* Received bytes are buf[start, len); room for max_line + READ_CHUNK. */
    char *buf;
    size_t start, len, cap;
    gboolean eof;
    /* An asynchronous read is under way: freeing then only marks the
     * reader, and the read's completion frees it (its buffer is the read's
     * target until then). */
    gboolean in_flight, freed;
};

struct hv_line_reader *hv_line_reader_new(GInputStream *in, size_t max_line)
{
    struct hv_line_reader *r = g_new0(struct hv_line_reader, 1);
    r->in = g_object_ref(in);
    r->max_line = max_line ? max_line : 1;
    /* + 1: the '\n' of a line of exactly max_line bytes (or its '\r'). */
    r->cap = r->max_line + 2 + READ_CHUNK;
    r->buf = g_malloc(r->cap);
    return r;
}

static void really_free(struct hv_line_reader *r)
{
    g_object_unref(r->in);
    g_free(r->buf);
    g_free(r);
}

void hv_line_reader_free(struct hv_line_reader *r)
{
    if (!r)
        return;
    if (r->in_flight)
        r->freed = TRUE;
    else
        really_free(r);
}

size_t hv_line_reader_buffered(const struct hv_line_reader *r)
{
    return r->len - r->start;
}

static char *take(struct hv_line_reader *r, size_t n, size_t skip, size_t *len)
{
    size_t l = n;
    if (l > 0 && r->buf[r->start + l - 1] == '\r' && skip)
        l--;
    char *line = g_malloc(l + 1);
    memcpy(line, r->buf + r->start, l);
    line[l] = '\0';
    r->start += n + skip;
    if (len)
        *len = l;
    return line;
}

/* 1: a line is in *line; 0: more bytes are needed; -1: error set. */
static int next_line(struct hv_line_reader *r, char **line, size_t *len, GError **err)
{
    const char *s = r->buf + r->start;
    size_t have = r->len - r->start;
    const char *nl = memchr(s, '\n', have);
    if (nl) {
        size_t n = (size_t)(nl - s);
        size_t content = n > 0 && s[n - 1] == '\r' ? n - 1 : n;
        if (content > r->max_line)
            goto too_large;
        *line = take(r, n, 1, len);
        return 1;
    }
    if (have > r->max_line + 1)   /* + 1: a '\r' that may end it */
        goto too_large;
    if (r->eof) {
        if (have == 0) {
            *line = NULL;
            return 1;
        }
        *line = take(r, have, 0, len);
        return 1;
    }
    /* Make room for one more chunk at the end. */
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, have);
        r->start = 0;
        r->len = have;
    }
    return 0;

too_large:
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                "line longer than %zu bytes", r->max_line);
    return -1;
}

static void got_bytes(struct hv_line_reader *r, gssize n)
{
    if (n == 0)
        r->eof = TRUE;
    else
        r->len += (size_t)n;
}

char *hv_line_reader_read(struct hv_line_reader *r, size_t *len, GCancellable *cancel,
                          GError **err)
{
    for (;;) {
        char *line = NULL;
        int got = next_line(r, &line, len, err);
        if (got != 0)
            return line;
        gssize n = g_input_stream_read(r->in, r->buf + r->len,
                                       MIN((size_t)READ_CHUNK, r->cap - r->len), cancel, err);
        if (n < 0)
            return NULL;
        got_bytes(r, n);
    }
}

static void read_more(GTask *task);

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    struct hv_line_reader *r = g_task_get_task_data(task);
    GError *err = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
    r->in_flight = FALSE;
    if (r->freed) {
        really_free(r);
        g_clear_error(&err);
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "line reader freed");
        g_object_unref(task);
        return;
    }
    if (n < 0) {
        g_task_return_error(task, err);
        g_object_unref(task);
        return;
    }
    got_bytes(r, n);
    read_more(task);
}

struct async_line {
    char *line;
    size_t len;
};

static void async_line_free(gpointer p)
{
    struct async_line *a = p;
    g_free(a->line);
    g_free(a);
}

static void read_more(GTask *task)
{
    struct hv_line_reader *r = g_task_get_task_data(task);
    struct async_line a = {0};
    GError *err = NULL;
    int got = next_line(r, &a.line, &a.len, &err);
    if (got < 0) {
        g_task_return_error(task, err);
        g_object_unref(task);
        return;
    }
    if (got > 0) {
        g_task_return_pointer(task, g_memdup2(&a, sizeof a), async_line_free);
        g_object_unref(task);
        return;
    }
    r->in_flight = TRUE;
    g_input_stream_read_async(r->in, r->buf + r->len, MIN((size_t)READ_CHUNK, r->cap - r->len),
                              G_PRIORITY_DEFAULT, g_task_get_cancellable(task), on_read, task);
}

void hv_line_reader_read_async(struct hv_line_reader *r, GCancellable *cancel,
                               GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancel, callback, user_data);
    g_task_set_task_data(task, r, NULL);
    g_task_set_source_tag(task, hv_line_reader_read_async);
    read_more(task);
}

char *hv_line_reader_read_finish(struct hv_line_reader *r, GAsyncResult *res, size_t *len,
                                 GError **err)
{
    (void)r;
    g_return_val_if_fail(g_task_is_valid(res, NULL), NULL);
    struct async_line *a = g_task_propagate_pointer(G_TASK(res), err);
    if (!a)
        return NULL;
    char *line = a->line;
    if (len)
        *len = a->len;
    g_free(a);
    return line;
}
