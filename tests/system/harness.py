"""Boot the real image through GRUB under QEMU (SeaBIOS or OVMF) or Bochs,
capture the serial console, and judge the run by what it printed and how the
emulator ended. Used by tests/system/run.py and tests/bench/run.py."""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


# What the hypervisor prints when QEMU's TCG ends a VMRUN with the host's
# own state saved as the guest's (arch/x86/svm/svm_vcpu.c, decode_exit): a
# fault of the emulator, not of the code under test. A case that hits it is
# run once more, and says so.
EMULATOR_FAULT = "saved the host's own state as the guest's"


def retry_on_emulator_fault(name, attempt):
    """attempt() -> (ok, why, log); once more if the log shows the fault."""
    ok, why, log = attempt()
    if not ok and EMULATOR_FAULT in log:
        print("note: %s hit QEMU's SVM fault (%s); running it again" % (name, EMULATOR_FAULT),
              flush=True)
        ok, why, log = attempt()
    return ok, why, log


def qemu_status(code):
    """QEMU's exit status for a code written to isa-debug-exit."""
    return (code << 1) | 1


# Mirrors arch/x86/include/x86/exit_codes.h.
EXIT = {
    "pass": 0x10, "fail": 0x11, "panic": 0x12, "bad_bootinfo": 0x13,
    "bad_magic": 0x14, "no_long_mode": 0x15, "exception": 0x16,
    "no_virt": 0x17, "init_failed": 0x19,
}


class Image:
    """ISOs per command line, built once and cached under BUILD/test-isos."""

    def __init__(self, build):
        self.build = build
        self.elf = os.path.join(build, "hv.elf")
        self.dir = os.path.join(build, "test-isos")
        os.makedirs(self.dir, exist_ok=True)
        self.lock = threading.Lock()    # tests run in parallel; build each ISO once

    def iso(self, cmdline, modules=()):
        key = hashlib.sha1((cmdline + "|" + "|".join(modules)).encode()).hexdigest()[:12]
        path = os.path.join(self.dir, key + ".iso")
        with self.lock:
            newest = max([os.path.getmtime(self.elf)] +
                         [os.path.getmtime(m.split("|")[0]) for m in modules])
            if not os.path.exists(path) or os.path.getmtime(path) < newest:
                subprocess.run([os.path.join(ROOT, "scripts/mkiso.sh"), self.elf, path,
                                cmdline, *modules], check=True)
        return path


class Run:
    def __init__(self, status, serial, elapsed, timed_out, extra=None):
        self.status = status
        self.serial = serial
        self.elapsed = elapsed
        self.timed_out = timed_out
        self.extra = extra or {}


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        return ""


# Where run_qemu's serial capture (run.serial, `until`, serial_input) is
# plugged in, and what else each choice puts on the machine.
SERIAL_DEVS = ("com1", "com2", "pci", "pci-2x", "none")


def _serial_args(serial_dev, chardev, tmp):
    """QEMU arguments for the captured serial line (chardev 'ser0')."""
    if serial_dev == "com1":
        return ["-serial", chardev]
    if serial_dev == "com2":            # COM1 exists too, into com1.txt
        return ["-serial", "file:" + os.path.join(tmp, "com1.txt"), "-serial", chardev]
    if serial_dev == "none":
        return ["-serial", "none"]
    dev = (["-device", "pci-serial,chardev=ser0"] if serial_dev == "pci" else
           ["-chardev", "file,id=ser1,path=" + os.path.join(tmp, "pci1.txt"),
            "-device", "pci-serial-2x,chardev1=ser0,chardev2=ser1"])
    return ["-serial", "none"] + dev


