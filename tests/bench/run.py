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
import shutil
import statistics
import subprocess
import sys
import tempfile
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
# Guest RAM is touched for the first time while the image boots, and the
# host's page faults on it (transparent huge pages, compaction) stalled the
# vCPU by up to 300 ms even with one CPU. Preallocating moves that before
# the entry: the 1-CPU figure went from 25-330 ms to a steady 14 ms.
QEMU_BENCH_ARGS = ["-mem-prealloc"]
SMP_LINE = re.compile(r"smp: (\d+) of (\d+) CPUs online in (\d+) us from entry"
                      r"(?:, (\d+) us starting the APs)?")


def bench_smp_bringup(ctx):
    """The APs' own start-up time (first INIT to the last AP online) for
    each -smp count, from the hypervisor's own line."""
    reps = ctx.args.reps
    title("SMP bring-up: time the boot CPU spends starting the APs (QEMU TCG, -m 256M, "
          "-mem-prealloc, test=smp, %d runs each)" % reps)
    print("Unit: microseconds of the guest's TSC, from the boot CPU's first INIT to\n"
          "the last AP online ('us starting the APs' in the smp: line): no memory\n"
          "init, calibration or firmware in it. QEMU TCG's TSC follows host time,\n"
          "so host load only adds time: the minimum is the steadier figure. The\n"
          "measured peer (Xen) and the floor are in bench_boot_peers.", flush=True)
    iso = ctx.img.iso("test=smp")
    aps = {n: [] for n in SMP_COUNTS}
    entry = {n: [] for n in SMP_COUNTS}
    errors = []
    # Repetition outermost, so a burst of host load spreads over all counts.
    for rep in range(reps):
        for n in SMP_COUNTS:
            r = harness.run_qemu(iso, smp=n, timeout=120, extra=QEMU_BENCH_ARGS)
            m = SMP_LINE.search(r.serial)
            if r.timed_out or r.status != qemu_status(EXIT["pass"]) or not m or not m.group(4):
                errors.append("-smp %d run %d: status %s%s, %s" % (
                    n, rep + 1, r.status, " (timed out)" if r.timed_out else "",
                    m.group(0) if m else "no 'smp: ... online' line"))
                continue
            if int(m.group(1)) != n or int(m.group(2)) != n:
                errors.append("-smp %d run %d: %s" % (n, rep + 1, m.group(0)))
                continue
            entry[n].append(int(m.group(3)))
            aps[n].append(int(m.group(4)))
    print("%5s %12s %12s %12s %16s" % ("CPUs", "APs med us", "APs min us", "APs max us",
                                       "entry->online med"))
    for n in SMP_COUNTS:
        if not aps[n]:
            print("%5d %12s" % (n, "failed"))
            continue
        print("%5d %12.0f %12d %12d %16.0f" % (n, statistics.median(aps[n]), min(aps[n]),
                                               max(aps[n]), statistics.median(entry[n])))
    if aps[2] and aps[64]:
        print("APs' start-up time, 64 CPUs over 2 CPUs: %.2f (medians), %.2f (minima); "
              "%d runs each" % (statistics.median(aps[64]) / statistics.median(aps[2]),
                                min(aps[64]) / max(min(aps[2]), 1), reps))
    for e in errors:
        print("error: " + e)
    return not errors


BOCHS_COUNTS = (1, 2, 8)


def bench_smp_bochs(ctx):
    """The same line under Bochs: emulated time, so one run per count."""
    title("SMP bring-up under Bochs (corei7_skylake_x, x2APIC, test=smp, 1 run each)")
    print("Unit: microseconds of Bochs' emulated TSC (3500 MHz), first INIT to the\n"
          "last AP online. Emulated time repeats exactly from run to run but does\n"
          "not predict real hardware: the SDM's 10 ms INIT wait and 200 us SIPI\n"
          "wait dominate.", flush=True)
    iso = ctx.img.iso("test=smp bochs_exit")
    print("%5s %14s %18s" % ("CPUs", "APs us", "entry->online us"))
    ok = True
    for n in BOCHS_COUNTS:
        r = harness.run_bochs(iso, smp=n, timeout=240)
        m = SMP_LINE.search(r.serial)
        if harness.verdict_line(r.serial) != "PASS" or not m or int(m.group(1)) != n:
            print("%5d failed: %s" % (n, m.group(0) if m else
                                      "timed out" if r.timed_out else "no 'smp:' line"))
            ok = False
            continue
        print("%5d %14s %18s" % (n, m.group(4) or "-", m.group(3)), flush=True)
    return ok


