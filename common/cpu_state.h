/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The architectural state of one vCPU, as a guest fact, tagged with the
 * guest's architecture.  Plain data: guest-mem fills it (from QEMU's `info
 * registers`), formats/ turns it into NT_PRSTATUS and QEMU CPU-state notes
 * of that architecture's layout, readers fill it back from notes, tag
 * included.  A new architecture is one more enum value and union member. */
#ifndef HV_CPU_STATE_H
#define HV_CPU_STATE_H

#include <stdint.h>

/* Most vCPUs a dump describes.  QEMU 7.2's x86 machines allow at most 1024
 * (q35 with x2APIC; 288 otherwise); this leaves room while bounding what a
 * hostile monitor can make us hold (a 16 MiB guest with 1,000,000 "CPUs"
 * once took 2.6 GB) and keeping the notes far under what readers accept. */
#define HV_MAX_CPUS 8192

enum hv_arch {
    /* Zero, so a state nobody filled in is refused rather than written as
     * some architecture's all-zero registers. */
    HV_ARCH_UNKNOWN = 0,
    HV_ARCH_X86_64,
};

struct hv_segment {
    uint32_t selector;
    uint32_t limit;
    uint32_t flags; /* QEMU's descriptor flags word (the 4th hex field) */
    uint64_t base;
};

struct hv_cpu_x86_64 {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    struct hv_segment cs, ds, es, fs, gs, ss;
    struct hv_segment ldt, tr, gdt, idt; /* gdt/idt: only base and limit */
    uint64_t cr[5];
    uint64_t kernel_gs_base;
    uint64_t efer;
};

struct hv_cpu_state {
    enum hv_arch arch; /* which member of u is valid */
    uint32_t index;    /* vCPU index, 0-based (NT_PRSTATUS pr_pid = index + 1) */
    union {
        struct hv_cpu_x86_64 x86_64;
    } u;
};

#endif
