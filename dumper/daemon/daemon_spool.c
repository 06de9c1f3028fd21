/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spool on disk (see daemon_spool.h): listing dumps, retention (keep=,
 * max-bytes=, min-free=), resolving client paths inside the spool, naming
 * new dumps.  Only *.elf and *.kdump with their sidecars are ever removed:
 * anything else in the spool, a .partial included, is not ours to prune. */
#include "dumper/daemon/daemon_spool.h"
#include "dumper/daemon/daemon_sidecar.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/hv_error.h"
#include "common/text_safe.h"

void hvd_dump_file_free(struct hvd_dump_file *f)
{
    if (!f)
        return;
    g_free(f->domain);
    g_free(f->path);
    g_free(f->sidecar);
    g_free(f);
}

static int by_age(gconstpointer a, gconstpointer b)
{
    const struct hvd_dump_file *x = *(struct hvd_dump_file *const *)a;
    const struct hvd_dump_file *y = *(struct hvd_dump_file *const *)b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    /* Same second: names are timestamps, so the name orders them. */
    return g_strcmp0(x->path, y->path);
}

GPtrArray *hvd_retention_select(GPtrArray *files, const struct hvd_retention *rt,
                                const char *protect)
{
    /* Not g_ptr_array_copy(): the copy would inherit files' free function. */
    GPtrArray *sorted = g_ptr_array_sized_new(files->len);
    GPtrArray *out = g_ptr_array_new();
    g_autoptr(GHashTable) kept = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) domain_bytes = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                               NULL, g_free);
    g_autoptr(GHashTable) doomed = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) newest = g_hash_table_new(NULL, NULL);
    uint64_t total = 0;

    for (guint i = 0; i < files->len; i++)
        g_ptr_array_add(sorted, files->pdata[i]);
    g_ptr_array_sort(sorted, by_age);
    /* keep= and domain-max-bytes=: walk newest first, counting per domain;
     * the protected dump counts towards its domain's quota but is never
     * removed, and neither is a domain's newest dump. */
    for (guint i = sorted->len; i-- > 0;) {
        struct hvd_dump_file *f = sorted->pdata[i];
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(kept, f->domain)) + 1;
        g_hash_table_insert(kept, f->domain, GUINT_TO_POINTER(n));
        uint64_t *used = g_hash_table_lookup(domain_bytes, f->domain);
        if (!used) {
            used = g_new0(uint64_t, 1);
            g_hash_table_insert(domain_bytes, f->domain, used);
        }
        gboolean prot = protect && g_strcmp0(f->path, protect) == 0;
        if (n == 1)
            g_hash_table_add(newest, f);
        if (!prot && n > 1 &&
            ((rt->keep && n > rt->keep) ||
             (rt->domain_max_bytes && *used + f->size > rt->domain_max_bytes))) {
            g_hash_table_add(doomed, f);
        } else {
            total += f->size;
            *used += f->size;
        }
    }
    /* max-bytes=: oldest first among what is left, never a domain's newest
     * dump: one domain's dumps, however many, cannot push out the only
     * dump another domain has. */
    for (guint i = 0; rt->max_bytes && total > rt->max_bytes && i < sorted->len; i++) {
        struct hvd_dump_file *f = sorted->pdata[i];
        if (g_hash_table_contains(doomed, f) || g_hash_table_contains(newest, f) ||
            (protect && g_strcmp0(f->path, protect) == 0))
            continue;
        g_hash_table_add(doomed, f);
        total -= f->size;
    }
    for (guint i = 0; i < sorted->len; i++)
        if (g_hash_table_contains(doomed, sorted->pdata[i]))
            g_ptr_array_add(out, sorted->pdata[i]);
    g_ptr_array_unref(sorted);
    return out;
}

static gboolean is_dump_name(const char *n)
{
    return n[0] != '.' && (g_str_has_suffix(n, ".elf") || g_str_has_suffix(n, ".kdump"));
}