# ------------------------------------------------------------ boot against peers

XEN_PACKAGE = "xen-hypervisor-4.17-amd64"
PEER_COUNTS = (1, 2, 4, 8, 16, 32, 64)
PEER_MEM = "512M"


def _build_floor(ctx):
    """tests/bench/floor.S: a multiboot2 kernel that prints one line."""
    out = os.path.join(ctx.build, "bench")
    os.makedirs(out, exist_ok=True)
    obj, elf = os.path.join(out, "floor.o"), os.path.join(out, "floor.elf")
    subprocess.run(["gcc", "-m32", "-c", os.path.join(HERE, "floor.S"), "-o", obj], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-T", os.path.join(HERE, "floor.ld"), "-o", elf, obj],
                   check=True)
    return elf


def _fetch_xen(ctx):
    """Debian's Xen hypervisor image, unpacked under BUILD/bench/xen (the
    package is downloaded, not installed: apt-get download, dpkg-deb -x)."""
    d = os.path.join(ctx.build, "bench", "xen")
    found = [os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs
             if re.match(r"xen-[\d.]+-amd64\.gz$", f)] if os.path.isdir(d) else []
    if found:
        return found[0]
    os.makedirs(d, exist_ok=True)
    p = subprocess.run(["apt-get", "download", XEN_PACKAGE], cwd=d, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    debs = [f for f in os.listdir(d) if f.endswith(".deb")]
    if p.returncode or not debs:
        print("boot peers: 'apt-get download %s' failed: %s" % (
            XEN_PACKAGE, p.stdout.decode("utf-8", "replace").strip()[-300:]))
        return None
    subprocess.run(["dpkg-deb", "-x", os.path.join(d, debs[0]), os.path.join(d, "x")], check=True)
    return _fetch_xen(ctx)


def _iso(ctx, kernel, cmdline, modules=()):
    """An ISO of another kernel, laid out by scripts/mkiso.sh like ours."""
    path = os.path.join(ctx.build, "bench", "%s.iso" % os.path.basename(kernel).split(".")[0])
    subprocess.run([os.path.join(ROOT, "scripts", "mkiso.sh"), kernel, path, cmdline, *modules],
                   check=True)
    return path


def _time_to_line(iso, smp, pattern, timeout=180):
    """Host seconds from starting QEMU to `pattern` on its serial line
    (polled every 2 ms), or None."""
    tmp = tempfile.mkdtemp(prefix="hv-peer-")
    serial = os.path.join(tmp, "serial.txt")
    args = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64,+svm,+npt", "-m", PEER_MEM,
            "-smp", str(smp), "-display", "none", "-monitor", "none", "-serial", "file:" + serial,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=1", "-no-reboot",
            "-cdrom", iso, "-boot", "d"] + QEMU_BENCH_ARGS
    rx = re.compile(pattern)
    start = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    found = None
    try:
        while time.monotonic() - start < timeout and found is None:
            try:
                with open(serial, "rb") as f:
                    if rx.search(f.read().decode("utf-8", "replace")):
                        found = time.monotonic() - start
                        break
            except FileNotFoundError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.002)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return found


