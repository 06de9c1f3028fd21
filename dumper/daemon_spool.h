/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spool: SPOOL/DOMAIN/TIMESTAMP.{elf,kdump} + TIMESTAMP.json.  Naming,
 * validating client-chosen paths, and retention (keep= per domain, then
 * max-bytes= over the whole spool, oldest first). */
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

/* Retention as a pure function.  files: struct hvd_dump_file *.  Returns the
 * entries (borrowed from files) to delete: per domain, the oldest beyond
 * keep (0 = no limit); then, while the total is over max_bytes (0 = no
 * limit), the oldest overall.  The entry whose path is protect (the dump
 * just written) is never chosen, even if it alone is over the cap. */
GPtrArray *hvd_retention_select(GPtrArray *files, unsigned keep, uint64_t max_bytes,
                                const char *protect);

/* Every dump in the spool (regular files named *.elf / *.kdump one level
 * below a domain directory; symlinks ignored). */
GPtrArray *hvd_spool_scan(const char *spool);
/* Scans, selects and deletes; logs each deletion on stderr.  Returns how
 * many dumps were removed. */
unsigned hvd_spool_enforce(const char *spool, unsigned keep, uint64_t max_bytes,
                           const char *protect);

/* Syntax check of a client-chosen path: relative, not empty, no "..",
 * no empty component. */
gboolean hvd_spool_check_relpath(const char *rel, GError **err);
/* Absolute path of rel inside spool; creates missing directories on the way
 * (mode 0750), refuses any component that is a symlink or not a directory,
 * and a final path that already exists. */
char *hvd_spool_resolve(const char *spool, const char *rel, GError **err);

/* SPOOL/DOMAIN/YYYYMMDDTHHMMSSZ[-N].<ext> (and its .json), making the domain
 * directory.  ext is "elf" or "kdump". */
gboolean hvd_spool_new_name(const char *spool, const char *domain, const char *ext,
                            char **dump_path, char **sidecar_path, GError **err);
/* Sidecar path for a dump path: the extension replaced by .json. */
char *hvd_spool_sidecar_for(const char *dump_path);

#endif
