/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Random-access bytes of a dump file as readers see them: a plain file, or
 * a flattened file indexed so that it reads like the seekable one. */
#ifndef HV_BYTESRC_H
#define HV_BYTESRC_H

#include <glib.h>
#include <stdint.h>

struct hv_bytesrc {
    /* Reads exactly len bytes at off of the (logical) seekable file.  Bytes
     * of a flattened file that no record wrote read as zero.  Reading past
     * size fails with HV_ERROR_CORRUPT ("truncated ..."). */
    gboolean (*read_at)(struct hv_bytesrc *b, uint64_t off, void *buf,
                        size_t len, GError **err);
    void (*close)(struct hv_bytesrc *b);
    uint64_t size;      /* logical size */
    gboolean flattened; /* TRUE when built from a flat file */
};

/* Opens path; detects the flat header and indexes its records. */
struct hv_bytesrc *hv_bytesrc_open(const char *path, GError **err);

#endif
