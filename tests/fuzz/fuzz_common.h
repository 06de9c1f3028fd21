/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the libFuzzer targets.  The file-based readers take a
 * path, so inputs go through one reusable file in /dev/shm (tmpfs: no disk
 * I/O per iteration) rather than through an API added only for fuzzing. */
#ifndef HV_FUZZ_COMMON_H
#define HV_FUZZ_COMMON_H

#include <fcntl.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_path[64];

static void fuzz_unlink(void)
{
    if (fuzz_path[0])
        unlink(fuzz_path);
}

/* A GLib critical or warning is a broken contract (a g_return_if_fail() hit,
 * a JSON accessor used on the wrong node type): make it a crash libFuzzer
 * sees and keeps the input of.  G_DEBUG=fatal-criticals would trap with
 * SIGTRAP, which libFuzzer does not catch. */
static void fuzz_log_handler(const gchar *domain, GLogLevelFlags level,
                             const gchar *message, gpointer ud)
{
    (void)ud;
    /* Debug and info lines (g_debug of what a source reads) are no fault. */
    if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE))
        return;
    fprintf(stderr, "%s-%s: %s\n", domain ? domain : "?",
            (level & G_LOG_LEVEL_CRITICAL) ? "CRITICAL" :
            (level & G_LOG_LEVEL_WARNING) ? "WARNING" : "ERROR", message);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_log_set_default_handler(fuzz_log_handler, NULL);
    g_log_set_handler(NULL, G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR |
                      G_LOG_FLAG_FATAL, fuzz_log_handler, NULL);
    return 0;
}

/* Rewrites the per-process scratch file with data; returns its path. */
static inline const char *fuzz_temp_file(const uint8_t *data, size_t size)
{
    if (!fuzz_path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
        snprintf(fuzz_path, sizeof fuzz_path, "%s/hvdump-fuzz-%ld", dir, (long)getpid());
        atexit(fuzz_unlink);
    }
    int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n <= 0)
            abort();
        data += n;
        size -= (size_t)n;
    }
    close(fd);
    return fuzz_path;
}

/* An exact-size copy, so ASan catches a read one byte past the input.
 * malloc(0) gives a real pointer, unlike g_memdup2(): (NULL, 0) is not what
 * the readers are given.  free() it. */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

/* A NUL-terminated copy for the text parsers (g_free). */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = g_malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
