"""Reliability cases (issue 12): no cross-CPU stall under load, panics that
stop every CPU wherever it is (checked from the outside too), rollbacks of
every init stage on both vendors, a memory check that can fail, and the
root test program with its number of checks pinned per configuration."""

import re

import cases as base

ROOT_TEST = base.ROOT_TEST

# Any of these on serial fails a reliability case: a cross-CPU call that
# timed out is a last resort, never a routine path.
NO_STALL = [r"did not answer", r"mailbox left our call", r"TLB shootdown incomplete",
            r"^root-test: FAIL"]


def stress_ok(ncpus):
    return [r"root-test: stress: \d+ calls from %d CPUs in \d+ ms \(\d+ calls/s\), "
            r"0 unexpected results" % ncpus,
            r"root-test: \d+ passed, 0 failed", r"HV-VERDICT: PASS"]


def panic_line(others, total):
    return (r"panic: %d of %d other CPUs stopped; virtualization still on in 0 CPUs, "
            r"off in %d, unknown in 0$" % (others, others, total))


def check_cpus_stopped_off(ncpus):
    """From QEMU's monitor after a panic (panic_halt keeps the machine up):
    every CPU halted with EFER.SVME (bit 12) clear."""
    def check(run):
        replies = run.extra.get("monitor") or [""]
        blocks = re.split(r"^CPU#(\d+)", replies[0], flags=re.M)[1:]
        cpus = dict(zip(blocks[0::2], blocks[1::2]))
        if len(cpus) != ncpus:
            return "monitor showed %d CPUs, expected %d" % (len(cpus), ncpus)
        for n, regs in sorted(cpus.items()):
            efer = re.search(r"EFER=([0-9a-f]+)", regs)
            if not efer:
                return "CPU %s: no EFER in 'info registers'" % n
            if int(efer.group(1), 16) & (1 << 12):
                return "CPU %s: EFER.SVME still set (EFER=%s)" % (n, efer.group(1))
            if "HLT=1" not in regs:
                return "CPU %s is not halted" % n
        return None
    return check


# "root-test: N passed": the checks each configuration runs. A section that
# skips itself (fewer CPUs than it needs, a vendor path not taken) changes
# the count and fails the run; a new check means a new number here.
ROOT_TEST_CHECKS = {
    ("qemu", 1): 191, ("qemu", 2): 195, ("qemu", 4): 212, ("qemu", 8): 220,
    ("uefi", 2): 195, ("bochs", 2): 198, ("bochs", 3): 213,
}


def check_root_count(emu, ncpus):
    want = ROOT_TEST_CHECKS[(emu, ncpus)]

    def check(run):
        m = re.search(r"root-test: (\d+) passed, (\d+) failed", run.serial)
        if not m:
            return "no 'root-test: N passed' line"
        if int(m.group(1)) != want:
            return "%s checks ran, %d pinned for %s with %d CPUs" % (m.group(1), want, emu, ncpus)
        return None
    return check


def root_pinned(emu, ncpus, vendor):
    return base.Case("%s-root-test-pinned-smp-%d" % (emu, ncpus), "", emu=emu, smp=ncpus,
                     modules=(ROOT_TEST,), expect=base.root_test_ok(ncpus, vendor),
                     forbid=NO_STALL, check=check_root_count(emu, ncpus),
                     timeout=600 if emu == "bochs" else None)


def check_every_stage(ncpus):
    """test=virt_rollback_each: one section per stage (and compat@1,
    enable@1), each with the undo lines of every earlier stage in reverse
    and a memory check equal to the boot baseline."""
    def check(run):
        parts = re.split(r"^\[cpu0\] virt: rollback of (\S+): running$", run.serial, flags=re.M)
        names, bodies = parts[1::2], parts[2::2]
        want_names = [s for s in base.STAGES if s != "devops"] + \
            (["compat@1", "enable@1"] if ncpus >= 2 else [])
        if names != want_names:
            return "stages rolled back %s, expected %s" % (names, want_names)
        for name, body in zip(names, bodies):
            stage = name.split("@")[0]
            want = list(reversed(base.STAGES[:base.STAGES.index(stage)]))
            undone = re.findall(r"virt: undo (\w+)$", body, re.M)
            if undone != want:
                return "%s: undo order %s, expected %s" % (name, undone, want)
            if not re.search(r"leakcheck: after rollback of %s: .* as before" % re.escape(name),
                             body):
                return "%s: memory not as at boot" % name
        return None
    return check


