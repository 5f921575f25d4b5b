"""The CPU-state test program (tests/guest/root_cpu.c) on both vendors: AMD
SVM under QEMU with and without XSAVE/AVX, Intel VMX under Bochs with
AVX-512. Every check prints a PASS/FAIL/SKIP line; the run passes when
none failed and as many ran as were planned."""

import re

import cases as base

ROOT_CPU = "build/guest/root_cpu.elf"


def cpu_ok(vendor, ncpus):
    return [r"cpu-test: %s, %d CPUs" % (vendor, ncpus),
            r"cpu-test: \d+ passed, 0 failed",
            r"HV-VERDICT: PASS"]


# A cross-CPU call the CR8 test aims at a spinning child must never time out.
NO_TIMEOUTS = [r"did not answer", r"TLB shootdown incomplete", r"^cpu-test: FAIL"]


def no_skip(*what):
    """Sections that must not be skipped on this CPU model."""
    return [r"^cpu-test: SKIP .*%s" % re.escape(w) for w in what]


def check_plan(run):
    m = re.search(r"cpu-test: plan (\d+) checks", run.serial)
    n = re.search(r"cpu-test: (\d+) checks: (\d+) passed, (\d+) failed, (\d+) skipped",
                  run.serial)
    if not m or not n:
        return "no plan or no summary line on serial"
    if m.group(1) != n.group(1):
        return "%s checks planned, %s reported" % (m.group(1), n.group(1))
    lines = len(re.findall(r"^cpu-test: (PASS|FAIL|SKIP) ", run.serial, re.M))
    if lines < int(m.group(1)) // 2:
        return "only %d result lines for %s checks" % (lines, m.group(1))
    return None


def cases():
    return [
        # EPYC: XSAVE and AVX. QEMU 7.2's TCG warns about features it lacks,
        # and has no SVM XSETBV intercept: the program notices and skips
        # what needs one (XCR0 per vCPU, AVX), keeping the XSAVE path.
        base.Case("qemu-cpu-epyc-smp-2", "", smp=2, cpu="EPYC", modules=(ROOT_CPU,),
                  timeout=180, expect=cpu_ok("AMD SVM", 2) + [r"XSAVE yes, AVX yes"],
                  forbid=NO_TIMEOUTS + no_skip("cr8", "region", "cpuid: vCPU", "swapped",
                                               "RDTSCP", "xsave: HC_"),
                  check=check_plan),
        # No XSAVE: the FXSAVE path.
        base.Case("qemu-cpu-noxsave-smp-2", "", smp=2, cpu="qemu64,+svm,+npt",
                  modules=(ROOT_CPU,), timeout=180,
                  expect=cpu_ok("AMD SVM", 2) + [r"XSAVE no"],
                  forbid=NO_TIMEOUTS + no_skip("cr8", "region", "cpuid: vCPU", "swapped"),
                  check=check_plan),
        # Intel VMX with AVX-512 (Bochs' corei7_skylake_x): everything runs.
        base.Case("bochs-cpu-smp-2", "", emu="bochs", smp=2, modules=(ROOT_CPU,),
                  timeout=300, expect=cpu_ok("Intel VMX", 2) + [r"XSAVE yes, AVX yes"],
                  forbid=NO_TIMEOUTS + no_skip("fpu:", "xsave:", "xsetbv", "xcr0", "cr8",
                                               "region", "cpuid: vCPU", "swapped", "RDTSCP"),
                  check=check_plan),
    ]
