#!/usr/bin/env python3
"""Where one round trip's instructions go: boot the bench image (root_test in
`bench` mode, as `make bench` does) under QEMU TCG -icount shift=0 with its
gdb stub, stop at root_test's child_run after the bench loop has warmed up,
single-step until the next child_run (one child exit -> root -> HC_RUN
round trip, the figure make bench prints as "child exit round trip") and
print the instructions per function, per source file and in call frames.

    scripts/trace-roundtrip.py [--build build] [--cmdline "hc_fast=0"]
                               [--function child_run] [--skip 200]

A developer's tool (needs gdb, not part of make test): the figures behind
docs/hypercalls.md's breakdown. --function hcall traces the null hypercall
loop's callee instead (what make bench calls "null hypercall")."""

import argparse
import bisect
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import harness  # noqa: E402

MAX_STEPS = 5000        # a round trip is a few hundred; stop well before forever
FRAME_OPS = ("push", "pop", "call", "ret", "leave")


def symbols(elfs):
    """Sorted (address, name) of the text symbols of every ELF."""
    syms = []
    for elf in elfs:
        out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "tTwW":
                syms.append((int(p[0], 16), p[2]))
    syms.sort()
    return syms


def disassembly(elf):
    """address -> instruction text."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf],
                         capture_output=True, text=True, check=True).stdout
    insns = {}
    for line in out.splitlines():
        addr, sep, text = line.partition(":\t")
        if sep and addr.strip() and all(c in "0123456789abcdef" for c in addr.strip()):
            insns[int(addr.strip(), 16)] = text.strip()
    return insns


def source_files(elf, addrs):
    """address -> source file (innermost inlined function's) of hv.elf addresses."""
    if not addrs:
        return {}
    out = subprocess.run(["addr2line", "-e", elf] + ["0x%x" % a for a in addrs],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return {a: os.path.basename(line.split(":")[0]) for a, line in zip(addrs, out)}


def trace(iso, function_addr, skip, log):
    """The PCs from one stop at function_addr to the next."""
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64,+svm,+npt", "-m", "256M",
         "-smp", "1", "-display", "none", "-serial", "file:" + log, "-device",
         "isa-debug-exit,iobase=0xf4,iosize=1", "-no-reboot", "-cdrom", iso, "-boot", "d",
         "-icount", "shift=0", "-gdb", "tcp::1234", "-monitor", "none"])
    try:
        time.sleep(1)
        with tempfile.TemporaryDirectory() as tmp:
            pcs_file = os.path.join(tmp, "pcs")
            script = os.path.join(tmp, "trace.gdb")
            with open(script, "w") as f:
                f.write("""set pagination off
target remote :1234
break *0x%x
ignore 1 %d
continue
delete
python
import gdb
start = 0x%x
with open(%r, "w") as out:
    for i in range(%d):
        pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
        if i and pc == start:
            break
        out.write("%%x\\n" %% pc)
        gdb.execute("stepi", to_string=True)
end
kill
""" % (function_addr, skip, function_addr, pcs_file, MAX_STEPS))
            subprocess.run(["gdb", "-batch", "-nx", "-x", script], capture_output=True,
                           timeout=900, check=False)
            with open(pcs_file) as f:
                return [int(line, 16) for line in f if line.strip()]
    finally:
        qemu.kill()
        qemu.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cmdline", default="", help="the hypervisor's command line")
    ap.add_argument("--function", default="child_run", help="root_test function to trace from")
    ap.add_argument("--skip", type=int, default=200, help="calls to let pass first")
    args = ap.parse_args()
    for tool in ("gdb", "qemu-system-x86_64", "addr2line", "objdump", "nm"):
        if not shutil.which(tool):
            sys.exit("trace-roundtrip: %s not found (apt-get install gdb qemu-system-x86 binutils)" % tool)

    hv_elf = os.path.join(args.build, "hv.elf")
    root_elf = os.path.join(args.build, "guest", "root_test.elf")
    syms = symbols((hv_elf, root_elf))
    by_name = {name: addr for addr, name in syms}
    if args.function not in by_name:
        sys.exit("trace-roundtrip: no function %s in %s" % (args.function, root_elf))
    keys = [a for a, _ in syms]

    def owner(pc):
        i = bisect.bisect_right(keys, pc) - 1
        return syms[i][1] if i >= 0 else "?"

    iso = harness.Image(args.build).iso(args.cmdline, (root_elf + "|bench",))
    with tempfile.NamedTemporaryFile(suffix=".log") as log:
        pcs = trace(iso, by_name[args.function], args.skip, log.name)
    if not pcs or len(pcs) >= MAX_STEPS:
        sys.exit("trace-roundtrip: no complete round trip traced (%d steps)" % len(pcs))

    hv_insns = disassembly(hv_elf)
    hv_pcs = sorted({pc for pc in pcs if pc in hv_insns})
    files = source_files(hv_elf, hv_pcs)
    per_function = collections.Counter(owner(pc) for pc in pcs)
    per_file = collections.Counter(files[pc] for pc in pcs if pc in files)
    frames = sum(1 for pc in pcs if pc in files and not files[pc].endswith(".S") and
                 hv_insns[pc].split()[0] in FRAME_OPS)
    in_hv = sum(1 for pc in pcs if pc in hv_insns)

    print("one round trip from %s (%s): %d instructions, %d in the hypervisor, %d outside it "
          "(the root's and the child's code)" % (args.function, args.cmdline or "default command line",
                                                  len(pcs), in_hv, len(pcs) - in_hv))
    print("\nper function (in the order first reached):")
    seen = []
    for pc in pcs:
        name = owner(pc)
        if name not in seen:
            seen.append(name)
    for name in seen:
        print("%6d  %s" % (per_function[name], name))
    print("\nper source file of the hypervisor (inlined code counted where it is written):")
    for name, count in per_file.most_common():
        print("%6d  %s" % (count, name))
    print("\ncall frames (push, pop, call, ret in the hypervisor's C): %d" % frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
