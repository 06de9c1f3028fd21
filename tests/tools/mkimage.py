#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a deterministic raw guest-memory image made of runs of page kinds.

Kinds: zero (all 0), text (ASCII prose), random (incompressible), repeat (one
byte repeated), sparse (zero page with a few bytes set).  The same seed gives
the same bytes, so tests can regenerate an image instead of storing it.

  mkimage.py OUT --size 8M [--seed N] [--page-size 4096]
             [--kinds zero,text,random,repeat,sparse] [--max-run 24] [--stats]

The first and last pages are a zero page and a sparse page, so range edges
are exercised by both an excludable and a barely-non-zero page.  --stats
prints JSON {"pages", "zero", "kinds": {...}} on stdout.
"""
import argparse
import json
import random
import sys

KINDS = ("zero", "text", "random", "repeat", "sparse")
WORDS = ("the quick brown fox jumps over lazy dog kernel page frame guest "
         "memory dump vmcore crash drgn zstd lzo snappy zlib flattened "
         "bitmap descriptor header note register").split()


def parse_size(s):
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    s = s.strip().lower()
    if s and s[-1] in mult:
        return int(s[:-1], 0) * mult[s[-1]]
    return int(s, 0)


def text_pool(rng, size=1 << 16):
    words = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    return " ".join(words).encode()


def make_page(kind, rng, ps, pool):
    if kind == "zero":
        return bytes(ps)
    if kind == "random":
        return rng.randbytes(ps)
    if kind == "repeat":
        return bytes([rng.randrange(1, 256)]) * ps
    if kind == "sparse":
        page = bytearray(ps)
        for _ in range(rng.randrange(1, 9)):
            page[rng.randrange(ps)] = rng.randrange(1, 256)
        return bytes(page)
    # text: a slice of a shared pool, so pages compress but differ
    off = rng.randrange(len(pool) - ps)
    return pool[off:off + ps]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--size", default="8M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--page-size", type=int, default=4096)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--max-run", type=int, default=24)
    ap.add_argument("--stats", action="store_true")
    a = ap.parse_args()

    ps = a.page_size
    size = parse_size(a.size)
    if size <= 0 or size % ps:
        sys.exit("mkimage: size must be a positive multiple of the page size")
    kinds = [k for k in a.kinds.split(",") if k]
    for k in kinds:
        if k not in KINDS:
            sys.exit("mkimage: unknown kind %r" % k)
    npages = size // ps
    rng = random.Random(a.seed)
    pool = text_pool(rng, max(1 << 16, 2 * ps))
    counts = dict.fromkeys(KINDS, 0)
    zero = 0
    with open(a.out, "wb") as f:
        i = 0
        while i < npages:
            if i == 0:
                kind, run = "zero", 1
            elif i == npages - 1:
                kind, run = "sparse", 1
            else:
                kind = rng.choice(kinds)
                run = min(rng.randrange(1, a.max_run + 1), npages - 1 - i)
            for _ in range(run):
                page = make_page(kind, rng, ps, pool)
                f.write(page)
                counts[kind] += 1
                if page.count(0) == ps:
                    zero += 1
            i += run
    if a.stats:
        print(json.dumps({"pages": npages, "zero": zero, "kinds": counts}))


if __name__ == "__main__":
    main()
