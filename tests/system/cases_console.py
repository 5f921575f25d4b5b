"""Consoles on machines as they are sold: no COM1 but a PCI UART, the serial
port the firmware names in ACPI's SPCR, the VGA text screen on BIOS, the
UEFI framebuffer; console= values that cannot work; the log ring (dmesg,
HC_LOG_READ); and what the screen costs the serial path (logbench).

The screens are read back through QEMU's monitor: the VGA text buffer
with pmemsave (from the CRTC start address the hypervisor scrolls with),
the framebuffer with screendump, decoded cell by cell against the font
in drivers/font8x16.c."""

import os
import re
import struct

import cases as base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT_LOG = "build/guest/root_log.elf"


# ------------------------------------------------------------ ACPI tables

def spcr(port=0x2f8, space=1, width=8, access=1, itype=0, baud=7):
    """An SPCR (revision 2, 80 bytes) naming a UART; QEMU's -acpitable fixes
    the checksum up whatever it is."""
    body = struct.pack("<B3x", itype)
    body += struct.pack("<BBBBQ", space, width, 0, access, port)
    body += struct.pack("<BBIBBBBBB", 0, 0, 0, baud, 0, 1, 0, 0, 0)
    body += struct.pack("<HHBBBIBI", 0xffff, 0xffff, 0, 0, 0, 0, 0, 0)
    hdr = b"SPCR" + struct.pack("<IBB6s8sI4sI", 36 + len(body), 2, 0, b"HVTEST",
                                b"HVSPCR  ", 1, b"HVT ", 1)
    t = bytearray(hdr + body)
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


# ------------------------------------------------------------ screens

def load_font():
    """{glyph rows: character} from drivers/font8x16.c."""
    with open(os.path.join(ROOT, "drivers/font8x16.c")) as f:
        src = f.read()
    font = {}
    for m in re.finditer(r"/\* '(\\?.)'\s*\*/ \{([^}]*)\}", src):
        ch = m.group(1).replace("\\\\", "\\").replace("\\'", "'")
        font[tuple(int(x, 16) for x in m.group(2).split(","))] = ch
    return font


def read_ppm(data):
    """(width, height, RGB bytes) of a binary PPM (QEMU's screendump)."""
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m:
        raise ValueError("not a PPM")
    return int(m.group(1)), int(m.group(2)), data[m.end():]


