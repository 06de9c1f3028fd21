/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvdumpd's configuration file (GKeyFile INI):
 *
 *   [daemon]  uri=  spool=  socket=  socket-group=
 *   [collect] domains=glob;glob;  format=  after=none|destroy|restart
 *             keep=N (default 3)  max-bytes=SIZE  domain-max-bytes=SIZE
 *             min-free=SIZE  crash-limit=N/DURATION (default 3/1h)
 *             (sizes as common/size_parse.h reads them; durations
 *             with s/m/h/d)
 */
#ifndef HV_DAEMON_CONFIG_H
#define HV_DAEMON_CONFIG_H

#include <glib.h>
#include <stdint.h>

enum hvd_after { HVD_AFTER_NONE, HVD_AFTER_DESTROY, HVD_AFTER_RESTART };

#define HVD_DEFAULT_SPOOL "/var/spool/hvdump"
#define HVD_DEFAULT_SOCKET "/run/hvdumpd.sock"
/* Without limits one crash-looping guest fills the spool. */
#define HVD_DEFAULT_KEEP "3"
#define HVD_DEFAULT_CRASH_LIMIT "3/1h"

struct hvd_config {
    char *uri;          /* NULL = libvirt default */
    char *spool;
    char *socket;
    char *socket_group; /* NULL = keep the daemon's group */
    char **domains;     /* glob patterns; NULL/empty = every domain */
    char *format;       /* a name hv_format_parse() accepts */
    enum hvd_after after;
    unsigned keep;      /* dumps kept per domain, 0 = no limit */
    uint64_t max_bytes; /* spool cap, 0 = no limit */
    uint64_t domain_max_bytes; /* cap per domain directory, 0 = no limit */
    unsigned crash_limit;      /* crash dumps per domain per window, 0 = no limit */
    int64_t crash_window_usec;
    uint64_t min_free;  /* free bytes wanted on the spool's filesystem
                           before a dump starts (oldest dumps pruned), 0 = off */
};

/* "N/DURATION": N events per DURATION ("30s", "10m", "1h", "1d"; a bare
 * number is seconds); "0" = no limit. */
gboolean hvd_parse_rate(const char *s, unsigned *n, int64_t *window_usec, GError **err);
gboolean hvd_after_parse(const char *s, enum hvd_after *out, GError **err);
const char *hvd_after_name(enum hvd_after a);

/* Parses INI text; unknown groups or keys are errors (typos should not be
 * silently ignored by a daemon that runs unattended). */
gboolean hvd_config_load_data(struct hvd_config *c, const char *data, GError **err);
gboolean hvd_config_load_file(struct hvd_config *c, const char *path, GError **err);
void hvd_config_clear(struct hvd_config *c);

/* TRUE when name matches one of the domains= globs (or the list is empty). */
gboolean hvd_config_domain_matches(const struct hvd_config *c, const char *name);
/* File extension for a format, from formats/format_table.c ("elf" or
 * "kdump"); "kdump" for a name the table does not know. */
const char *hvd_format_ext(const char *format);

#endif
