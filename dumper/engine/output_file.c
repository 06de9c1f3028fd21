/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dump's destination file, pipe or fd (output_file.h).  A path is
 * written as PATH.partial, held with an flock while we write (so a partial
 * left by a dead run can be told from one still being written), and
 * renamed into place only once complete and fsync'd. */
#include "dumper/engine/output_file.h"
#include "dumper/engine/output.h"   /* hv_output_partial_path */
#include "common/hv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct hv_output_file {
    struct hv_sink sink;  /* first: hv_sink * casts back to us */
    int fd;
    gboolean own_fd;
    gboolean is_regular;
    gboolean plain;       /* regular, from its start, not appending */
    gboolean created;     /* our own new PATH.partial */
    char *path;           /* final path, NULL for stdout/fd */
    char *partial;        /* PATH.partial */
    char *dir;            /* directory of path, fsync'd after rename */
    char *name;           /* for messages */
    gboolean force;
    gboolean (*on_nospace)(void *ud); /* may free space; then we retry */
    void *on_nospace_ud;
};

static void set_write_error(struct hv_output_file *f, int e, GError **err)
{
    if (e == ENOSPC || e == EDQUOT)
        g_set_error(err, HV_ERROR, HV_ERROR_NOSPACE, "no space left on device writing %s", f->name);
    else if (e == EPIPE)
        g_set_error(err, HV_ERROR, HV_ERROR_PIPE, "output closed by reader");
    else
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "writing %s: %s", f->name, g_strerror(e));
}

/* Writes all of buf at off (regular files, pwrite) or at the current
 * position (streams); retries short writes and EINTR. */
static gboolean file_write_at(struct hv_sink *s, uint64_t off, const void *data, size_t len,
                              GError **err)
{
    struct hv_output_file *f = (struct hv_output_file *)s;
    const uint8_t *buf = data;
    while (len > 0) {
        ssize_t n = s->random_access ? pwrite(f->fd, buf, len, (off_t)off)
                                     : write(f->fd, buf, len);
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            /* Whatever was written before stays; retry the rest. */
            if ((e == ENOSPC || e == EDQUOT) && f->on_nospace && f->on_nospace(f->on_nospace_ud))
                continue;
            set_write_error(f, e, err);
            return FALSE;
        }
        if (n == 0) {
            set_write_error(f, EIO, err);
            return FALSE;
        }
        buf += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return TRUE;
}

/* Nothing is buffered here. */
static gboolean file_flush(struct hv_sink *s, GError **err)
{
    (void)s;
    (void)err;
    return TRUE;
}

static struct hv_output_file *file_new(int fd, const char *name)
{
    struct hv_output_file *f = g_new0(struct hv_output_file, 1);
    f->fd = fd;
    f->name = g_strdup(name);
    f->sink.write_at = file_write_at;
    f->sink.flush = file_flush;
    return f;
}

static void file_free(struct hv_output_file *f)
{
    if (f->own_fd && f->fd >= 0)
        close(f->fd);
    g_free(f->path);
    g_free(f->partial);
    g_free(f->dir);
    g_free(f->name);
    g_free(f);
}

struct hv_output_file *hv_output_file_open_fd(int fd, GError **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "fd %d: %s", fd, g_strerror(errno));
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "fd %d is not open for writing", fd);
        return NULL;
    }
    char *name = fd == STDOUT_FILENO ? g_strdup("standard output") : g_strdup_printf("fd %d", fd);
    struct hv_output_file *f = file_new(fd, name);
    g_free(name);
    f->is_regular = S_ISREG(st.st_mode);
    /* pwrite at absolute offsets only where that means what we think: a
     * regular file, not appending, positioned at its start. */
    off_t pos = f->is_regular ? lseek(fd, 0, SEEK_CUR) : -1;
    f->plain = f->is_regular && !(fl & O_APPEND) && pos == 0;
    f->sink.random_access = f->plain;
    return f;
}

/* Opens PATH.partial exclusively.  An existing partial that nobody holds a
 * lock on is a leftover of a dead run: ours to remove (never a symlink). */
static int open_partial(struct hv_output_file *f, GError **err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(f->partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                /* Someone raced us to it between open and lock. */
                close(fd);
                break;
            }
            return fd;
        }
        int e = errno;
        if (e != EEXIST || attempt > 0) {
            hv_error_from_errno(err, e, "cannot create %s: %s", f->partial, g_strerror(e));
            return -1;
        }
        int old = open(f->partial, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (old < 0 || fstat(old, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
            if (old >= 0)
                close(old);
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS,
                        "%s exists and is not a partial dump of ours; remove it", f->partial);
            return -1;
        }
        if (flock(old, LOCK_EX | LOCK_NB) < 0) {
            close(old);
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS,
                        "%s is being written by another hvdump", f->partial);
            return -1;
        }
        unlink(f->partial);
        close(old);
    }
    g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s is being written by another hvdump", f->partial);
    return -1;
}

struct hv_output_file *hv_output_file_open_path(const char *path, gboolean force, GError **err)
{
    return hv_output_file_open_path_notify(path, force, NULL, NULL, err);
}

