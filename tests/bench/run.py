#!/usr/bin/env python3
"""The benchmark runner behind `make bench`.

Each benchmark is a function in BENCHES: it gets a Context, prints its own
table (measured figures beside their baseline) and returns True when it
measured, False when it failed, None when it was skipped. Add a benchmark
by writing one more function and listing it in BENCHES.
Everything runs one emulator at a time so the figures do not compete for
the host's cores."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import harness  # noqa: E402
from harness import EXIT, qemu_status  # noqa: E402


class Context:
    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.img = harness.Image(args.build)


def dash(v, f="%.0f"):
    return f % v if v is not None else "-"


def title(text):
    print("\n== %s ==" % text, flush=True)


# ------------------------------------------------------------ SMP bring-up

SMP_COUNTS = (1, 2, 4, 8, 16, 32, 64)
SDM_INIT_US = 10000        # INIT to first SIPI (SDM Vol. 3A, 8.4.4.1)
SDM_SIPI_US = 200          # after each SIPI
# Guest RAM is touched for the first time while the image boots, and the
# host's page faults on it (transparent huge pages, compaction) stalled the
# vCPU by up to 300 ms even with one CPU. Preallocating moves that before
# the entry: the 1-CPU figure went from 25-330 ms to a steady 14 ms.
QEMU_BENCH_ARGS = ["-mem-prealloc"]
SMP_LINE = re.compile(r"smp: (\d+) of (\d+) CPUs online in (\d+) us from entry")


def bench_smp_bringup(ctx):
    """Entry to 'all CPUs online' for each -smp count, against the cost of
    starting the APs one at a time with the SDM's delays."""
    reps = ctx.args.reps
    title("SMP bring-up: entry to all CPUs online (QEMU TCG, -m 256M, test=smp, %d runs each)"
          % reps)
    print("QEMU TCG's TSC follows host time: these figures are noisy (host load,\n"
          "vCPU threads sharing the host's cores; -mem-prealloc keeps host page\n"
          "faults out). Noise only adds time, so the minimum is the steadier\n"
          "figure; never compare single runs.\n"
          "'from entry' includes memory init and TSC calibration before the APs start;\n"
          "'APs med/min' is median(N) - median(1) / min(N) - min(1): starting the N-1 APs.\n"
          "Sequential: each AP alone gets INIT, 10 ms, SIPI, 200 us, SIPI, 200 us\n"
          "(SDM delays only, %.1f ms per AP), added to the 1-CPU median." %
          ((SDM_INIT_US + 2 * SDM_SIPI_US) / 1000.0), flush=True)
    iso = ctx.img.iso("test=smp")
    times = {n: [] for n in SMP_COUNTS}
    errors = []
    # Repetition outermost, so a burst of host load spreads over all counts.
    for rep in range(reps):
        for n in SMP_COUNTS:
            r = harness.run_qemu(iso, smp=n, timeout=120, extra=QEMU_BENCH_ARGS)
            m = SMP_LINE.search(r.serial)
            if r.timed_out or r.status != qemu_status(EXIT["pass"]) or not m:
                errors.append("-smp %d run %d: status %s%s, %s" % (
                    n, rep + 1, r.status, " (timed out)" if r.timed_out else "",
                    m.group(0) if m else "no 'smp: ... online' line"))
                continue
            online, wanted = int(m.group(1)), int(m.group(2))
            if online != n or wanted != n:
                errors.append("-smp %d run %d: %s" % (n, rep + 1, m.group(0)))
                continue
            times[n].append(int(m.group(3)))

    base = statistics.median(times[1]) if times[1] else None
    base_min = min(times[1]) if times[1] else None
    per_ap = SDM_INIT_US + 2 * SDM_SIPI_US
    print("%5s %10s %10s %11s %10s   %13s %11s %8s" % (
        "CPUs", "median us", "min us", "APs med us", "APs min us",
        "sequential us", "seq APs us", "seq/ours"))
    for n in SMP_COUNTS:
        t = times[n]
        if not t:
            print("%5d %10s" % (n, "failed"))
            continue
        med = statistics.median(t)
        seq_aps = (n - 1) * per_ap
        print("%5d %10.0f %10d %11s %10s   %13s %11d %8s" % (
            n, med, min(t),
            dash(med - base if base is not None else None),
            dash(min(t) - base_min if base_min is not None else None),
            dash(base + seq_aps if base is not None else None), seq_aps,
            dash((base + seq_aps) / med if base is not None else None, "%.2f")))
    if times[2] and times[64]:
        r_med = statistics.median(times[64]) / statistics.median(times[2])
        r_min = min(times[64]) / min(times[2])
        print("ratio 64 CPUs / 2 CPUs: %.2f (medians), %.2f (minima); "
              "sequential would be %.2f" % (
                  r_med, r_min,
                  (base + 63 * per_ap) / (base + per_ap) if base is not None else 0))
    for e in errors:
        print("error: " + e)
    return not errors


