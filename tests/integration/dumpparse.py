# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent readers for what the end-to-end tests compare: ELF program
headers and notes, kdump-compressed headers, bitmaps and notes, and the x86_64
register notes (NT_PRSTATUS and QEMU's CPU-state note).

Written from the format descriptions (see /work/shared/notes/format-facts.md),
not from hvdump's C readers, so a shared misreading cannot hide a bug.
Page bytes of kdump files are read through libkdumpfile (which decompresses
every codec) by machine-physical address."""
import struct

PAGE = 4096
KERNEL_MAP = 0xffffffff80000000

# x86_64 user_regs_struct order, as in NT_PRSTATUS pr_reg (offset 112).
PR_REGS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi "
           "orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()
PR_REG_OFF = 112
# QEMU's x86_64 CPU-state note (type 0, name "QEMU"): version, size, then
# these 64-bit registers, 10 segments of {u32 selector, limit, flags, pad;
# u64 base}, cr0..cr4 and kernel_gs_base.
QEMU_GPRS = ("rax rbx rcx rdx rsi rdi rsp rbp r8 r9 r10 r11 r12 r13 r14 r15 "
             "rip rflags").split()
QEMU_SEGS = "cs ds es fs gs ss ldt tr gdt idt".split()


def _align4(n):
    return (n + 3) & ~3


def parse_notes(buf):
    """ELF notes in buf: list of (name, type, desc bytes)."""
    out = []
    off = 0
    while off + 12 <= len(buf):
        namesz, descsz, ntype = struct.unpack_from("<III", buf, off)
        off += 12
        if namesz == 0 and descsz == 0 and ntype == 0:
            break  # zero padding after the last note
        name = buf[off:off + namesz].rstrip(b"\0").decode(errors="replace")
        off += _align4(namesz)
        out.append((name, ntype, bytes(buf[off:off + descsz])))
        off += _align4(descsz)
    return out


def elf_phdrs(path):
    """Program headers: list of dicts (type, offset, vaddr, paddr, filesz)."""
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF":
            raise ValueError("%s: not ELF" % path)
        phoff, = struct.unpack_from("<Q", h, 32)
        shoff, = struct.unpack_from("<Q", h, 40)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        if phnum == 0xffff:  # PN_XNUM: the count is in section 0's sh_info
            f.seek(shoff + 44)
            phnum, = struct.unpack("<I", f.read(4))
        f.seek(phoff)
        raw = f.read(phentsize * phnum)
    out = []
    for i in range(phnum):
        t, _fl, off, va, pa, fsz, msz, _al = struct.unpack_from(
            "<IIQQQQQQ", raw, i * phentsize)
        out.append(dict(type=t, offset=off, vaddr=va, paddr=pa, filesz=fsz,
                        memsz=msz))
    return out


def elf_notes(path):
    with open(path, "rb") as f:
        notes = []
        for ph in elf_phdrs(path):
            if ph["type"] == 4:
                f.seek(ph["offset"])
                notes += parse_notes(f.read(ph["filesz"]))
    return notes


def elf_ram_loads(path):
    """PT_LOADs that describe guest RAM (not the extra kernel-text one, whose
    virtual address lies in the kernel map): sorted (paddr, offset, filesz)."""
    return sorted((p["paddr"], p["offset"], p["filesz"]) for p in elf_phdrs(path)
                  if p["type"] == 1 and p["vaddr"] < KERNEL_MAP)


def is_kdump(path):
    with open(path, "rb") as f:
        return f.read(8) == b"KDUMP   "


def kdump_header(path):
    """The disk_dump_header and kdump_sub_header fields the tests need."""
    with open(path, "rb") as f:
        h = f.read(464)
        if h[:8] != b"KDUMP   ":
            raise ValueError("%s: no KDUMP signature" % path)
        version, = struct.unpack_from("<i", h, 8)
        uts = [h[12 + 65 * i:12 + 65 * (i + 1)].rstrip(b"\0").decode(errors="replace")
               for i in range(6)]
        status, bs, subsz, bmblocks, mapnr32 = struct.unpack_from("<iiiiI", h, 424)
        nr_cpus, = struct.unpack_from("<i", h, 460)
        f.seek(bs)
        s = f.read(104)
        phys_base, dump_level = struct.unpack_from("<qi", s, 0)
        off_vmci, size_vmci, off_note, size_note = struct.unpack_from("<QQQQ", s, 32)
        max_mapnr = struct.unpack_from("<Q", s, 96)[0] if version >= 6 else mapnr32
    return dict(version=version, utsname=uts, status=status, block_size=bs,
                sub_hdr_size=subsz, bitmap_blocks=bmblocks, max_mapnr=max_mapnr,
                nr_cpus=nr_cpus, phys_base=phys_base, dump_level=dump_level,
                off_vmcoreinfo=off_vmci, size_vmcoreinfo=size_vmci,
                off_note=off_note, size_note=size_note)


def kdump_notes(path):
    h = kdump_header(path)
    with open(path, "rb") as f:
        f.seek(h["off_note"])
        return parse_notes(f.read(h["size_note"]))


def kdump_vmcoreinfo(path):
    """The VMCOREINFO text the sub-header points at (offset_vmcoreinfo)."""
    h = kdump_header(path)
    with open(path, "rb") as f:
        f.seek(h["off_vmcoreinfo"])
        return f.read(h["size_vmcoreinfo"]).rstrip(b"\0").decode(errors="replace")


def kdump_bitmaps(path):
    """(1st bitmap, 2nd bitmap) as bytes, bit pfn%8 of byte pfn//8."""
    h = kdump_header(path)
    half = h["bitmap_blocks"] * h["block_size"] // 2
    with open(path, "rb") as f:
        f.seek((1 + h["sub_hdr_size"]) * h["block_size"])
        both = f.read(2 * half)
    return both[:half], both[half:]


def ranges_bitmap(ranges, nbytes):
    """A bitmap of nbytes with the pfns of [(paddr, size)] set."""
    bm = bytearray(nbytes)
    for pa, size in ranges:
        for pfn in range(pa // PAGE, (pa + size + PAGE - 1) // PAGE):
            bm[pfn >> 3] |= 1 << (pfn & 7)
    return bytes(bm)


def vmcoreinfo_from_notes(notes):
    for name, _t, desc in notes:
        if name == "VMCOREINFO":
            return desc.rstrip(b"\0").decode(errors="replace")
    return None


def prstatus_regs(notes):
    """One dict per NT_PRSTATUS note (file order = vCPU order)."""
    out = []
    for name, t, desc in notes:
        if name == "CORE" and t == 1:
            vals = struct.unpack_from("<27Q", desc, PR_REG_OFF)
            out.append(dict(zip(PR_REGS, vals)))
    return out


def qemu_cpu_states(notes):
    """One dict per QEMU CPU-state note: GPRs, rip, rflags, each segment's
    selector/limit/flags/base, cr0..cr4, kernel_gs_base, version, size."""
    out = []
    for name, _t, desc in notes:
        if name != "QEMU":
            continue
        d = {}
        d["version"], d["size"] = struct.unpack_from("<II", desc, 0)
        off = 8
        for r in QEMU_GPRS:
            d[r], = struct.unpack_from("<Q", desc, off)
            off += 8
        for s in QEMU_SEGS:
            sel, lim, fl, _pad, base = struct.unpack_from("<IIIIQ", desc, off)
            d[s + ".selector"], d[s + ".limit"], d[s + ".flags"], d[s + ".base"] = \
                sel, lim, fl, base
            off += 24
        for i in range(5):
            d["cr%d" % i], = struct.unpack_from("<Q", desc, off)
            off += 8
        d["kernel_gs_base"], = struct.unpack_from("<Q", desc, off)
        out.append(d)
    return out


def dict_diff(a, b):
    """Keys whose values differ, formatted 'key: a != b'."""
    return ["%s: %#x != %#x" % (k, a.get(k, -1), b.get(k, -1))
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