def run_qemu(iso, firmware="bios", smp=1, cpu="qemu64,+svm,+npt", mem="256M",
             timeout=60, extra=(), monitor_cmds=None, until=None, icount=False,
             com2=False, debugcon=False, serial_input=None, serial_dev="com1",
             until_in="serial", acpi_tables=(), settle=0):
    """Boot iso under QEMU TCG. With monitor_cmds, wait for `until` on serial
    (on the 0xe9 port with until_in="e9"), wait `settle` seconds more, send
    each HMP command and keep the replies in run.extra['monitor']; "{tmp}"
    in a command is a scratch folder whose files come back in
    run.extra['files'] (a screendump, a pmemsave).

    serial_dev: the UART run.serial reads (and serial_input types on):
    com1 (default), com2 (COM1 then goes to run.extra['com1']), pci (no
    COM ports, a pci-serial), pci-2x (a two-port card, port 1 in
    run.extra['pci1']), none (no serial port at all). acpi_tables: whole
    ACPI tables (bytes) for QEMU's -acpitable."""
    assert serial_dev in SERIAL_DEVS
    tmp = tempfile.mkdtemp(prefix="hv-qemu-")
    serial = os.path.join(tmp, "serial.txt")
    sock = os.path.join(tmp, "serial.sock")
    if serial_dev == "com1":            # as it always was
        serial_arg = ["-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % sock,
                      "-serial", "chardev:ser0"] if serial_input else ["-serial", "file:" + serial]
    else:
        serial_arg = (["-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % sock]
                      if serial_input else ["-chardev", "file,id=ser0,path=" + serial]) + \
            _serial_args(serial_dev, "chardev:ser0", tmp)
        if serial_dev == "none":
            serial_arg = ["-serial", "none"]
    args = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", cpu, "-m", mem,
            "-smp", str(smp), "-display", "none", *serial_arg,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=1", "-no-reboot",
            "-cdrom", iso, "-boot", "d"]
    for i, table in enumerate(acpi_tables):
        path = os.path.join(tmp, "acpi%d.bin" % i)
        with open(path, "wb") as f:
            f.write(table)
        args += ["-acpitable", "file=" + path]
    if icount:
        args += ["-icount", "shift=0"]
    if com2:
        args += ["-serial", "file:" + os.path.join(tmp, "com2.txt")]
    if debugcon:
        args += ["-debugcon", "file:" + os.path.join(tmp, "e9.txt")]
    mon = None
    if monitor_cmds:
        mon = os.path.join(tmp, "mon.sock")
        args += ["-monitor", "unix:%s,server,nowait" % mon]
    else:
        args += ["-monitor", "none"]
    if firmware == "uefi":
        vars_copy = os.path.join(tmp, "vars.fd")
        shutil.copy(OVMF_VARS, vars_copy)
        args += ["-machine", "q35",
                 "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                 "-drive", "if=pflash,format=raw,file=" + vars_copy]
    args += list(extra)
    start = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = {}
    timed_out = False
    typist = None
    if serial_input:
        typist = threading.Thread(target=_type_into_serial,
                                  args=(sock, serial, until, serial_input, start + timeout))
        typist.start()
    files = os.path.join(tmp, "files")
    os.makedirs(files)
    try:
        if monitor_cmds:
            deadline = start + timeout
            watch = os.path.join(tmp, "e9.txt") if until_in == "e9" else serial
            while until not in _read(watch):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise subprocess.TimeoutExpired(args, timeout)
                time.sleep(0.2)
            time.sleep(settle)
            out["monitor"] = _monitor(mon, [c.replace("{tmp}", files) for c in monitor_cmds])
            proc.kill()
        proc.wait(timeout=max(1, timeout - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    if typist:
        typist.join()
    out["stderr"] = proc.stdout.read().decode("utf-8", "replace")
    out["com2"] = _read(os.path.join(tmp, "com2.txt"))
    out["e9"] = _read(os.path.join(tmp, "e9.txt"))
    out["com1"] = _read(os.path.join(tmp, "com1.txt"))
    out["pci1"] = _read(os.path.join(tmp, "pci1.txt"))
    out["files"] = {}
    for name in os.listdir(files):
        with open(os.path.join(files, name), "rb") as f:
            out["files"][name] = f.read()
    run = Run(proc.returncode, _read(serial), time.monotonic() - start, timed_out, out)
    shutil.rmtree(tmp, ignore_errors=True)
    return run


def _type_into_serial(sock_path, log_path, until, lines, deadline):
    """Connect to the serial socket, log what arrives to log_path, and once
    `until` has been seen, type each line (as a person would, with CR)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            s.connect(sock_path)
            break
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
    s.settimeout(0.2)
    buf = b""
    pending = list(lines)
    with open(log_path, "wb") as log:
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                log.write(chunk)
                log.flush()
            except socket.timeout:
                pass
            except OSError:
                break
            if pending and until.encode() in buf:
                for ch in pending.pop(0).encode() + b"\r":
                    s.sendall(bytes([ch]))
                    time.sleep(0.002)
    s.close()


def _monitor(path, cmds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(30)

    def until_prompt():
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode("utf-8", "replace")

    until_prompt()
    replies = []
    for c in cmds:
        s.sendall(c.encode() + b"\n")
        replies.append(until_prompt())
    s.close()
    return replies


def run_bochs(iso, smp=2, timeout=120, model="corei7_skylake_x", until=None, megs=256):
    """Boot iso under Bochs. Bochs ends only through its shutdown port (the
    image writes it when bochs_exit is on its command line) or our SIGKILL."""
    tmp = tempfile.mkdtemp(prefix="hv-bochs-")
    serial = os.path.join(tmp, "serial.txt")
    rc = os.path.join(tmp, "bochsrc")
    with open(rc, "w") as f:
        f.write("""megs: %d
cpu: model=%s, count=%d, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
boot: cdrom
ata0-master: type=cdrom, path=%s, status=inserted
log: %s
display_library: term
port_e9_hack: enabled=1
com1: enabled=1, mode=file, dev=%s
""" % (megs, model, smp, iso, os.path.join(tmp, "bochs.log"), serial))
    cont = os.path.join(tmp, "cont")
    with open(cont, "w") as f:
        f.write("c\n")
    start = time.monotonic()
    proc = subprocess.Popen(["bochs", "-q", "-f", rc, "-rc", cont],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, TERM="dumb"))
    timed_out = False
    while proc.poll() is None:
        if time.monotonic() - start > timeout:
            timed_out = True
            proc.kill()
            break
        if until and until in _read(serial):
            proc.kill()
            break
        time.sleep(0.5)
    proc.wait()
    log = _read(os.path.join(tmp, "bochs.log"))
    run = Run(proc.returncode, _read(serial), time.monotonic() - start, timed_out,
              {"bochs_log": log})
    shutil.rmtree(tmp, ignore_errors=True)
    return run


def verdict_line(serial):
    m = re.search(r"HV-VERDICT: (PASS|FAIL)", serial)
    return m.group(1) if m else None