def decode_screen(data, font):
    """The framebuffer console's text: each 8x16 cell whose lit pixels form
    a glyph of the font; other cells read '#'. Returns (lines, colours):
    colours[row] is the (r, g, b) of the row's first lit pixel."""
    w, h, px = read_ppm(data)
    lines, colours = [], []
    for row in range(h // 16):
        text, colour = "", None
        for col in range(w // 8):
            bits = []
            for y in range(16):
                o = ((row * 16 + y) * w + col * 8) * 3
                b = 0
                for x in range(8):
                    p = px[o + 3 * x:o + 3 * x + 3]
                    if p != b"\0\0\0":
                        b |= 0x80 >> x
                        colour = colour or tuple(p)
                bits.append(b)
            text += font.get(tuple(bits), "#")
        lines.append(text.rstrip())
        colours.append(colour)
    return lines, colours


def vga_text(run):
    """The VGA text window read back: (visible, history). visible: the 25
    (line, attribute) rows at the CRTC start address (two HMP port reads);
    history: every row from the window's top to there, the log since boot
    until the hypervisor's scrolling first wraps the 32 KiB window."""
    replies = run.extra.get("monitor") or []
    vals = [int(m, 16) for r in replies for m in re.findall(r"= (0x[0-9a-f]+)", r)]
    mem = run.extra.get("files", {}).get("vga.bin")
    if len(vals) != 2 or not mem:
        raise ValueError("no VGA readback (%r)" % replies[-1:])
    top = (vals[0] << 8 | vals[1]) // 80
    rows = []
    for r in range(top + 25):
        row = mem[r * 160:(r + 1) * 160]
        rows.append(("".join(chr(c) if 32 <= c < 127 else "?" for c in row[0::2]).rstrip(),
                     row[1]))
    return rows[top:], rows


VGA_READBACK = ["o/b 0x3d4 0x0c", "i/b 0x3d5", "o/b 0x3d4 0x0d", "i/b 0x3d5",
                'pmemsave 0xb8000 32768 "{tmp}/vga.bin"']
SCREENDUMP = ['screendump "{tmp}/screen.ppm"']

VGA_ATTR = {"info": 0x07, "warn": 0x0e, "err": 0x0c}
FB_RGB = {"info": (0xaa, 0xaa, 0xaa), "warn": (0xff, 0xff, 0x55), "err": (0xff, 0x55, 0x55)}


def row_of(lines, pattern):
    for i, line in enumerate(lines):
        if re.search(pattern, line):
            return i
    return None


def check_screen_rows(lines, colour_of, want):
    """want: [(regex, level)]: each must be a row on the screen, in its colour."""
    for pattern, level in want:
        i = row_of(lines, pattern)
        if i is None:
            return "not on the screen: %r; the screen shows:\n%s" % (pattern, "\n".join(lines))
        if level and colour_of(i) != level:
            return "row %r is %r, not %s" % (lines[i], colour_of(i), level)
    return None


def check_vga(visible, history=()):
    """Rows that must be on the screen now, and rows that must have been
    shown since boot, each in its level's colour."""
    def check(run):
        try:
            now, since_boot = vga_text(run)
        except ValueError as e:
            return str(e)
        inv = {v: k for k, v in VGA_ATTR.items()}
        for rows, want in ((now, visible), (since_boot, history)):
            err = check_screen_rows([t for t, _ in rows],
                                    lambda i: inv.get(rows[i][1], hex(rows[i][1])), want)
            if err:
                return err
        return None
    return check


def check_fb(want):
    def check(run):
        data = run.extra.get("files", {}).get("screen.ppm")
        if not data:
            return "no screendump"
        lines, colours = decode_screen(data, load_font())
        inv = {v: k for k, v in FB_RGB.items()}
        return check_screen_rows(lines, lambda i: inv.get(colours[i], colours[i]), want)
    return check


# ------------------------------------------------------------ checks

def check_silent(key, what):
    def check(run):
        if "[cpu0]" in run.extra.get(key, ""):
            return "%s got the log too: %r" % (what, run.extra[key][-300:])
        return None
    return check


def check_logbench(run):
    """The screen's share of a line must stay well below the UART's."""
    m = re.search(r"logbench: (\d+) lines: ([\d.]+) us per line on every console, "
                  r"([\d.]+) us with the screens off", run.serial)
    drivers = dict((name, float(us)) for name, us in
                   re.findall(r"logbench:   (.+?): ([\d.]+) us per line in its driver", run.serial))
    if not m or len(drivers) != 2:
        return "no logbench summary on serial"
    uart = [us for name, us in drivers.items() if "I/O 0x3f8" in name][0]
    screen = [us for name, us in drivers.items() if "I/O 0x3f8" not in name][0]
    if screen > 0.5 * uart:
        return "the screen costs %.1f us per line, the UART %.1f" % (screen, uart)
    return None


def both(*checks):
    def check(run):
        for c in checks:
            err = c(run)
            if err:
                return err
        return None
    return check


READY = r"^\[cpu0\] hv: ready$"


def cases():
    Case = base.Case
    pci_typed = ["consoles", "exit"]
    return [
        # No COM port, a PCI UART: the log and the debug console are there.
        Case("qemu-console-pci", "root=none", serial_dev="pci", serial_input=pci_typed,
             until="hv: ready",
             expect=[r"console: PCI 00:0[0-9a-f]\.0 \(1b36:0002\): 1 UART port",
                     r"console: PCI 00:0[0-9a-f]\.0 I/O 0x[0-9a-f]+, 115200 baud: log and input",
                     READY, r"debugcon> consoles$", r"uart +PCI .* \(input\)"]),
        Case("uefi-console-pci", "root=none", emu="uefi", serial_dev="pci",
             serial_input=pci_typed, until="hv: ready",
             expect=[r"console: PCI 00:0[0-9a-f]\.0 I/O 0x[0-9a-f]+, 115200 baud: log and input",
                     r"console: framebuffer \d+x\d+ \d+ bpp at 0x[0-9a-f]+: log",
                     READY, r"debugcon> consoles$"]),
        # A two-port card: port 0 has the console, port 1 stays quiet.
        Case("qemu-console-pci-2x", "test=boot", serial_dev="pci-2x",
             expect=[r"console: PCI 00:0[0-9a-f]\.0 \(1b36:0003\): 2 UART ports",
                     r"selftest boot: PASS"],
             check=check_silent("pci1", "port 1")),
        # The firmware's SPCR names COM2: the console moves there.
        Case("qemu-console-spcr-com2", "root=none", serial_dev="com2",
             acpi_tables=[spcr(0x2f8)], serial_input=["consoles", "exit"], until="hv: ready",
             expect=[r"console: SPCR 16550 I/O 0x2f8, 115200 baud: log and input",
                     READY, r"debugcon> consoles$"],
             forbid=[r"console: COM1"], check=check_silent("com1", "COM1")),
        # Bad SPCRs: reported on the console that works, skipped.
        Case("qemu-console-spcr-pl011", "test=boot", acpi_tables=[spcr(0x9000000, space=0,
                                                                       width=32, access=3,
                                                                       itype=3)],
             expect=[r"warning: console: SPCR: interface type is not a 16550 "
                     r"\(interface type 0x3, ARM PL011\); ignored",
                     r"console: COM1 I/O 0x3f8, 115200 baud: log and input",
                     r"selftest boot: PASS"]),
        Case("qemu-console-spcr-in-ram", "test=boot",
             acpi_tables=[spcr(0x200000, space=0, width=8, access=1)],
             expect=[r"error: console: SPCR 16550 at 0x200000: it is RAM, not I/O",
                     r"console: COM1 I/O 0x3f8, 115200 baud: log and input",
                     r"selftest boot: PASS"]),
        # console= values that cannot work: said why, the log still comes out.
        Case("qemu-console-bad-name", "console=bogus test=boot",
             expect=[r"console: 'bogus': unknown console .*; discovering the consoles instead",
                     r"bad value for console", r"console: COM1 .*: log and input",
                     r"selftest boot: PASS"]),
        Case("qemu-console-bad-mmio", "console=mmio,0x100000 test=boot",
             expect=[r"console: mmio UART at 0x100000: it is RAM, not I/O",
                     r"nothing that console= names works; discovering",
                     r"console: COM1 .*: log and input", r"selftest boot: PASS"]),
        Case("qemu-console-bad-width", "console=mmio,0xfe000000,12 test=boot",
             expect=[r"console: mmio width 12: 8, 16 or 32 bits", r"selftest boot: PASS"]),
        Case("qemu-console-bad-pci", "console=pci@00:1f.7 test=boot",
             expect=[r"console: pci@00:1f\.7: no PCI function there",
                     r"console: COM1 .*: log and input", r"selftest boot: PASS"]),
        Case("qemu-console-no-uart", "console=0x2e8 test=boot",
             expect=[r"console: COM4 I/O 0x2e8, 115200 baud: no UART answers \(ENODEV\)",
                     r"console: COM1 .*: log and input", r"selftest boot: PASS"]),
        # The VGA text screen (BIOS): the log, each line in its level's colour.
        Case("qemu-console-vga", "frobnicate=1 root=none debugcmd=bogus", status=None,
             monitor_cmds=VGA_READBACK, until="hv: ready", settle=1,
             expect=[r"console: VGA text 80x25 at 0xb8000: log"],
             check=check_vga([(r"^\[cpu0\] error: debugcon: unknown command 'bogus'", "err"),
                              (r"^\[cpu0\] hv: ready$", "info")],
                             [(r"^\[cpu0\] console: COM1 I/O 0x3f8", "info"),
                              (r"^\[cpu0\] error: cmdline: unknown option 'frobnicate'", "err"),
                              (r"^\[cpu0\] warning: hv: command line had errors", "warn"),
                              (r"^\[cpu0\] hv: x86-64 microhypervisor", "info")])),
        # Nothing but a screen: what a new user sees on a machine without COM1.
        Case("qemu-console-vga-only", "console=auto,e9 root=none", status=None,
             serial_dev="none", debugcon=True, until_in="e9", until="hv: ready",
             monitor_cmds=VGA_READBACK, settle=1,
             check=check_vga([(r"^\[cpu0\] hv: ready$", "info")],
                             [(r"^\[cpu0\] console: VGA text 80x25 at 0xb8000: log", "info")])),
        # The UEFI framebuffer, decoded glyph by glyph from a screendump.
        # (The last lines: a screen keeps at least half its rows when it scrolls.)
        Case("uefi-console-fb", "root=none debugcmd=bogus,cpus", emu="uefi", status=None,
             monitor_cmds=SCREENDUMP, until="hv: ready", settle=2,
             expect=[r"console: framebuffer \d+x\d+ (24|32) bpp at 0x[0-9a-f]+: log"],
             check=check_fb([(r"^\[cpu0\] error: debugcon: unknown command 'bogus'", "err"),
                             (r"^\[cpu0\] debugcon> cpus$", "info"),
                             (r"^\[cpu0\] cpu 0: APIC ID 0, online$", "info"),
                             (r"^\[cpu0\] hv: ready$", "info")])),
        Case("uefi-console-fb-only", "console=auto,e9 root=none", emu="uefi", status=None,
             serial_dev="none", debugcon=True, until_in="e9", until="hv: ready",
             monitor_cmds=SCREENDUMP, settle=2,
             check=check_fb([(r"^\[cpu0\] hv: ready$", "info")])),
        # What the screen costs the serial path, measured by the hypervisor.
        Case("qemu-console-logbench-vga", "root=none debugcmd=logbench:200,exit",
             expect=[r"logbench:   VGA text"], check=check_logbench),
        Case("uefi-console-logbench-fb", "root=none debugcmd=logbench:200,exit", emu="uefi",
             expect=[r"logbench:   framebuffer"], check=check_logbench),
        # The log ring: dmesg shows every line from the first.
        Case("qemu-console-dmesg", "root=none debugcmd=dmesg,exit",
             expect=[r"dmesg: \d+ bytes logged since boot, 0 lines overwritten"],
             check=lambda run: None if len(re.findall(r"\] hv: command line ", run.serial)) == 2
             else "the boot log is not shown again by dmesg"),
        # ... and the root reads it through HC_LOG_READ; its own unfinished
        # line is kept apart from the hypervisor's lines; the ring wraps.
        Case("qemu-console-log-read", "", smp=2, modules=(ROOT_LOG,), timeout=120,
             expect=[r"log-test: \d+ passed, 0 failed", r"HV-VERDICT: PASS",
                     r"^log-test: partial$", r"^\[cpu0\] debugcon> cpus$",
                     r"^log-test: partial line, finished$",
                     r"dmesg: \d+ bytes logged since boot, [1-9]\d* lines overwritten",
                     r"^\[\.\.\.\]$"],
             forbid=[r"log-test: FAIL", r"log-test: partial\[cpu"]),
    ]
