"""An interactive serial session with a booted image, as a person at a
terminal has it: wait for what appears, type a line, read the answer.
QEMU's serial line is a Unix socket QEMU serves; Bochs' is a TCP
connection Bochs makes to us. Everything received is kept (self.text) and
written to a log file as it arrives."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import harness


class Timeout(Exception):
    pass


class Session:
    def __init__(self, iso, emu="qemu", smp=1, cpu="qemu64,+svm,+npt", mem="512M",
                 extra=(), model="corei7_skylake_x", megs=512, boot=None):
        """boot: QEMU arguments that boot something else than `iso` (a
        -kernel/-initrd/-append triple for a direct boot)."""
        self.boot = boot
        self.tmp = tempfile.mkdtemp(prefix="hv-session-")
        self.log_path = os.path.join(self.tmp, "serial.txt")
        self.buf = b""
        self.lock = threading.Lock()
        self.closed = False
        self.start = time.monotonic()
        if emu == "bochs":
            self._start_bochs(iso, smp, model, megs)
        else:
            self._start_qemu(iso, emu, smp, cpu, mem, extra)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _start_qemu(self, iso, emu, smp, cpu, mem, extra):
        path = os.path.join(self.tmp, "serial.sock")
        args = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", cpu, "-m", mem,
                "-smp", str(smp), "-display", "none", "-monitor", "none",
                "-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % path,
                "-serial", "chardev:ser0",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=1", "-no-reboot"]
        args += list(self.boot) if self.boot else ["-cdrom", iso, "-boot", "d"]
        if emu == "uefi":
            vars_copy = os.path.join(self.tmp, "vars.fd")
            shutil.copy(harness.OVMF_VARS, vars_copy)
            args += ["-machine", "q35",
                     "-drive", "if=pflash,format=raw,readonly=on,file=" + harness.OVMF_CODE,
                     "-drive", "if=pflash,format=raw,file=" + vars_copy]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise Timeout("QEMU's serial socket never appeared")
                time.sleep(0.05)

    def _start_bochs(self, iso, smp, model, megs):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        rc = os.path.join(self.tmp, "bochsrc")
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
com1: enabled=1, mode=socket-client, dev=localhost:%d
""" % (megs, model, smp, iso, os.path.join(self.tmp, "bochs.log"), port))
        cont = os.path.join(self.tmp, "cont")
        with open(cont, "w") as f:
            f.write("c\n")
        self.proc = subprocess.Popen(["bochs", "-q", "-f", rc, "-rc", cont],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=dict(os.environ, TERM="dumb"))
        srv.settimeout(60)
        try:
            self.sock, _ = srv.accept()
        except socket.timeout:
            raise Timeout("Bochs never connected its serial line")
        finally:
            srv.close()

    def _read(self):
        self.sock.settimeout(0.2)
        with open(self.log_path, "wb") as log:
            while not self.closed:
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                with self.lock:
                    self.buf += chunk

    @property
    def text(self):
        with self.lock:
            return self.buf.decode("utf-8", "replace").replace("\r", "")

    def pos(self):
        return len(self.text)

    def wait(self, pattern, timeout, start=0):
        """The first match of regex `pattern` in what arrived from `start` on."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        while True:
            m = rx.search(self.text, start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise Timeout("waited %d s for %r" % (timeout, pattern))
            if self.proc.poll() is not None:
                m = rx.search(self.text, start)
                if m:
                    return m
                raise Timeout("the emulator ended (status %s) before %r" %
                              (self.proc.returncode, pattern))
            time.sleep(0.1)

    def type(self, text, delay=0.01):
        for ch in text.encode():
            self.sock.sendall(bytes([ch]))
            time.sleep(delay)

    def cmd(self, line, expect, timeout=60, prompt=r"# $"):
        """Type a command line once a prompt is there, then wait for `expect`
        after it; the match."""
        start = self.pos()
        self.type(line + "\r")
        return self.wait(expect, timeout, start)

    def close(self):
        self.closed = True
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        try:
            self.sock.close()
        except OSError:
            pass
        text = self.text
        shutil.rmtree(self.tmp, ignore_errors=True)
        return text
