/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The architectural state of one x86_64 vCPU, as a guest fact.  Plain data:
 * guest-mem fills it (from QEMU's `info registers`), formats/ turns it into
 * NT_PRSTATUS and QEMU CPU-state notes, readers fill it back from notes. */
#ifndef HV_CPU_STATE_H
#define HV_CPU_STATE_H

#include <stdint.h>

struct hv_segment {
    uint32_t selector;
    uint32_t limit;
    uint32_t flags; /* QEMU's descriptor flags word (the 4th hex field) */
    uint64_t base;
};

struct hv_cpu_x86_64 {
    uint32_t index; /* vCPU index, 0-based (NT_PRSTATUS pr_pid = index + 1) */
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    struct hv_segment cs, ds, es, fs, gs, ss;
    struct hv_segment ldt, tr, gdt, idt; /* gdt/idt: only base and limit */
    uint64_t cr[5];
    uint64_t kernel_gs_base;
    uint64_t efer;
};

#endif