struct hv_output_file *hv_output_file_open_path_notify(const char *path, gboolean force,
                                                       void (*created)(void *ud, uint64_t dev,
                                                                       uint64_t ino),
                                                       void *ud, GError **err)
{
    if (strcmp(path, "-") == 0) {
        /* Always a stream, even when redirected to a file: what "-o -"
         * produces must not depend on how the shell set up stdout (kdump
         * is then flattened, as QEMU does for an fd). */
        struct hv_output_file *f = hv_output_file_open_fd(STDOUT_FILENO, err);
        if (f)
            f->sink.random_access = FALSE;
        return f;
    }
    if (!*path) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "empty output path");
        return NULL;
    }
    char *dir = g_path_get_dirname(path);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "directory %s does not exist", dir);
        g_free(dir);
        return NULL;
    }
    if (lstat(path, &st) == 0) {
        if (!force) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s exists (use --force to replace it)", path);
            g_free(dir);
            return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
            g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "%s is a directory", path);
            g_free(dir);
            return NULL;
        }
    }
    struct hv_output_file *f = file_new(-1, path);
    f->path = g_strdup(path);
    f->partial = hv_output_partial_path(path);
    f->dir = dir;
    f->force = force;
    f->own_fd = TRUE;
    f->fd = open_partial(f, err);
    if (f->fd < 0) {
        file_free(f);
        return NULL;
    }
    /* At once, before anything else can keep us: whoever may have to
     * remove the file after we die (the guardian) learns which file it is
     * while the window in which it does not know is a few instructions. */
    if (created && fstat(f->fd, &st) == 0)
        created(ud, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    /* Dumps hold guest memory: never readable by others, whatever umask. */
    if (fchmod(f->fd, 0600) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "chmod %s: %s", f->partial, g_strerror(errno));
        hv_output_file_abort(f);
        return NULL;
    }
    f->is_regular = TRUE;
    f->plain = TRUE;
    f->created = TRUE;
    f->sink.random_access = TRUE;
    return f;
}

struct hv_sink *hv_output_file_sink(struct hv_output_file *f)
{
    return &f->sink;
}

int hv_output_file_fd(struct hv_output_file *f)
{
    return f->fd;
}

const char *hv_output_file_name(struct hv_output_file *f)
{
    return f->name;
}

gboolean hv_output_file_is_regular(struct hv_output_file *f)
{
    return f->is_regular;
}

gboolean hv_output_file_is_plain(struct hv_output_file *f)
{
    return f->plain;
}

gboolean hv_output_file_created(struct hv_output_file *f)
{
    return f->created;
}

void hv_output_file_set_nospace_handler(struct hv_output_file *f, gboolean (*fn)(void *ud),
                                        void *ud)
{
    f->on_nospace = fn;
    f->on_nospace_ud = ud;
}

gboolean hv_output_file_extend(struct hv_output_file *f, uint64_t size, GError **err)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0) {
        set_write_error(f, errno, err);
        return FALSE;
    }
    if ((uint64_t)st.st_size < size && ftruncate(f->fd, (off_t)size) < 0) {
        set_write_error(f, errno, err);
        return FALSE;
    }
    return TRUE;
}

static gboolean fsync_dir(const char *dir, GError **err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "fsync %s: %s", dir, g_strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return FALSE;
    }
    close(dfd);
    return TRUE;
}

/* Moves the partial into place; without force, never over a file that
 * appeared meanwhile. */
static gboolean put_in_place(struct hv_output_file *f, GError **err)
{
    if (f->force) {
        if (rename(f->partial, f->path) == 0)
            return TRUE;
    } else {
        if (renameat2(AT_FDCWD, f->partial, AT_FDCWD, f->path, RENAME_NOREPLACE) == 0)
            return TRUE;
        if (errno == EINVAL || errno == ENOSYS) { /* filesystem without NOREPLACE */
            if (link(f->partial, f->path) == 0) {
                unlink(f->partial);
                return TRUE;
            }
        }
        if (errno == EEXIST) {
            g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "%s exists (use --force to replace it)",
                        f->path);
            return FALSE;
        }
    }
    g_set_error(err, HV_ERROR, HV_ERROR_IO, "rename %s to %s: %s", f->partial, f->path,
                g_strerror(errno));
    return FALSE;
}

gboolean hv_output_file_commit(struct hv_output_file *f, GError **err)
{
    /* fsync: ENOSPC and EIO of delayed allocation show up here. */
    if (f->is_regular && fsync(f->fd) < 0 && errno != EINVAL) {
        set_write_error(f, errno, err);
        hv_output_file_abort(f);
        return FALSE;
    }
    if (!f->path) {
        file_free(f);
        return TRUE;
    }
    /* Rename while still holding the partial's lock, so that no other run
     * takes it for a dead one's leftover. */
    if (!put_in_place(f, err)) {
        hv_output_file_abort(f);
        return FALSE;
    }
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) < 0) {
        set_write_error(f, errno, err);
        file_free(f);
        return FALSE;
    }
    gboolean ok = fsync_dir(f->dir, err);
    file_free(f);
    return ok;
}

void hv_output_file_abort(struct hv_output_file *f)
{
    if (!f)
        return;
    if (f->partial)
        unlink(f->partial);
    file_free(f);
}

char *hv_output_partial_path(const char *path)
{
    return g_strconcat(path, ".partial", NULL);
}
