/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output's hole-punching layer (see output.c for the stack), for a
 * file we created: long zero runs (write_zeros) are not written at all, a
 * hole reads back as zeros and costs neither the copy into the page cache
 * nor the disk write.  Short runs and all other bytes go to the sink
 * below.  A hole at the very end needs the file's size set at commit
 * (hv_output_file_extend). */
#ifndef HV_OUTPUT_SPARSE_H
#define HV_OUTPUT_SPARSE_H

#include "formats/sink.h"

struct hv_output_sparse;

/* below: must outlive the result. */
struct hv_output_sparse *hv_output_sparse_new(struct hv_sink *below);
/* write_at, write_zeros; flush settles the pending zero run, then flushes
 * below. */
struct hv_sink *hv_output_sparse_sink(struct hv_output_sparse *sp);
void hv_output_sparse_free(struct hv_output_sparse *sp);

#endif
