"""System test cases: each boots the real ISO through GRUB and checks what
the emulator really did (exit status, serial output, monitor queries)."""

import os
import re

import harness
from harness import EXIT, qemu_status


class Case:
    """A boot with a command line, judged by exit status and serial patterns.

    expect: regexes that must all appear on serial; forbid: that must not.
    status: the expected exit code name (EXIT key) or None for 'any'.
    check: an extra function(run) -> error string or None."""

    def __init__(self, name, cmdline, emu="qemu", smp=1, cpu="qemu64,+svm,+npt",
                 status="pass", expect=(), forbid=(), check=None, timeout=None,
                 quick=False, modules=(), **kw):
        self.name, self.cmdline, self.emu, self.smp, self.cpu = name, cmdline, emu, smp, cpu
        self.status, self.expect, self.forbid, self.check = status, expect, forbid, check
        self.quick, self.kw, self.modules = quick, kw, modules
        self.timeout = timeout or (240 if emu == "bochs" else 90 if emu == "uefi" else 60)

    def boot(self, img):
        cmdline = self.cmdline + (" bochs_exit" if self.emu == "bochs" else "")
        iso = img.iso(cmdline.strip(), self.modules)
        if self.emu == "bochs":
            return harness.run_bochs(iso, smp=self.smp, timeout=self.timeout, **self.kw)
        return harness.run_qemu(iso, firmware="uefi" if self.emu == "uefi" else "bios",
                                smp=self.smp, cpu=self.cpu, timeout=self.timeout, **self.kw)

    def run(self, img):
        return harness.retry_on_emulator_fault(self.name, lambda: self._run(img))

    def _run(self, img):
        r = self.boot(img)
        log = r.serial
        # A timeout fails every case, 'any' status included: a run that
        # never ended has shown nothing about how it ends.
        if r.timed_out:
            return False, "timed out after %.0f s" % r.elapsed, log
        if self.status is not None:
            if self.emu == "bochs":
                # Bochs cannot report a status: the verdict travels over serial.
                if self.status == "pass" and harness.verdict_line(log) != "PASS":
                    return False, "no HV-VERDICT: PASS on serial", log
            elif r.status != qemu_status(EXIT[self.status]):
                return False, "exit status %s, expected %d (%s)" % (
                    r.status, qemu_status(EXIT[self.status]), self.status), log
        for pat in self.expect:
            if not re.search(pat, log, re.M):
                return False, "missing on serial: %r" % pat, log
        for pat in self.forbid:
            if re.search(pat, log, re.M):
                return False, "unexpected on serial: %r" % pat, log
        if self.check:
            err = self.check(r)
            if err:
                return False, err, log + "\n" + str(r.extra.get("stderr", ""))
        return True, "", log


def check_wx(run):
    """Parse `info tlb`: no page may be both writable and executable."""
    replies = run.extra.get("monitor") or [""]
    lines = re.findall(r"^([0-9a-f]{16}): ([0-9a-f]{16}) ([-XGPDACTUW]{9})", replies[0], re.M)
    if len(lines) < 100:
        return "info tlb returned %d mappings" % len(lines)
    wx = [l for l in lines if l[2][0] != "X" and l[2][8] == "W"]
    if wx:
        return "%d writable+executable pages, first %s" % (len(wx), " ".join(wx[0]))
    if any(int(l[0], 16) == 0 for l in lines):
        return "page 0 is mapped"
    text = [l for l in lines if 0x200000 <= int(l[0], 16) < 0x201000]
    if not text or text[0][2][0] == "X" or text[0][2][8] == "W":
        return "first text page is not read-execute: %s" % (text[:1],)
    return None


def check_com2(run):
    if "selftest boot: PASS" not in run.extra.get("com2", ""):
        return "COM2 did not get the console (com2 log: %r)" % run.extra.get("com2", "")[-200:]
    if "selftest boot" in run.serial:
        return "console=com2 but COM1 still got the log"
    return None


def check_e9(run):
    if "selftest boot: PASS" not in run.extra.get("e9", ""):
        return "port 0xe9 mirror missing"
    return None