gboolean hvd_spool_crash_collected(const char *spool, const char *domain, int64_t qemu_pid,
                                   uint64_t qemu_start)
{
    if (qemu_pid <= 0 || qemu_start == 0)
        return FALSE;
    g_autofree char *comp = hvd_spool_domain_dir(domain);
    g_autofree char *dir = g_build_filename(spool, comp, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return FALSE;
    gboolean found = FALSE;
    const char *n;
    for (int looked = 0; !found && looked < 1000 && (n = g_dir_read_name(d));) {
        if (n[0] == '.' || !g_str_has_suffix(n, ".json"))
            continue;
        looked++;
        g_autofree char *sc = g_build_filename(dir, n, NULL);
        /* Only a sidecar whose dump is there: a dump pruned since is a dump
         * no longer collected. */
        g_autofree char *stem = g_strndup(sc, strlen(sc) - 5);
        g_autofree char *k = g_strconcat(stem, ".kdump", NULL);
        g_autofree char *e = g_strconcat(stem, ".elf", NULL);
        if ((g_file_test(k, G_FILE_TEST_IS_REGULAR) || g_file_test(e, G_FILE_TEST_IS_REGULAR)) &&
            hvd_sidecar_is_crash_of(sc, qemu_pid, qemu_start))
            found = TRUE;
    }
    g_dir_close(d);
    return found;
}

char *hvd_spool_sidecar_for(const char *dump_path)
{
    const char *dot = strrchr(dump_path, '.');
    const char *slash = strrchr(dump_path, '/');
    size_t len = dot && (!slash || dot > slash) ? (size_t)(dot - dump_path) : strlen(dump_path);
    return g_strdup_printf("%.*s.json", (int)len, dump_path);
}

static void scan_domain(GPtrArray *out, const char *spool, const char *domain)
{
    g_autofree char *dir = g_build_filename(spool, domain, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    if (!d)
        return;
    while ((n = g_dir_read_name(d))) {
        struct stat st, sst;
        if (!is_dump_name(n))
            continue;
        char *path = g_build_filename(dir, n, NULL);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            g_free(path);
            continue;
        }
        struct hvd_dump_file *f = g_new0(struct hvd_dump_file, 1);
        f->domain = g_strdup(domain);
        f->path = path;
        f->size = (uint64_t)st.st_size;
        f->mtime = (int64_t)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
        char *sc = hvd_spool_sidecar_for(path);
        if (lstat(sc, &sst) == 0 && S_ISREG(sst.st_mode)) {
            f->sidecar = sc;
            f->size += (uint64_t)sst.st_size;
        } else {
            g_free(sc);
        }
        g_ptr_array_add(out, f);
    }
    g_dir_close(d);
}

GPtrArray *hvd_spool_scan(const char *spool)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hvd_dump_file_free);
    GDir *d = g_dir_open(spool, 0, NULL);
    const char *n;
    if (!d)
        return out;
    while ((n = g_dir_read_name(d))) {
        struct stat st;
        g_autofree char *p = g_build_filename(spool, n, NULL);
        if (n[0] != '.' && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            scan_domain(out, spool, n);
    }
    g_dir_close(d);
    return out;
}

unsigned hvd_spool_enforce(const char *spool, const struct hvd_retention *rt,
                           const char *protect)
{
    if (!rt->keep && !rt->max_bytes && !rt->domain_max_bytes)
        return 0;
    g_autoptr(GPtrArray) files = hvd_spool_scan(spool);
    g_autoptr(GPtrArray) doomed = hvd_retention_select(files, rt, protect);
    for (guint i = 0; i < doomed->len; i++) {
        struct hvd_dump_file *f = doomed->pdata[i];
        if (unlink(f->path) < 0)
            g_printerr("hvdumpd: retention: cannot remove %s: %s\n", f->path, g_strerror(errno));
        else
            g_printerr("hvdumpd: retention: removed %s (%" G_GUINT64_FORMAT " bytes)\n",
                       f->path, f->size);
        if (f->sidecar)
            unlink(f->sidecar);
    }
    return doomed->len;
}

struct hvd_dump_file *hvd_spool_oldest(GPtrArray *files, GHashTable *busy)
{
    /* Each domain's newest dump is not a candidate: a full spool is made
     * room in from older dumps, never by taking a domain's only one. */
    g_autoptr(GHashTable) newest = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < files->len; i++) {
        struct hvd_dump_file *f = files->pdata[i];
        struct hvd_dump_file *n = g_hash_table_lookup(newest, f->domain);
        if (!n || by_age(&n, &f) < 0)
            g_hash_table_insert(newest, f->domain, f);
    }
    struct hvd_dump_file *best = NULL;
    for (guint i = 0; i < files->len; i++) {
        struct hvd_dump_file *f = files->pdata[i];
        if ((busy && g_hash_table_contains(busy, f->path)) ||
            g_hash_table_lookup(newest, f->domain) == f)
            continue;
        if (!best || by_age(&f, &best) < 0)
            best = f;
    }
    return best;
}