BOCHS_COUNTS = (1, 2, 8)


def bench_smp_bochs(ctx):
    """The same line under Bochs: emulated time, so one run per count."""
    title("SMP bring-up under Bochs (corei7_skylake_x, x2APIC, test=smp, 1 run each)")
    print("Bochs' TSC runs on emulated time: figures repeat from run to run but\n"
          "do not predict real hardware. Sequential as above: + 10.4 ms per AP.",
          flush=True)
    iso = ctx.img.iso("test=smp bochs_exit")
    print("%5s %10s %11s   %13s %11s" % ("CPUs", "us", "APs us", "sequential us", "seq APs us"))
    base, ok = None, True
    per_ap = SDM_INIT_US + 2 * SDM_SIPI_US
    for n in BOCHS_COUNTS:
        r = harness.run_bochs(iso, smp=n, timeout=240)
        m = SMP_LINE.search(r.serial)
        if harness.verdict_line(r.serial) != "PASS" or not m or int(m.group(1)) != n:
            print("%5d failed: %s" % (n, m.group(0) if m else
                                      "timed out" if r.timed_out else "no 'smp:' line"))
            ok = False
            continue
        t = int(m.group(3))
        if n == 1:
            base = t
        print("%5d %10d %11s   %13s %11d" % (
            n, t, dash(t - base if base is not None else None),
            dash(base + (n - 1) * per_ap if base is not None else None), (n - 1) * per_ap),
            flush=True)
    return ok


# ------------------------------------------------------------ slab allocator