def boot_cases():
    exc = r"^\[cpu0\] error: "
    return [
        Case("qemu-bios-boot", "loglevel=debug test=boot", quick=True,
             expect=[r"loaded by GRUB", r"mm: \d+ MiB usable", r"selftest boot: PASS"]),
        Case("qemu-uefi-boot", "test=boot", emu="uefi",
             expect=[r"loaded by GRUB", r"boot: firmware UEFI", r"selftest boot: PASS"]),
        Case("bochs-boot", "test=boot", emu="bochs",
             expect=[r"loaded by GRUB", r"selftest boot: PASS"]),
        Case("qemu-wx", "root=none", status=None, check=check_wx,
             monitor_cmds=["info tlb"], until="hv: ready"),
        Case("qemu-unknown-option", "frobnicate=7 loglevel=bogus test=boot",
             expect=[r"unknown option 'frobnicate'", r"bad value for loglevel",
                     r"selftest boot: PASS"]),
        Case("qemu-console-com2", "console=com2 test=boot", check=check_com2, com2=True),
        Case("qemu-console-e9", "console=com1,e9 test=boot", check=check_e9, debugcon=True),
        Case("qemu-exception-ud", "test=fault_ud", status="exception",
             expect=[exc + r"exception 6 \(#UD", r"RIP 0008:[0-9a-f]{16} selftest_fault_ud",
                     r"CR2 [0-9a-f]{16}", r"RAX [0-9a-f]{16}", r"backtrace:",
                     r"halted after an exception"]),
        Case("qemu-exception-null", "test=fault_null", status="exception",
             expect=[r"exception 14 \(#PF", r"CR2 0000000000000000"]),
        Case("qemu-exception-wx", "test=fault_write_text", status="exception",
             expect=[r"exception 14 \(#PF page fault\), error code 0x3"]),
        Case("qemu-exception-stack", "test=fault_stack_overflow", status="exception",
             expect=[r"exception 8 \(#DF double fault\)"]),
        Case("qemu-panic", "test=panic", status="panic",
             expect=[r"PANIC: selftest panic 42", r"backtrace:", r"selftest_panic\+0x",
                     r"system halted"]),
        Case("qemu-bad-bootinfo", "test=mb2_truncated", status="bad_bootinfo",
             expect=[r"multiboot2 information at 0x[0-9a-f]+ is malformed: .*\((ERANGE|ENOENT)\)",
                     r"halting"]),
    ]


def smp_online(n):
    return [r"smp: %d of %d CPUs online" % (n, n),
            r"smp: %d CPUs online, all answered single and broadcast calls" % n]


def check_panic_stops_others(run):
    lines = [l for l in run.serial.splitlines() if l.startswith("[cpu")]
    if not lines or "system halted" not in lines[-1]:
        return "the log does not end with the panic's last line: %r" % lines[-1:]
    return None


def smp_cases():
    cases = [Case("qemu-smp-%d" % n, "test=smp", smp=n, expect=smp_online(n),
                  timeout=120, quick=(n == 2))
             for n in (1, 2, 4, 8, 64)]
    return cases + [
        Case("qemu-smp-maxcpus", "test=smp maxcpus=2", smp=4,
             expect=smp_online(2) + [r"APIC ID 3 not started \(maxcpus=2\)"]),
        Case("qemu-smp-nosmp", "test=smp nosmp", smp=4, expect=smp_online(1)),
        Case("qemu-smp-call-timeout", "test=smp_timeout", smp=2,
             expect=[r"busy CPU 1 -> single call ETIMEDOUT, broadcast ETIMEDOUT",
                     r"CPU 1 \(APIC 1\) did not answer a call to report_apic within 50000 us"]),
        Case("qemu-smp-dead-cpu", "test=smp smp_phantom=77 ap_timeout_ms=200", smp=2,
             expect=[r"CPU 2 \(APIC ID 77\) did not answer within 200 ms; left offline",
                     r"smp: 2 of 3 CPUs online"]),
        Case("qemu-smp-no-acpi", "test=smp", smp=2, extra=["-machine", "pc,acpi=off"],
             expect=[r"no usable CPU list from ACPI", r"smp: 1 of 1 CPUs online"]),
        Case("qemu-smp-panic-stops-others", "test=panic_on_ap", smp=4, status="panic",
             expect=[r"^\[cpu1\] error: PANIC: panic on CPU 1", r"system halted"],
             check=check_panic_stops_others),
        Case("uefi-smp-4", "test=smp", emu="uefi", smp=4, expect=smp_online(4)),
        Case("bochs-smp-4-x2apic", "test=smp", emu="bochs", smp=4,
             expect=smp_online(4) + [r"apic: x2APIC mode"]),
    ]


