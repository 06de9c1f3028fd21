/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/hv_error.c: errno maps to the code a caller can act on, the
 * message is the caller's own, internal errors say they are a bug, and the
 * codes keep their numbers (callers and the daemon's clients compare them). */
#include <errno.h>
#include <glib.h>
#include "common/hv_error.h"

static void code_from_errno(void)
{
    static const struct { int e; HvErrorCode code; } cases[] = {
        { ENOSPC, HV_ERROR_NOSPACE }, { EDQUOT, HV_ERROR_NOSPACE },
        { EPIPE, HV_ERROR_PIPE },
        { EPERM, HV_ERROR_PERMISSION }, { EACCES, HV_ERROR_PERMISSION },
        { EEXIST, HV_ERROR_EXISTS },
        { EIO, HV_ERROR_IO }, { ENOENT, HV_ERROR_IO }, { EROFS, HV_ERROR_IO }, { 0, HV_ERROR_IO },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(hv_error_code_from_errno(cases[i].e), ==, cases[i].code);
}

static void from_errno_keeps_message(void)
{
    GError *err = NULL;
    hv_error_from_errno(&err, EACCES, "cannot create %s: %s", "/x/y", "Permission denied");
    g_assert_error(err, HV_ERROR, HV_ERROR_PERMISSION);
    g_assert_cmpstr(err->message, ==, "cannot create /x/y: Permission denied");
    g_clear_error(&err);
    hv_error_from_errno(&err, ENOSPC, "%%s is not expanded twice: %s", "100%s");
    g_assert_error(err, HV_ERROR, HV_ERROR_NOSPACE);
    g_assert_cmpstr(err->message, ==, "%s is not expanded twice: 100%s");
    g_clear_error(&err);
    hv_error_from_errno(NULL, EIO, "ignored"); /* a caller that does not ask */
}

static void internal_says_bug(void)
{
    GError *err = NULL;
    hv_error_internal(&err, "page 0x%x is not the next page due", 0x10u);
    g_assert_error(err, HV_ERROR, HV_ERROR_INTERNAL);
    g_assert_cmpstr(err->message, ==,
                    "internal error (a bug in hvdump): page 0x10 is not the next page due");
    g_clear_error(&err);
    hv_error_internal(NULL, "ignored");
}

static void codes_keep_their_numbers(void)
{
    g_assert_cmpint(HV_ERROR_FAILED, ==, 0);
    g_assert_cmpint(HV_ERROR_IO, ==, 1);
    g_assert_cmpint(HV_ERROR_NOSPACE, ==, 2);
    g_assert_cmpint(HV_ERROR_PIPE, ==, 3);
    g_assert_cmpint(HV_ERROR_CORRUPT, ==, 4);
    g_assert_cmpint(HV_ERROR_UNSUPPORTED, ==, 5);
    g_assert_cmpint(HV_ERROR_INVALID, ==, 6);
    g_assert_cmpint(HV_ERROR_CANCELLED, ==, 7);
    g_assert_cmpint(HV_ERROR_PERMISSION, ==, 8);
    g_assert_cmpint(HV_ERROR_GUEST, ==, 9);
    g_assert_cmpint(HV_ERROR_EXISTS, ==, 10);
    g_assert_cmpint(HV_ERROR_BUSY, ==, 11);
    g_assert_cmpint(HV_ERROR_INTERNAL, ==, 12);
    g_assert_cmpint(HV_ERROR_NOT_FOUND, ==, 13);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hv_error/code-from-errno", code_from_errno);
    g_test_add_func("/hv_error/from-errno-keeps-message", from_errno_keeps_message);
    g_test_add_func("/hv_error/internal-says-bug", internal_says_bug);
    g_test_add_func("/hv_error/codes-keep-their-numbers", codes_keep_their_numbers);
    return g_test_run();
}