def every_stage(emu, ncpus):
    return base.Case("%s-fail-init-every-stage-smp-%d" % (emu, ncpus), "test=virt_rollback_each",
                     emu=emu, smp=ncpus, timeout=600 if emu == "bochs" else None,
                     expect=[r"virt: rollback of every stage: PASS",
                             r"selftest virt_rollback_each: PASS"],
                     check=check_every_stage(ncpus))


def cases():
    out = [
        # Root vCPUs on every CPU making management calls and statistics at
        # once, CPU 0 taking the last CPU offline and online under that load.
        base.Case("qemu-stress-smp-4", "", smp=4, modules=(ROOT_TEST + "|stress",),
                  timeout=240, expect=stress_ok(4), forbid=NO_STALL),
        base.Case("bochs-stress-smp-2", "", emu="bochs", smp=2, modules=(ROOT_TEST + "|stress",),
                  timeout=400, expect=stress_ok(2), forbid=NO_STALL),
        # Panics: inside child VMs, with GIF clear, and the VMX path.
        base.Case("qemu-panic-in-guest-smp-4", "test=panic_in_guest", smp=4, status="panic",
                  expect=[r"PANIC: panic while 3 CPUs run a child VM", panic_line(3, 4)]),
        base.Case("qemu-panic-gif-clear-smp-2", "test=panic_gif_clear", smp=2, status="panic",
                  expect=[r"PANIC: panic while CPU 1 has GIF clear", panic_line(1, 2)]),
        base.Case("qemu-panic-on-ap-counts-smp-4", "test=panic_on_ap", smp=4, status="panic",
                  expect=[panic_line(3, 4)]),
        base.Case("qemu-panic-seen-from-monitor-smp-4", "test=panic_in_guest panic_halt", smp=4,
                  status=None, until="system halted", monitor_cmds=["info registers -a"],
                  expect=[panic_line(3, 4)], check=check_cpus_stopped_off(4)),
        base.Case("bochs-panic-on-ap-vmx-smp-2", "test=panic_on_ap", emu="bochs", smp=2,
                  status=None, expect=[r"PANIC: panic on CPU 1", panic_line(1, 2),
                                       r"system halted"]),
        base.Case("bochs-panic-in-guest-vmx-smp-2", "test=panic_in_guest", emu="bochs", smp=2,
                  status=None, expect=[r"PANIC: panic while 1 CPUs run a child VM",
                                       panic_line(1, 2), r"system halted"]),
        # The memory check fails when it should.
        base.Case("qemu-leakcheck-detects", "test=leakcheck_detects", smp=2,
                  expect=[r"swapped page EIO, moved object EIO, unchanged OK"]),
        base.Case("bochs-fail-init-devops-warns", "test=virt fail_init=devops", emu="bochs", smp=2,
                  expect=[r"warning: virt: device ops registry failed", r"selftest virt: PASS"]),
        # Root test program, checks pinned; CPU hotplug on VMX needs 3 CPUs.
        root_pinned("bochs", 3, "Intel VMX"),
        root_pinned("bochs", 2, "Intel VMX"),
        root_pinned("uefi", 2, "AMD SVM"),
        # Every rollback stage on Bochs (VMX) too, in one boot (cases.py
        # boots once per stage on QEMU, and a few stages on Bochs).
        every_stage("bochs", 2),
        every_stage("qemu", 2),
        # The fast calls down the ordinary path (hc_fast=0): the same
        # checks, the same results.
        base.Case("qemu-root-test-no-fast-calls", "hc_fast=0", smp=2,
                  modules=(ROOT_TEST + "|hc_fast=0",),
                  expect=base.root_test_ok(2, "AMD SVM"),
                  forbid=list(NO_STALL) + [r"cmdline: (unknown option|bad value)"],
                  check=check_root_count("qemu", 2)),
    ] + [root_pinned("qemu", n, "AMD SVM") for n in (1, 2, 4, 8)]
    return out