gboolean hvd_spool_prune_oldest(const char *spool, GHashTable *busy, const char *why,
                                uint64_t *freed)
{
    g_autoptr(GPtrArray) files = hvd_spool_scan(spool);
    /* A dump we cannot remove is skipped, not retried forever. */
    g_autoptr(GHashTable) skip = g_hash_table_new(g_str_hash, g_str_equal);
    if (busy) {
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, busy);
        while (g_hash_table_iter_next(&it, &k, NULL))
            g_hash_table_add(skip, k);
    }
    for (;;) {
        struct hvd_dump_file *f = hvd_spool_oldest(files, skip);
        if (!f)
            return FALSE;
        if (unlink(f->path) < 0) {
            g_printerr("hvdumpd: %s: cannot remove %s: %s\n", why, f->path, g_strerror(errno));
            g_hash_table_add(skip, f->path);
            continue;
        }
        if (f->sidecar)
            unlink(f->sidecar);
        g_printerr("hvdumpd: %s: removed %s (%" G_GUINT64_FORMAT " bytes)\n", why, f->path,
                   f->size);
        if (freed)
            *freed = f->size;
        return TRUE;
    }
}

gboolean hvd_spool_free_bytes(const char *spool, uint64_t *out, GError **err)
{
    struct statvfs sv;
    if (statvfs(spool, &sv) < 0) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "statvfs %s: %s", spool, g_strerror(errno));
        return FALSE;
    }
    *out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    return TRUE;
}

unsigned hvd_spool_make_room(const char *spool, uint64_t min_free, GHashTable *busy)
{
    unsigned n = 0;
    uint64_t avail;
    while (min_free && hvd_spool_free_bytes(spool, &avail, NULL) && avail < min_free &&
           hvd_spool_prune_oldest(spool, busy, "min-free", NULL))
        n++;
    return n;
}

struct hvd_spool_room {
    char *spool;
    GMutex lock;       /* one pruner at a time: scan + unlink is not atomic */
    GHashTable *busy;  /* owned path strings */
};

struct hvd_spool_room *hvd_spool_room_new(const char *spool)
{
    struct hvd_spool_room *r = g_new0(struct hvd_spool_room, 1);
    r->spool = g_strdup(spool);
    g_mutex_init(&r->lock);
    r->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return r;
}

void hvd_spool_room_free(struct hvd_spool_room *r)
{
    if (!r)
        return;
    g_hash_table_unref(r->busy);
    g_mutex_clear(&r->lock);
    g_free(r->spool);
    g_free(r);
}

void hvd_spool_room_set_busy(struct hvd_spool_room *r, const char *path, gboolean busy)
{
    g_mutex_lock(&r->lock);
    if (busy)
        g_hash_table_add(r->busy, g_strdup(path));
    else
        g_hash_table_remove(r->busy, path);
    g_mutex_unlock(&r->lock);
}

gboolean hvd_spool_room_prune(struct hvd_spool_room *r, const char *why)
{
    g_mutex_lock(&r->lock);
    gboolean ok = hvd_spool_prune_oldest(r->spool, r->busy, why, NULL);
    g_mutex_unlock(&r->lock);
    return ok;
}

unsigned hvd_spool_room_make_room(struct hvd_spool_room *r, uint64_t min_free)
{
    g_mutex_lock(&r->lock);
    unsigned n = hvd_spool_make_room(r->spool, min_free, r->busy);
    g_mutex_unlock(&r->lock);
    return n;
}

unsigned hvd_spool_room_enforce(struct hvd_spool_room *r, const struct hvd_retention *rt,
                                const char *protect)
{
    g_mutex_lock(&r->lock);
    unsigned n = hvd_spool_enforce(r->spool, rt, protect);
    g_mutex_unlock(&r->lock);
    return n;
}

gboolean hvd_spool_check_relpath(const char *rel, GError **err)
{
    const char *why = NULL;
    if (!rel || !*rel)
        why = "empty";
    else if (rel[0] == '/')
        why = "absolute";
    else if (g_str_has_suffix(rel, "/"))
        why = "names a directory";
    else if (!g_utf8_validate(rel, -1, NULL))
        why = "is not UTF-8";
    else {
        g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
        for (char **p = parts; *p && !why; p++) {
            if (!**p)
                why = "has an empty component";
            else if (strcmp(*p, "..") == 0)
                why = "contains '..'";
            else if (strcmp(*p, ".") == 0)
                why = "contains '.'";
            for (const char *c = *p; *c && !why; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    why = "contains a control character";
        }
    }
    if (why) {
        g_autofree char *shown = hv_text_safe(rel ? rel : "", -1, 256);
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "path '%s' %s: it must be relative inside the spool", shown, why);
        return FALSE;
    }
    return TRUE;
}

