#!/usr/bin/env python3
"""Executed instructions per basic block of the named functions of a firmware, from the
plugin's profile=PATH output: how the kernel cost figures in targets/target.cpp
(DotCosts) were read. Instructions with the same execution count are grouped; a loop
shows up as one group (its count is the number of iterations, its size the instructions
per iteration).

    python3 bench/loop_profile.py firmware.elf profile.txt FUNCTION [FUNCTION...] [--top N]

FUNCTION matches any symbol containing it (bg_lut, bg_vector_rows4, bg_row_dot, ...).
"""
import argparse
import collections
import subprocess
import sys


def tool(elf, name):
    """The binutils program for the ELF's machine: RISC-V (e_machine 243) or Arm."""
    with open(elf, "rb") as f:
        machine = int.from_bytes(f.read(20)[18:20], "little")
    return ("riscv64-unknown-elf-" if machine == 243 else "arm-none-eabi-") + name


def symbols(elf, names):
    out = subprocess.run([tool(elf, "nm"), "-S", "--defined-only", elf], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4 and any(n in p[3] for n in names):
            start = int(p[0], 16)
            found[p[3]] = (start, start + int(p[1], 16))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("elf")
    ap.add_argument("profile")
    ap.add_argument("functions", nargs="+")
    ap.add_argument("--top", type=int, default=6)
    a = ap.parse_args()
    counts = {}
    with open(a.profile) as f:
        for line in f:
            addr, n = line.split()
            counts[int(addr, 16)] = int(n)
    dis = subprocess.run([tool(a.elf, "objdump"), "-d", "--no-show-raw-insn", a.elf], capture_output=True, text=True, check=True).stdout
    text = {}
    for line in dis.splitlines():
        head, _, rest = line.partition(":")
        try:
            text[int(head.strip(), 16)] = " ".join(rest.split())
        except ValueError:
            pass
    funcs = symbols(a.elf, a.functions)
    if not funcs:
        sys.exit(f"no symbol matches {a.functions} in {a.elf}")
    for name, (lo, hi) in sorted(funcs.items()):
        groups = collections.defaultdict(list)
        for addr in sorted(x for x in counts if lo <= x < hi):
            groups[counts[addr]].append(addr)
        total = sum(c * len(v) for c, v in groups.items())
        print(f"{name}: {total} instructions")
        for c, addrs in sorted(groups.items(), key=lambda kv: -kv[0] * len(kv[1]))[: a.top]:
            print(f"  {c:>10} x {len(addrs):>3} = {c * len(addrs):>11}   {text.get(addrs[0], '?')}  ..  {text.get(addrs[-1], '?')}")


if __name__ == "__main__":
    main()