def bench_boot_peers(ctx):
    """Boot to 'all CPUs up' against Debian's Xen, both over a floor kernel,
    through the same GRUB ISO layout, interleaved."""
    reps = ctx.args.reps
    floor_elf = _build_floor(ctx)
    xen = _fetch_xen(ctx)
    if not xen:
        return None
    title("Boot to all CPUs up: ours and Xen %s over a floor kernel (QEMU TCG, -m %s, "
          "-mem-prealloc, %d runs each, interleaved)" % (XEN_PACKAGE.split("-")[2], PEER_MEM, reps))
    print("Unit: seconds of host time from starting QEMU to the line on serial,\n"
          "polled every 2 ms. Floor: tests/bench/floor.S, a multiboot2 kernel that\n"
          "prints one line (firmware, GRUB and QEMU's own start; every ISO is made\n"
          "by scripts/mkiso.sh). Ours: 'smp: N of N CPUs online' (test=smp).\n"
          "Xen: '(XEN) Brought up N CPUs' (a dummy dom0 module, which it never\n"
          "reaches). 'over floor' = median(kernel) - median(floor). Host load\n"
          "only adds time; runs are interleaved so it spreads over all three.",
          flush=True)
    isos = {
        "floor": (_iso(ctx, floor_elf, ""), r"floor: up"),
        "ours": (ctx.img.iso("test=smp"), r"smp: (\d+) of \1 CPUs online"),
        "xen": (_iso(ctx, xen, "console=com1 com1=115200,8n1 noreboot", (floor_elf,)),
                r"Brought up (\d+) CPUs"),
    }
    t = {(k, n): [] for k in isos for n in PEER_COUNTS}
    errors = []
    for rep in range(reps):
        for n in PEER_COUNTS:
            for k, (iso, pat) in isos.items():
                s = _time_to_line(iso, n, pat)
                if s is None:
                    errors.append("%s -smp %d run %d: no line" % (k, n, rep + 1))
                else:
                    t[(k, n)].append(s)
    med = {key: statistics.median(v) if v else None for key, v in t.items()}
    print("%5s %9s %12s %12s %12s %12s %10s" % ("CPUs", "floor s", "ours s", "Xen s",
                                               "ours-floor", "Xen-floor", "Xen/ours"))
    for n in PEER_COUNTS:
        f, o, x = med[("floor", n)], med[("ours", n)], med[("xen", n)]
        oo = o - f if o is not None and f is not None else None
        xo = x - f if x is not None and f is not None else None
        print("%5d %9s %12s %12s %12s %12s %10s" % (
            n, dash(f, "%.2f"), dash(o, "%.2f"), dash(x, "%.2f"), dash(oo, "%+.2f"),
            dash(xo, "%+.2f"), dash(xo / oo if oo and xo is not None and oo > 0.01 else None,
                                    "%.1f")))
    print("(medians; 'Xen/ours' is Xen's time over the floor divided by ours, '-' where\n"
          " ours is within 10 ms of the floor, below what this measures)")
    for e in errors:
        print("error: " + e)
    return not errors


# ------------------------------------------------------------ slab allocator

SLAB_HV_LINE = re.compile(r"slab fast path (\S+): (\d+\.\d+) tsc per alloc\+free pair")


def bench_slab(ctx):
    """The slab fast path: in the hypervisor (interrupt masking included) and
    the host build beside glibc, mimalloc and jemalloc."""
    title("slab allocator fast path: one cache_alloc + cache_free pair")
    # In the hypervisor, as it runs: PUSHF/POP/CLI and STI included.
    iso = ctx.img.iso("test=slab_fastpath")
    r = harness.run_qemu(iso, smp=1, timeout=120, icount=True)
    hv = dict(SLAB_HV_LINE.findall(r.serial))
    irq = re.search(r"slab fast path: interrupts (\w+)", r.serial)
    if len(hv) == 2:
        print("in the hypervisor (test=slab_fastpath under QEMU -icount shift=0, where the\n"
              "TSC counts instructions; interrupts %s, as in an exit handler):" %
              (irq.group(1) if irq else "?"))
        print("  4096 B, align 4096: %s instructions per pair; 64 B: %s"
              % (hv.get("4096/4096"), hv.get("64")))
    else:
        print("slab bench: test=slab_fastpath printed no figures (status %s)" % r.status)
    script = os.path.join(ROOT, "scripts", "bench-slab.sh")
    p = subprocess.run([script, ctx.build], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=900)
    sys.stdout.write(p.stdout.decode("utf-8", "replace"))
    if p.returncode:
        print("slab bench: scripts/bench-slab.sh exited with status %d" % p.returncode)
    print("The host build's count lacks the interrupt masking; the difference to the\n"
          "hypervisor's count above is that masking plus code generated for the kernel\n"
          "(-mcmodel=kernel, no red zone).")
    return p.returncode == 0 and len(hv) == 2