def c_stages():
    """The fail_init= stage names in the order of enum virt_stage, read from
    the C sources (include/hv/virt_init.h for the order, hv/fail_inject.c
    for the names), so the tests follow the code without a copy to keep."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "include/hv/virt_init.h")) as f:
        body = re.search(r"enum virt_stage \{(.*?)\};", f.read(), re.S).group(1)
    order = [s for s in re.findall(r"^\s*(STAGE_\w+)", body, re.M) if s != "STAGE_COUNT"]
    with open(os.path.join(root, "hv/fail_inject.c")) as f:
        names = dict(re.findall(r"\[(STAGE_\w+)\]\s*=\s*\"(\w+)\"", f.read()))
    missing = [s for s in order if s not in names]
    if missing or not order:
        raise RuntimeError("stages without a name in hv/fail_inject.c: %s" % missing)
    return [names[s] for s in order]


STAGES = c_stages()


def check_undo_order(failed):
    """The undo lines must name every stage before `failed`, in reverse."""
    stage = failed.split("@")[0]
    expected = list(reversed(STAGES[:STAGES.index(stage)]))

    def check(run):
        first_init = run.serial.split("selftest virt_rollback: running")[0]
        undone = re.findall(r"virt: undo (\w+)$", first_init, re.M)
        if undone != expected:
            return "undo order %s, expected %s" % (undone, expected)
        return None
    return check


def rollback_case(stage, emu="qemu", smp=2):
    return Case("%s-fail-init-%s" % (emu, stage.replace("@", "-at-")),
                "test=virt_rollback fail_init=%s" % stage, emu=emu, smp=smp,
                expect=[r"virt: init failed", r"leakcheck: after rollback: .* as before",
                        r"virt: retrying the init", r"leakcheck: after a full init and exit: .* as before",
                        r"selftest virt_rollback: PASS"],
                check=check_undo_order(stage))


def virt_on(n, backend):
    return [r"virt: %s on in %d CPUs" % (backend, n),
            r"virt: on in every CPU, hypercalls answered"] + \
        [r"virt: cpu %d hardware reads back on" % c for c in range(n)]


def virt_cases():
    cases = [Case("qemu-virt-smp-%d" % n, "test=virt", smp=n, expect=virt_on(n, "svm"),
                  quick=(n == 4)) for n in (1, 4, 8)]
    cases += [rollback_case(st) for st in STAGES if st != "devops"]
    cases += [rollback_case("compat@1"), rollback_case("enable@1"),
              rollback_case("compat@3", smp=4), rollback_case("enable@2", smp=4)]
    cases += [rollback_case(st, emu="bochs") for st in ("hw_setup", "compat@1", "enable@1", "debug")]
    return cases + [
        Case("qemu-fail-init-devops-warns", "test=virt fail_init=devops", smp=2,
             expect=[r"warning: virt: device ops registry failed", r"selftest virt: PASS"]),
        Case("bochs-virt-smp-2", "test=virt", emu="bochs", smp=2, expect=virt_on(2, "vmx") +
             [r"vmx: VMCS revision 0x[0-9a-f]+, EPT, unrestricted guest"]),
        Case("bochs-virt-paths", "test=virt_paths", emu="bochs", smp=2),
        Case("qemu-no-svm", "", cpu="qemu64,-svm", status="no_virt",
             expect=[r"virt: no hardware virtualization: no VMX/SVM",
                     r"no usable hardware virtualization; stopping"]),
        Case("qemu-virt-paths", "test=virt_paths", smp=4,
             expect=[r"CPU offline: hardware state as expected",
                     r"resumed, CPU still offline: hardware state as expected",
                     r"CPU back online: hardware state as expected"]),
        Case("qemu-reboot-virt-off", "debugcmd=reboot", smp=4, status=None,
             check=check_reboot),
        Case("qemu-panic-virt-off", "test=panic_on_ap", smp=4, status="panic",
             expect=[r"panic: 3 of 3 other CPUs stopped; virtualization still on in 0 CPUs"]),
        Case("qemu-debugcon-typed", "", smp=2, serial_input=["virt", "stats virt_counters", "exit"],
             until="hv: ready",
             expect=[r"debugcon> virt$", r"virt: +1 +1 +on +on", r"debugcon> stats virt_counters",
                     r"cpu 1: 1 enables, 0 disables"]),
        Case("qemu-debugcon-commands", "debugcmd=virt,stats,caches,mem,cpus,bogus,exit", smp=2,
             expect=[r"debugcon: virt: ok", r"--- virt_counters ---", r"vcpu +size",
                     r"debugcon: unknown command 'bogus'"]),
    ]


def check_reboot(run):
    if run.status != 0:
        return "QEMU exit status %s, expected 0 (reset with -no-reboot)" % run.status
    tail = run.serial.split("debugcon> reboot")[-1]
    rows = re.findall(r"virt: +(\d+) +\d+ +(\w+) +(\w+)", tail)
    if len(rows) != 4 or any(hw != "off" for _, _, hw in rows):
        return "after reboot the hardware read back %s" % rows
    if "reboot: resetting" not in tail:
        return "no reset line"
    return None


def slab_cases():
    return [
        Case("qemu-slab-smp-4", "test=slab_smp", smp=4,
             expect=[r"slab: 4 CPUs did 76800 allocs and 76800 frees",
                     r"leakcheck: after concurrent slab use: .* as before"]),
        Case("bochs-slab-smp-2", "test=slab_smp", emu="bochs", smp=2,
             expect=[r"leakcheck: after concurrent slab use: .* as before"]),
        Case("qemu-slab-double-free", "test=slab_double_free", status="panic",
             expect=[r"PANIC: cache 'selftest-dbg': double free", r"backtrace:"]),
    ]


ROOT_TEST = "build/guest/root_test.elf"


def root_test_ok(n, vendor="AMD SVM"):
    return [r"root-test: %s, %d CPUs" % (vendor, n),
            r"root-test: child printed \"child: all exits\"",
            r"root-test: \d+ passed, 0 failed"]


def check_root_reboot(run):
    if run.status != 0:
        return "QEMU exit status %s, expected 0 (reset with -no-reboot)" % run.status
    tail = run.serial.split("rebooting through HC_REBOOT")[-1]
    rows = re.findall(r"virt: +(\d+) +\d+ +(\w+) +(\w+)", tail)
    if len(rows) != 2 or any(hw != "off" for _, _, hw in rows):
        return "after HC_REBOOT the hardware read back %s" % rows
    return None


def root_cases():
    cases = [Case("qemu-root-test-smp-%d" % n, "", smp=n, modules=(ROOT_TEST,),
                  expect=root_test_ok(n), quick=(n == 2)) for n in (1, 2, 4, 8)]
    return cases + [
        Case("uefi-root-test-smp-2", "", emu="uefi", smp=2, modules=(ROOT_TEST,),
             expect=root_test_ok(2)),
        Case("qemu-root-demo", "", smp=2, status="pass",
             serial_input=["virt", "exit"], until="debug console is on serial",
             expect=[r"root: demo root partition, hypervisor API 2, 2 CPUs",
                     r"root: child says \"Hello from a child VM\"",
                     r"root: child exit: hlt", r"root: child VM destroyed \(0\)",
                     r"debugcon> virt"]),
        Case("bochs-root-test-smp-2", "", emu="bochs", smp=2, modules=(ROOT_TEST,),
             expect=root_test_ok(2, "Intel VMX")),
        Case("bochs-root-demo", "", emu="bochs", smp=1, status=None, until="debug console is on serial",
             expect=[r"root: child says \"Hello from a child VM\"", r"root: child VM destroyed \(0\)"]),
        Case("qemu-root-reboot", "", smp=2, modules=(ROOT_TEST + "|reboot",), status=None,
             check=check_root_reboot),
        Case("qemu-root-bad-module", "", smp=1, modules=("linker.ld",), status="pass",
             serial_input=["exit"], until="hv: ready",
             expect=[r"root: cannot load linker.ld: not an ELF64 x86-64 executable"]),
    ]


def extra_cases():
    """Cases from tests/system/cases_*.py: each module has a cases() list."""
    import glob
    import importlib
    import os
    out = []
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "cases_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        out += mod.cases()
    return out


def all_cases():
    return boot_cases() + smp_cases() + virt_cases() + slab_cases() + root_cases() + \
        extra_cases()