char *hvd_spool_resolve(const char *spool, const char *rel, GError **err)
{
    if (!hvd_spool_check_relpath(rel, err))
        return NULL;
    g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
    g_autofree char *cur = g_strdup(spool);
    for (char **p = parts; *p; p++) {
        struct stat st;
        char *next = g_build_filename(cur, *p, NULL);
        g_free(cur);
        cur = next;
        gboolean last = p[1] == NULL;
        if (lstat(cur, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                g_set_error(err, HV_ERROR, HV_ERROR_PERMISSION,
                            "path '%s' goes through a symlink; refused", rel);
                return NULL;
            }
            if (last) {
                g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "'%s' already exists", rel);
                return NULL;
            }
            if (!S_ISDIR(st.st_mode)) {
                g_set_error(err, HV_ERROR, HV_ERROR_INVALID, "'%s': not a directory", cur);
                return NULL;
            }
        } else if (errno != ENOENT) {
            g_set_error(err, HV_ERROR, HV_ERROR_IO, "%s: %s", cur, g_strerror(errno));
            return NULL;
        } else if (!last && mkdir(cur, 0750) < 0) {
            g_set_error(err, HV_ERROR, HV_ERROR_IO, "mkdir %s: %s", cur, g_strerror(errno));
            return NULL;
        }
    }
    return g_steal_pointer(&cur);
}

char *hvd_spool_domain_dir(const char *domain)
{
    /* One directory per domain name and one name per directory: '%', '/',
     * a leading '.' and control characters are %XX-encoded (an earlier
     * rule turned a leading '.' into '_', so ".x" and "_x" shared one
     * directory, and pruning one pruned the other). */
    GString *s = g_string_new(NULL);
    for (const char *c = domain; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (b == '%' || b == '/' || b < 0x20 || b == 0x7f || (c == domain && b == '.'))
            g_string_append_printf(s, "%%%02X", b);
        else
            g_string_append_c(s, (char)b);
    }
    if (s->len == 0)
        g_string_append(s, "%00");
    return g_string_free(s, FALSE);
}

char *hvd_spool_resolve_request(const char *spool, const char *domain, const char *rel,
                                const char *ext, GError **err)
{
    if (!hvd_spool_check_relpath(rel, err))
        return NULL;
    /* Only files retention knows: it prunes DOMAIN/NAME.kdump and .elf, one
     * level deep, names not starting with '.'. */
    g_autofree char *suffix = g_strconcat(".", ext, NULL);
    if (strchr(rel, '/') || rel[0] == '.' || !g_str_has_suffix(rel, suffix) ||
        strcmp(rel, suffix) == 0) {
        g_autofree char *shown = hv_text_safe(rel, -1, 256);
        g_set_error(err, HV_ERROR, HV_ERROR_INVALID,
                    "path '%s' must be a file name ending in %s (the format's extension), "
                    "without '/'", shown, suffix);
        return NULL;
    }
    /* Inside the domain's own directory: a request for one domain never
     * writes into another's, whose retention would then count it. */
    g_autofree char *comp = hvd_spool_domain_dir(domain);
    g_autofree char *dir = g_build_filename(spool, comp, NULL);
    struct stat st;
    if (lstat(dir, &st) < 0 && (errno != ENOENT || mkdir(dir, 0750) < 0)) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "cannot use spool directory %s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_PERMISSION,
                    "spool directory %s is not a directory (a symlink?); refused", dir);
        return NULL;
    }
    return hvd_spool_resolve(dir, rel, err);
}

gboolean hvd_spool_new_name(const char *spool, const char *domain, const char *ext,
                            char **dump_path, char **sidecar_path, GError **err)
{
    g_autofree char *comp = hvd_spool_domain_dir(domain);
    g_autofree char *dir = g_build_filename(spool, comp, NULL);
    struct stat st;

    if (g_mkdir_with_parents(dir, 0750) < 0 || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(err, HV_ERROR, HV_ERROR_IO, "cannot use spool directory %s", dir);
        return FALSE;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
    for (int n = 1; n < 1000; n++) {
        g_autofree char *base = n == 1 ? g_strdup(ts) : g_strdup_printf("%s-%d", ts, n);
        char *dp = g_strdup_printf("%s/%s.%s", dir, base, ext);
        char *sp = g_strdup_printf("%s/%s.json", dir, base);
        if (lstat(dp, &st) < 0 && lstat(sp, &st) < 0) {
            *dump_path = dp;
            *sidecar_path = sp;
            return TRUE;
        }
        g_free(dp);
        g_free(sp);
    }
    g_set_error(err, HV_ERROR, HV_ERROR_EXISTS, "no free dump name in %s", dir);
    return FALSE;
}
