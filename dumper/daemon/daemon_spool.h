/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spool: SPOOL/DOMAIN/TIMESTAMP.{elf,kdump} + TIMESTAMP.json.  Naming,
 * validating client-chosen paths, and retention (keep= per domain, then
 * max-bytes= over the whole spool, oldest first), and making room when the
 * spool's filesystem is full.  A domain's newest dump is never pruned for
 * room or bytes. */
#ifndef HV_DAEMON_SPOOL_H
#define HV_DAEMON_SPOOL_H

#include <glib.h>
#include <stdint.h>

struct hvd_dump_file {
    char *domain;
    char *path;      /* the dump */
    char *sidecar;   /* its .json, or NULL */
    uint64_t size;   /* dump + sidecar bytes */
    int64_t mtime;   /* microseconds since the epoch */
};
void hvd_dump_file_free(struct hvd_dump_file *f);

/* Retention limits (0 = no limit for each). */
struct hvd_retention {
    unsigned keep;              /* dumps per domain */
    uint64_t domain_max_bytes;  /* bytes per domain */
    uint64_t max_bytes;         /* bytes over the whole spool */
};

/* Retention as a pure function.  files: struct hvd_dump_file *.  Returns the
 * entries (borrowed from files) to delete: per domain, the oldest beyond
 * keep and beyond domain_max_bytes; then, while the total is over
 * max_bytes, the oldest overall.  Never chosen: the entry whose path is
 * protect (the dump just written), even if it alone is over a cap, and
 * any domain's newest dump (one crash-looping domain must not evict the
 * others' dumps). */
GPtrArray *hvd_retention_select(GPtrArray *files, const struct hvd_retention *rt,
                                const char *protect);

/* Every dump in the spool (regular files named *.elf / *.kdump one level
 * below a domain directory; symlinks ignored). */
GPtrArray *hvd_spool_scan(const char *spool);
/* Scans, selects and deletes; logs each deletion on stderr.  Returns how
 * many dumps were removed. */
unsigned hvd_spool_enforce(const char *spool, const struct hvd_retention *rt,
                           const char *protect);

/* Spool full (ENOSPC while a dump is written, or less than min-free=
 * before one starts): the oldest finished dump over the whole spool goes
 * first, with its sidecar.  busy: a set of paths (char *) of dumps that
 * running jobs still own, never chosen; may be NULL.  In-progress output
 * (*.partial) is never a dump to begin with. */

/* The oldest entry of files whose path is not in busy and that is not its
 * domain's newest, or NULL.  Pure. */
struct hvd_dump_file *hvd_spool_oldest(GPtrArray *files, GHashTable *busy);
/* Removes the oldest finished dump and its sidecar; logs
 * "hvdumpd: WHY: removed PATH (N bytes)" on stderr.  Returns FALSE when
 * nothing was left to remove; *freed (may be NULL) gets the bytes. */
gboolean hvd_spool_prune_oldest(const char *spool, GHashTable *busy, const char *why,
                                uint64_t *freed);
/* Bytes an unprivileged writer may still use on the spool's filesystem. */
gboolean hvd_spool_free_bytes(const char *spool, uint64_t *out, GError **err);
/* min-free=: prunes oldest first until at least min_free bytes are free or
 * nothing is left to prune.  Returns how many dumps were removed. */
unsigned hvd_spool_make_room(const char *spool, uint64_t min_free, GHashTable *busy);

/* The same, safe between threads: the jobs registry owns one, its workers
 * prune when their write hits ENOSPC while the main loop enforces
 * retention.  It remembers the paths of dumps running jobs own (busy). */
struct hvd_spool_room;
struct hvd_spool_room *hvd_spool_room_new(const char *spool);
void hvd_spool_room_free(struct hvd_spool_room *r);
/* path: the final dump path of a running job; copied. */
void hvd_spool_room_set_busy(struct hvd_spool_room *r, const char *path, gboolean busy);
gboolean hvd_spool_room_prune(struct hvd_spool_room *r, const char *why);
unsigned hvd_spool_room_make_room(struct hvd_spool_room *r, uint64_t min_free);
unsigned hvd_spool_room_enforce(struct hvd_spool_room *r, const struct hvd_retention *rt,
                                const char *protect);

/* Syntax check of a client-chosen path: relative, not empty, no "..",
 * no empty component, UTF-8 without control characters (a newline in a
 * file name forges log lines). */
gboolean hvd_spool_check_relpath(const char *rel, GError **err);
/* Absolute path of rel inside spool; creates missing directories on the way
 * (mode 0750), refuses any component that is a symlink or not a directory,
 * and a final path that already exists. */
char *hvd_spool_resolve(const char *spool, const char *rel, GError **err);

/* The directory name of a domain in the spool: the name itself, with '%',
 * '/', control characters and a leading '.' as %XX, so that different
 * domains never share one.  g_free. */
char *hvd_spool_domain_dir(const char *domain);
/* A client's requested dump path: rel (checked as above) is a file name
 * (no '/', not starting with '.') ending in ".<ext>", placed in the
 * domain's own directory SPOOL/<hvd_spool_domain_dir>/, where retention
 * sees it; then as hvd_spool_resolve. */
char *hvd_spool_resolve_request(const char *spool, const char *domain, const char *rel,
                                const char *ext, GError **err);

/* SPOOL/DOMAIN/YYYYMMDDTHHMMSSZ[-N].<ext> (and its .json), making the domain
 * directory.  ext is "elf" or "kdump". */
gboolean hvd_spool_new_name(const char *spool, const char *domain, const char *ext,
                            char **dump_path, char **sidecar_path, GError **err);
/* Whether a finished crash dump of that QEMU process (pid, start time) is
 * in the domain's directory: its sidecar says so.  Looks at no more than
 * 1,000 sidecars. */
gboolean hvd_spool_crash_collected(const char *spool, const char *domain, int64_t qemu_pid,
                                   uint64_t qemu_start);
/* Sidecar path for a dump path: the extension replaced by .json. */
char *hvd_spool_sidecar_for(const char *dump_path);

#endif
