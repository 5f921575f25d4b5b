"""Numeric command-line options outside their range (hv/cmdline.h, struct
cmdline_range): each boot gives one mistyped or limit value, as a new user
would, on QEMU with 2 CPUs and 512 MiB. A value outside the range must be
refused by name with the range and the default, the default must be in
effect, and the boot must reach `hv: ready` with the root test passing; a
value at a limit must be taken silently. hv_mem above half the RAM is
refused once the memory map is known; a clamp (a machine too small for
the default) is announced; a split that leaves the root's image in the
hypervisor's memory is explained by option."""

import re

import cases as base

MEM = "512M"
ROOT_OK = base.root_test_ok(2) + [r"^\[cpu0\] hv: ready$"]
NO_PANIC = [r"PANIC", r"exception \d+ \("]
SMP_OK = [r"smp: 2 of 2 CPUs online", r"virt: +1 +1 +on +on"]
SMP_BAD = [r"left offline", r"did not answer", r"virt: +\d+ +\d+ +\w+ +BAD"]


def refused(key, value, rng, default):
    """The line for a value outside the range."""
    return r"cmdline: %s=%s is outside %s; using the default %s$" % (
        re.escape(key), re.escape(value), re.escape(rng), re.escape(default))


def bad_value(key, value, rng, default):
    """The line for a value that is no number of the option's kind."""
    return r"cmdline: bad value for %s: '%s' \(expected %s\); using the default %s$" % (
        re.escape(key), re.escape(value), re.escape(rng), re.escape(default))


def hv_mib(n):
    """The mm: line with n MiB for the hypervisor (the allocator's own map
    takes part of the first MiB, so it may read n - 1)."""
    return r"mm: \d+ MiB usable in \d+ ranges: (%d|%d) MiB for the hypervisor" % (n - 1, n)


def case(name, cmdline, expect=(), forbid=(), modules=(base.ROOT_TEST,), root=True, **kw):
    kw.setdefault("mem", MEM)
    kw.setdefault("smp", 2)
    return base.Case("qemu-cmdline-" + name, cmdline, modules=modules,
                     expect=list(expect) + (ROOT_OK if root else []),
                     forbid=list(forbid) + NO_PANIC, **kw)


def accepted(name, cmdline, expect=(), **kw):
    """A value at a limit: taken without a word."""
    return case(name, cmdline, expect, forbid=[r"cmdline:", r"hv: command line had errors"], **kw)


def check_half(run):
    """hv_mem=999G: the range shown is 16M..half of what the map says."""
    m = re.search(r"hv_mem=999G is outside 16M\.\.(\d+)M \(half of the (\d+) MiB usable\); "
                  r"using the default 32M", run.serial)
    if not m:
        return "no refusal of hv_mem=999G naming half the usable RAM"
    if int(m.group(1)) != int(m.group(2)) // 2:
        return "the range ends at %sM, not half of %s MiB" % (m.group(1), m.group(2))
    return None


HV_MEM_RANGE = "16M..half of RAM"


def hv_mem_cases():
    return [
        # Too small to run: a panic before; now the default.
        case("hv-mem-0", "hv_mem=0", [refused("hv_mem", "0", HV_MEM_RANGE, "32M"), hv_mib(32)]),
        case("hv-mem-1k", "hv_mem=1K", [refused("hv_mem", "1K", HV_MEM_RANGE, "32M"), hv_mib(32)]),
        case("hv-mem-below-min", "hv_mem=16383K",
             [refused("hv_mem", "16383K", HV_MEM_RANGE, "32M"), hv_mib(32)]),
        accepted("hv-mem-min", "hv_mem=16M", [hv_mib(16)]),
        accepted("hv-mem-48m", "hv_mem=48M", [hv_mib(48)]),
        # More than half the RAM: silently clamped before (and the root
        # refused); now refused by name with the bound the map gives.
        case("hv-mem-999g", "hv_mem=999G", [hv_mib(32)], check=check_half),
        case("hv-mem-above-half", "hv_mem=256M",
             [refused("hv_mem", "256M", "16M..255M (half of the 510 MiB usable)", "32M"),
              hv_mib(32)]),
        case("hv-mem-overflow", "hv_mem=99999999999999999999G",
             [refused("hv_mem", "99999999999999999999G", HV_MEM_RANGE, "32M"), hv_mib(32)]),
        case("hv-mem-garbage", "hv_mem=32MB",
             [bad_value("hv_mem", "32MB", HV_MEM_RANGE, "32M"), hv_mib(32)]),
        # The upper limit itself is taken, and leaves the root's image
        # (linked at 64 MiB) in the hypervisor's memory: the refusal says
        # which split, which option, and how far down it must go.
        accepted("hv-mem-half", "hv_mem=255M", root=False, status="pass",
                 serial_input=["exit"], until="hv: ready",
                 expect=[hv_mib(255), r"^\[cpu0\] hv: ready$",
                         r"root: root_test\.elf needs \[0x4000000, 0x[0-9a-f]+\) but root memory "
                         r"starts at 0x[0-9a-f]+ \(hv_mem=255M leaves the lowest 255 MiB to the "
                         r"hypervisor\); lower hv_mem to \d+M or less$",
                         r"root: cannot load root_test\.elf; no root partition runs"]),
        # A machine too small for the default: the clamp is announced. (The
        # root images are linked at 64 MiB, beyond this RAM: test=boot.)
        case("hv-mem-clamp", "test=boot", modules=(), root=False, mem="48M",
             expect=[r"warning: hv_mem=32M: only 23 MiB of the 46 MiB usable may go to the "
                     r"hypervisor; using 23M$", hv_mib(23), r"selftest boot: PASS"],
             forbid=[r"cmdline:"]),
        # The same machine with the root test: its image (at 64 MiB) lies
        # beyond the RAM, which no hv_mem can fix, and the refusal says so
        # without blaming the split.
        case("hv-mem-root-beyond-ram", "", root=False, mem="48M", status="pass",
             serial_input=["exit"], until="hv: ready",
             expect=[r"hv_mem=32M: only 23 MiB of the 46 MiB usable", r"^\[cpu0\] hv: ready$",
                     r"root: root_test\.elf needs \[0x4000000, 0x[0-9a-f]+\), outside root memory "
                     r"\(23 MiB from 0x[0-9a-f]+, in \d+ ranges\)$"],
             forbid=[r"lower hv_mem", r"root-test:"]),
    ]


