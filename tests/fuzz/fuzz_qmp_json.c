/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a hostile or broken "QEMU" says on the QMP socket: the input is the
 * server's byte stream (greeting, replies, events), read line by line by
 * the same bounded line reader guest-mem/qmp.c uses (with a 4 KiB cap here,
 * so long lines reach it), and each line goes through qmp_msg_parse() in
 * memory -- the very parser the client uses, without a socket per input.
 * Every line must parse or fail with an error, never trip a Json-CRITICAL,
 * and deep nesting must be refused before json-glib recurses. */
#include "common/line_reader.h"
#include "guest-mem/qmp_msg.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GInputStream *in = g_memory_input_stream_new_from_data(fuzz_copy(data, size),
                                                           (gssize)size, free);
    struct hv_line_reader *r = hv_line_reader_new(in, 4096);
    char *line;
    size_t len;
    GError *rerr = NULL;

    while ((line = hv_line_reader_read(r, &len, NULL, &rerr))) {
        struct qmp_msg m;
        GError *err = NULL;

        if (len > 4096 || strlen(line) > len)
            abort();
        if (!qmp_msg_parse(line, &m, &err)) {
            if (!err)
                abort();
            g_error_free(err);
            g_free(line);
            continue;
        }
        if (err)
            abort();
        switch (m.kind) {
        case QMP_MSG_EVENT:
            if (!m.event)
                abort();
            break;
        case QMP_MSG_RETURN:
            if (!m.ret)
                abort();
            /* What qmp_hmp() does with an answer. */
            if (JSON_NODE_HOLDS_VALUE(m.ret) &&
                json_node_get_value_type(m.ret) == G_TYPE_STRING)
                (void)strlen(json_node_get_string(m.ret));
            break;
        case QMP_MSG_ERROR:
            if (!m.error_class || !m.error_desc)
                abort();
            break;
        case QMP_MSG_GREETING:
            break;
        }
        qmp_msg_clear(&m);
        g_free(line);
    }
    /* The end: the stream's end, or a line over the cap. */
    if (rerr && !g_error_matches(rerr, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
        abort();
    g_clear_error(&rerr);
    hv_line_reader_free(r);
    g_object_unref(in);
    return 0;
}
