"""The interrupt-platform test program (tests/guest/root_irq.c): local APIC
timer, HLT, xAPIC/x2APIC views, IOAPIC, HC_RUN budget and HC_KICK,
HC_INTERRUPT/HC_NMI, MMIO and string I/O through the root, INIT-SIPI-SIPI
and IPIs across physical CPUs, bad input, and the hypervisor's memory
after it. AMD SVM under QEMU (BIOS with 4 CPUs, UEFI with 2), Intel VMX
under Bochs with 2. Every check prints a PASS/FAIL line; the run passes
when none failed and as many ran as were planned."""

import re

import cases as base

ROOT_IRQ = "build/guest/root_irq.elf"


def irq_ok(vendor, ncpus):
    return [r"irq-test: %s, %d CPUs" % (vendor, ncpus),
            r"irq-test: root vCPUs on CPUs 1-%d" % (min(ncpus, 4) - 1),
            r"irq-test: \d+ passed, 0 failed",
            r"HV-VERDICT: PASS"]


FORBID = [r"^irq-test: FAIL", r"did not answer", r"TLB shootdown incomplete",
          r"unhandled exit", r"PANIC"]


def check_plan(run):
    m = re.search(r"irq-test: plan (\d+) checks", run.serial)
    n = re.search(r"irq-test: (\d+) checks: (\d+) passed, (\d+) failed", run.serial)
    if not m or not n:
        return "no plan or no summary line on serial"
    if m.group(1) != n.group(1):
        return "%s checks planned, %s reported" % (m.group(1), n.group(1))
    lines = len(re.findall(r"^irq-test: (PASS|FAIL) ", run.serial, re.M))
    if lines < int(m.group(1)):
        return "only %d result lines for %s checks" % (lines, m.group(1))
    sections = re.findall(r"^irq-test: section (\w+): \d+ checks", run.serial, re.M)
    want = ["timer", "hlt", "apic", "ioapic", "run", "mmio", "strio", "smp2", "smp4", "bad",
            "stats"]
    if sections != want:
        return "sections %s, expected %s" % (sections, want)
    return None


def cases():
    return [
        base.Case("qemu-irq-smp-4", "", smp=4, modules=(ROOT_IRQ,), timeout=240,
                  expect=irq_ok("AMD SVM", 4), forbid=FORBID, check=check_plan),
        base.Case("uefi-irq-smp-2", "", emu="uefi", smp=2, modules=(ROOT_IRQ,), timeout=240,
                  expect=irq_ok("AMD SVM", 2), forbid=FORBID, check=check_plan),
        # Bochs' clock is emulated: its timers are exact, 2 ms periods do.
        base.Case("bochs-irq-smp-2", "", emu="bochs", smp=2, modules=(ROOT_IRQ + "|timer_ms=2",),
                  timeout=300,
                  expect=irq_ok("Intel VMX", 2), forbid=FORBID, check=check_plan),
    ]