def smp_cases():
    call_range, ap_range = "10000..10000000", "100..60000"
    return [
        # 0: every cross-CPU call timed out and CPU 1 showed `on BAD`.
        case("smp-call-timeout-0", "smp_call_timeout_us=0",
             [refused("smp_call_timeout_us", "0", call_range, "1000000")] + SMP_OK,
             forbid=SMP_BAD),
        case("smp-call-timeout-below", "smp_call_timeout_us=9999",
             [refused("smp_call_timeout_us", "9999", call_range, "1000000")] + SMP_OK,
             forbid=SMP_BAD),
        case("smp-call-timeout-above", "smp_call_timeout_us=10000001",
             [refused("smp_call_timeout_us", "10000001", call_range, "1000000")] + SMP_OK,
             forbid=SMP_BAD),
        case("smp-call-timeout-unit", "smp_call_timeout_us=1M",
             [bad_value("smp_call_timeout_us", "1M", call_range, "1000000")] + SMP_OK,
             forbid=SMP_BAD),
        accepted("smp-call-timeout-min", "smp_call_timeout_us=10000", SMP_OK),
        accepted("smp-call-timeout-max", "smp_call_timeout_us=10000000", SMP_OK),
        # 0: every AP was left offline.
        case("ap-timeout-0", "ap_timeout_ms=0",
             [refused("ap_timeout_ms", "0", ap_range, "2000")] + SMP_OK, forbid=SMP_BAD),
        case("ap-timeout-below", "ap_timeout_ms=99",
             [refused("ap_timeout_ms", "99", ap_range, "2000")] + SMP_OK, forbid=SMP_BAD),
        case("ap-timeout-above", "ap_timeout_ms=60001",
             [refused("ap_timeout_ms", "60001", ap_range, "2000")] + SMP_OK, forbid=SMP_BAD),
        case("ap-timeout-unit", "ap_timeout_ms=2K",
             [bad_value("ap_timeout_ms", "2K", ap_range, "2000")] + SMP_OK, forbid=SMP_BAD),
        accepted("ap-timeout-min", "ap_timeout_ms=100", SMP_OK),
        accepted("ap-timeout-max", "ap_timeout_ms=60000", SMP_OK),
        # 0 counted as 1 before, silently.
        case("maxcpus-0", "maxcpus=0", [refused("maxcpus", "0", "1..256", "256")] + SMP_OK,
             forbid=SMP_BAD),
        case("maxcpus-above", "maxcpus=257", [refused("maxcpus", "257", "1..256", "256")] + SMP_OK,
             forbid=SMP_BAD),
        accepted("maxcpus-min", "maxcpus=1", smp=2, root=False,
                 expect=base.root_test_ok(1) + [r"^\[cpu0\] hv: ready$", r"smp: 1 of 1 CPUs online",
                                                r"APIC ID 1 not started \(maxcpus=1\)"]),
        accepted("maxcpus-max", "maxcpus=256", SMP_OK),
        case("smp-phantom-above", "smp_phantom=255",
             [refused("smp_phantom", "255", "0..254", "none")] + SMP_OK, forbid=SMP_BAD),
    ]


def other_cases():
    return [
        case("loglevel-above", "loglevel=7",
             [refused("loglevel", "7", "0..3 (err|warn|info|debug)", "info"),
              r"mm: \d+ MiB usable"]),
        accepted("loglevel-max", "loglevel=3", [r"debug: mm: usable \["]),
        # `help` lists every numeric option with its range and default.
        accepted("help-ranges", "help test=boot", modules=(), root=False,
                 expect=[r"hv_mem +.* \[16M\.\.half of RAM, default 32M\]$",
                         r"smp_call_timeout_us +.* \[10000\.\.10000000, default 1000000\]$",
                         r"ap_timeout_ms +.* \[100\.\.60000, default 2000\]$",
                         r"maxcpus +.* \[1\.\.256, default 256\]$",
                         r"loglevel +.* \[0\.\.3 \(err\|warn\|info\|debug\), default info\]$",
                         r"smp_phantom +.* \[0\.\.254, default none\]$",
                         r"selftest boot: PASS"]),
    ]


def cases():
    return hv_mem_cases() + smp_cases() + other_cases()
