/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a hostile or broken "QEMU" says on the QMP socket: the input is the
 * server's byte stream (greeting, replies, events), split into lines as
 * guest-mem/qmp.c reads it, and each line goes through qmp_msg_parse() in
 * memory -- the very parser the client uses, without a socket per input.
 * Every line must parse or fail with an error, never trip a Json-CRITICAL. */
#include "guest-mem/qmp_msg.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    /* GDataInputStream (NEWLINE_TYPE_ANY) ends lines at \n, \r or \r\n. */
    char **lines = g_strsplit_set(text, "\r\n", -1);

    for (char **l = lines; *l; l++) {
        struct qmp_msg m;
        GError *err = NULL;

        if (!qmp_msg_parse(*l, &m, &err)) {
            if (!err)
                abort();
            g_error_free(err);
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
    }
    g_strfreev(lines);
    g_free(text);
    return 0;
}