def bench_slab(ctx):
    """scripts/bench-slab.sh prints its own table (ours beside glibc)."""
    title("slab allocator fast path")
    script = os.path.join(ROOT, "scripts", "bench-slab.sh")
    if not os.path.exists(script):
        print("slab bench: scripts/bench-slab.sh missing")
        return None             # skipped, not failed
    p = subprocess.run([script, ctx.build], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    sys.stdout.write(p.stdout.decode("utf-8", "replace"))
    if p.returncode:
        print("slab bench: scripts/bench-slab.sh exited with status %d" % p.returncode)
    return p.returncode == 0


def bench_hypercalls(ctx):
    """Round trips through the hypervisor, measured by the root test program
    in `bench` mode: once under -icount shift=0 (RDTSC counts instructions),
    once in real time for round trips per second. QEMU TCG: the real-time
    rate is the emulator's, not a CPU's."""
    title("hypercall and exit round trips (QEMU TCG, SVM, root test program)")
    module = os.path.join(ctx.build, "guest", "root_test.elf")
    iso = ctx.img.iso("", (module + "|bench",))
    runs = {}
    for mode, icount in (("insns", True), ("real", False)):
        r = harness.run_qemu(iso, smp=1, timeout=300, icount=icount)
        mhz = re.search(r"tsc: ([\d.]+) MHz", r.serial)
        vals = dict(re.findall(r"bench: (.+?) (\d+) tsc/iter", r.serial))
        if not mhz or len(vals) < 4:
            print("hypercall bench: the %s run printed no figures (status %s)" % (mode, r.status))
            return False
        runs[mode] = (float(mhz.group(1)), {k: int(v) for k, v in vals.items()})
    mhz, real = runs["real"]
    _, insns = runs["insns"]
    print("%-28s %14s %16s %14s" % ("round trip", "instructions", "us (real, TCG)", "per second"))
    for name in ("guest loop (no exit)", "cpuid exit", "null hypercall", "child exit round trip"):
        us = real[name] / mhz
        print("%-28s %14d %16.2f %14s" % (name, insns[name], us,
                                          "%.0f" % (1e6 / us) if us > 0.05 else "-"))
    base = insns["cpuid exit"]
    print("null hypercall = %d instructions more than the cheapest exit (CPUID, %d);"
          % (insns["null hypercall"] - base, base))
    print("child exit -> root -> run = %.1f x a null hypercall"
          % (insns["child exit round trip"] / float(insns["null hypercall"])))
    return True


# ------------------------------------------------------------ interrupt platform

# root_irq's `bench` lines, in the order printed, with what each measures.
IRQ_BENCHES = [
    ("cpuid exit", "CPUID exit of the child (the baseline)"),
    ("x2apic eoi", "x2APIC EOI (WRMSR 0x80b)"),
    ("tsc-deadline irq", "TSC-deadline WRMSR -> interrupt -> EOI"),
    ("xapic mmio read", "xAPIC MMIO read (version) through the decoder"),
    ("hlt timer wake-up", "HLT -> timer wake-up (deadline to handler)"),
    ("ipi ping-pong", "IPI ping-pong, 2 vCPUs on 2 CPUs (round trip)"),
]


def bench_irq(ctx):
    """Local APIC, timer and IPI round trips in child VMs, measured by the
    interrupt test program (root_irq) in `bench` mode under -icount
    shift=0,sleep=off: the TSC counts instructions (hypervisor and guest,
    both CPUs for the ping-pong) and idle time jumps to the next timer, so
    a HLT costs what runs, not the wait. Each figure beside the child's
    CPUID exit."""
    title("local APIC and IPI round trips in a child VM (QEMU TCG, SVM, 2 CPUs, "
          "-icount shift=0,sleep=off, root_irq bench)")
    module = os.path.join(ctx.build, "guest", "root_irq.elf")
    iso = ctx.img.iso("", (module + "|bench",))
    r = harness.run_qemu(iso, smp=2, timeout=600, extra=["-icount", "shift=0,sleep=off"])
    vals = {k: int(v) for k, v in re.findall(r"^bench: (.+?) (\d+) tsc/iter", r.serial, re.M)}
    for line in re.findall(r"^bench: .*failed.*$", r.serial, re.M):
        print("irq bench: " + line)
    base = vals.get("cpuid exit")
    if not base:
        print("irq bench: no figures (status %s%s)" % (r.status, ", timed out" if r.timed_out else ""))
        return False
    print("%-48s %18s   %s" % ("round trip", "instructions/iter", "beside the CPUID exit"))
    for key, what in IRQ_BENCHES:
        v = vals.get(key)
        if v is None:
            print("%-48s %18s" % (what, "failed"))
            continue
        print("%-48s %12d insns   %5.2f x the CPUID exit (%d insns)" % (what, v, v / float(base), base))
    return all(k in vals for k, _ in IRQ_BENCHES)


# ------------------------------------------------------------ Linux boot

LINUX_CMDLINE = ("console=ttyS0 earlyprintk=serial,ttyS0 acpi=off pci=off nokaslr tsc_early_khz=%d "
                 "tsc=reliable no_timer_check io_delay=none reboot=k panic=-1 "
                 "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd")


def bench_linux_boot(ctx):
    """Debian's Linux to its shell in a child VM on the hypervisor, against
    the same kernel, initramfs and command line booted directly by the same
    QEMU (-kernel), interleaved; the exits by kind of one boot; the time
    from the hypervisor's first line to the guest's first line."""
    import session
    kernel = os.path.join(ctx.build, "images", "vmlinuz")
    initrd = os.path.join(ctx.build, "images", "initramfs.cpio.gz")
    vmm = os.path.join(ctx.build, "vmm.elf")
    if not os.path.exists(kernel):
        print("linux boot bench: no guest images (make images)")
        return None
    reps = max(2, ctx.args.reps)
    title("Linux to its shell: in a VM on the hypervisor vs. booted directly "
          "(QEMU TCG qemu64+svm, 2 CPUs, 1 vCPU, 256 MiB guest; %d runs each, interleaved)" % reps)
    iso = ctx.img.iso("", (vmm + "|vm=1,initrd=2,cpus=1,mem=256M", kernel, initrd))
    tsc_khz = None
    direct, ours, exits = [], [], None
    for rep in range(reps):
        for kind in ("direct", "ours"):
            if kind == "direct":
                boot = ["-kernel", kernel, "-initrd", initrd,
                        "-append", LINUX_CMDLINE % (tsc_khz or 2000000)]
                s = session.Session(None, smp=2, mem="256M", boot=boot)
            else:
                s = session.Session(iso, smp=2, mem="512M")
            try:
                t0 = s.start
                m = s.wait(r"^init: shell on", 600)
                t_shell = time.monotonic() - t0
                if kind == "ours":
                    text = s.text
                    k = re.search(r"tsc_early_khz=(\d+)", text)
                    tsc_khz = int(k.group(1)) if k else tsc_khz
                    ours.append(t_shell)
                    if exits is None:
                        s.wait(r"# ", 60, m.end())
                        s.type("poweroff -f\r")
                        e = s.wait(r"^vm 1: (\d+) exits:(.*)$", 120)
                        exits = (int(e.group(1)), e.group(2).strip())
                else:
                    direct.append(t_shell)
            except session.Timeout as err:
                print("linux boot bench: %s run %d: %s" % (kind, rep + 1, err))
            finally:
                s.close()
    if not direct or not ours:
        return False
    d, o = statistics.median(direct), statistics.median(ours)
    print("boot to 'init: shell on'        median     min   (wall seconds from QEMU's start)")
    print("  direct (QEMU -kernel)        %7.1f %7.1f" % (d, min(direct)))
    print("  in a VM on the hypervisor    %7.1f %7.1f" % (o, min(ours)))
    print("  ratio (median)               %7.2f   (goal: at most 3)" % (o / d))
    if exits:
        print("exits during one boot and shutdown: %d: %s" % exits)
    return True


def bench_first_line(ctx):
    """From the hypervisor's first line to the guest kernel's first line."""
    import session
    kernel = os.path.join(ctx.build, "images", "vmlinuz")
    initrd = os.path.join(ctx.build, "images", "initramfs.cpio.gz")
    vmm = os.path.join(ctx.build, "vmm.elf")
    if not os.path.exists(kernel):
        return None
    title("Time from the hypervisor's first line to the guest's first line (QEMU TCG, 3 runs)")
    iso = ctx.img.iso("", (vmm + "|vm=1,initrd=2,cpus=1,mem=256M", kernel, initrd))
    gaps = []
    for _ in range(3):
        s = session.Session(iso, smp=2, mem="512M")
        try:
            s.wait(r"hv: x86-64 microhypervisor", 120)
            t1 = time.monotonic()
            s.wait(r"Linux version", 120)
            gaps.append(time.monotonic() - t1)
        except session.Timeout as err:
            print("first line bench: %s" % err)
        finally:
            s.close()
    if not gaps:
        return False
    print("hypervisor's first line -> 'Linux version': median %.2f s, min %.2f s (wall)" %
          (statistics.median(gaps), min(gaps)))
    print("(GRUB loads the ISO's modules before either; this is the hypervisor's boot,\n"
          " the VMM's start, the kernel's load and its decompression.)")
    return True


# Each prints its own table; append new benchmarks here.
BENCHES = [bench_smp_bringup, bench_smp_bochs, bench_slab, bench_hypercalls, bench_irq,
           bench_linux_boot, bench_first_line]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="", help="regex: run the benchmarks whose name matches")
    ap.add_argument("--reps", type=int, default=3, help="boots per configuration")
    ap.add_argument("--list", action="store_true", help="list the benchmarks")
    args = ap.parse_args()

    benches = [b for b in BENCHES if re.search(args.only, b.__name__)]
    if args.list:
        for b in BENCHES:
            print("%-24s %s" % (b.__name__, (b.__doc__ or "").splitlines()[0]))
        return 0
    ctx = Context(args)
    failed, skipped = [], []
    start = time.monotonic()
    for b in benches:
        try:
            ok = b(ctx)
        except Exception as e:  # one broken bench must not hide the others
            print("%s: harness error: %r" % (b.__name__, e))
            ok = False
        if ok is None:
            skipped.append(b.__name__)
        elif not ok:
            failed.append(b.__name__)
    print("\n%d benchmarks in %.0f s%s%s" % (
        len(benches), time.monotonic() - start,
        "; skipped: " + ", ".join(skipped) if skipped else "",
        "; incomplete: " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