def bench_hypercalls(ctx):
    """Round trips through the hypervisor, measured by the root test program
    in `bench` mode: under QEMU -icount shift=0 (RDTSC counts instructions:
    the guest's few and the hypervisor's) and under Bochs (its TSC counts
    emulated cycles), each with the load/put and TLB policy and with
    `entry_reload` (put, load and a TLB flush around every entry, as before
    them), in one run; once in real time on QEMU for round trips per
    second (TCG: the emulator's rate, not a CPU's)."""
    title("hypercall and exit round trips (root test program; QEMU TCG SVM -icount, Bochs VMX)")
    module = os.path.join(ctx.build, "guest", "root_test.elf")
    names = ("guest loop (no exit)", "cpuid exit", "null hypercall", "child exit round trip")
    runs = {}
    for key, emu, cmdline, icount in (("svm", "qemu", "", True),
                                      ("svm-reload", "qemu", "entry_reload", True),
                                      ("svm-nofast", "qemu", "hc_fast=0", True),
                                      ("real", "qemu", "", False),
                                      ("vmx", "bochs", "bochs_exit", None),
                                      ("vmx-reload", "bochs", "bochs_exit entry_reload", None)):
        iso = ctx.img.iso(cmdline, (module + "|bench",))
        if emu == "qemu":
            r = harness.run_qemu(iso, smp=1, timeout=300, icount=icount)
        else:
            r = harness.run_bochs(iso, smp=1, timeout=600)
        mhz = re.search(r"tsc: ([\d.]+) MHz", r.serial)
        vals = dict(re.findall(r"bench: (.+?) (\d+) tsc/iter", r.serial))
        if not mhz or len(vals) < 4:
            print("hypercall bench: the %s run printed no figures (status %s)" % (key, r.status))
            return False
        runs[key] = (float(mhz.group(1)), {k: int(v) for k, v in vals.items()})
    mhz, real = runs["real"]
    print("%-24s %9s %12s %11s %11s %12s %12s %11s" % (
        "round trip", "SVM insns", "SVM reload", "SVM hc_fast=0", "us (TCG)", "per second",
        "VMX cycles", "VMX reload"))
    for name in names:
        us = real[name] / mhz
        print("%-24s %9d %12d %13d %9.2f %12s %12d %11d" % (
            name, runs["svm"][1][name], runs["svm-reload"][1][name],
            runs["svm-nofast"][1][name], us,
            "%.0f" % (1e6 / us) if us > 0.05 else "-",
            runs["vmx"][1][name], runs["vmx-reload"][1][name]))
    insns = runs["svm"][1]
    base = insns["cpuid exit"]
    print("reload: the same round trips with a put, a load and a TLB flush around every entry "
          "(on SVM a flush costs no instruction; on VMX VMCLEAR + VMPTRLD do); hc_fast=0: every "
          "hypercall, HC_RUN among them, on the ordinary path")
    print("null hypercall = %d instructions in all, the guest's loop and VMMCALL among them "
          "(goal: 150 in the hypervisor); the CPUID exit %d" % (insns["null hypercall"], base))
    print("child exit -> root -> run = %.1f x a null hypercall (goal: at most 2)"
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
BENCHES = [bench_smp_bringup, bench_smp_bochs, bench_boot_peers, bench_slab, bench_hypercalls, bench_irq,
           bench_linux_boot, bench_first_line]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="", help="regex: run the benchmarks whose name matches")
    ap.add_argument("--reps", type=int, default=5, help="boots per configuration (at least 4)")
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
