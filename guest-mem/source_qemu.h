/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest RAM of a running QEMU, read from outside the process: the layout
 * comes from the monitor (`info mtree -f`, `gpa2hva`), the bytes from
 * process_vm_readv, or from the RAM's backing file when QEMU shares one
 * (memory-backend-file/memfd with share=on), skipping its holes. */
#ifndef GM_SOURCE_QEMU_H
#define GM_SOURCE_QEMU_H

#include <glib.h>
#include <sys/types.h>
#include "guest-mem/monitor.h"
#include "guest-mem/source.h"

/* page_size: the guest's (4096 on x86_64).  The monitor is used only during
 * the call.  Reading needs root or CAP_SYS_PTRACE over QEMU. */
struct gm_source *gm_source_qemu_open(struct gm_monitor *mon, uint32_t page_size,
                                      GError **err);
/* The vCPU states (struct hv_cpu_state, by vCPU index) from
 * `info registers -a`; read them while the guest is paused. */
GArray *gm_qemu_read_cpus(struct gm_monitor *mon, GError **err);

/* Whether the QEMU process pid still exists (FALSE for pid <= 0).  Tells
 * a read error or a resume that cannot reach QEMU from QEMU being gone. */
gboolean gm_qemu_alive(pid_t pid);

#endif
