#!/usr/bin/env python3
"""Write a gzip-compressed newc cpio archive: the test guest's initramfs.

    mkinitramfs.py OUTPUT --init vmm/initramfs-init --busybox build/images/busybox
                   [--file GUEST_PATH=HOST_PATH[:MODE]] ...

The archive holds /init, /bin/busybox, the directories busybox's --install
and the init script use, and the character device /dev/console (5, 1): the
kernel opens it for PID 1's stdin/stdout before anything mounts devtmpfs.
The cpio header carries the device numbers, so no root privileges (no
mknod) are needed.

The output is deterministic: entries sorted by path, fixed inode numbers,
uid/gid 0, mtime 0, and a gzip header without name or time, so two runs give
byte-identical files. Python 3 standard library only.

Format: "newc" (the kernel's Documentation/driver-api/early-userspace/
buffer-format.rst): a 110-byte ASCII header "070701" + 13 eight-digit hex
fields, the NUL-terminated name, padding to 4 bytes, the data, padding to 4
bytes; the archive ends with an entry named TRAILER!!!.
"""

import argparse
import gzip
import io
import os
import stat
import sys

DIRS = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "proc", "sys", "dev",
        "tmp", "root", "etc"]


def newc_entry(ino, name, mode, data=b"", nlink=1, rdev=(0, 0)):
    """One newc record (header, name, data, each padded to 4 bytes)."""
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    rec = hdr + name_b
    rec += b"\0" * (-len(rec) % 4)
    rec += data + b"\0" * (-len(data) % 4)
    return rec


def cpio(entries):
    """entries: list of (path, mode, payload) where payload is bytes (file),
    None (directory) or a (major, minor) tuple (device). Returns the archive."""
    out = io.BytesIO()
    for ino, (path, mode, payload) in enumerate(sorted(entries), start=1):
        name = path.lstrip("/")
        if payload is None:
            out.write(newc_entry(ino, name, stat.S_IFDIR | mode, nlink=2))
        elif isinstance(payload, tuple):
            out.write(newc_entry(ino, name, mode, rdev=payload))
        else:
            out.write(newc_entry(ino, name, stat.S_IFREG | mode, payload))
    out.write(newc_entry(0, "TRAILER!!!", 0))
    return out.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    # mtime=0 and no file name: the gzip header is the same on every run.
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", compresslevel=9,
                       mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("output")
    ap.add_argument("--init", required=True, help="the /init script")
    ap.add_argument("--busybox", required=True, help="a static busybox binary")
    ap.add_argument("--file", action="append", default=[],
                    metavar="GUEST=HOST[:MODE]", help="an extra regular file")
    args = ap.parse_args()

    entries = [("/" + d, 0o755, None) for d in DIRS]
    entries.append(("/dev/console", stat.S_IFCHR | 0o600, (5, 1)))
    entries.append(("/init", 0o755, read(args.init)))
    entries.append(("/bin/busybox", 0o755, read(args.busybox)))
    for spec in args.file:
        guest, _, host = spec.partition("=")
        host, _, mode = host.partition(":")
        if not guest.startswith("/") or not host:
            sys.exit("mkinitramfs: --file wants /GUEST/PATH=HOST_PATH[:MODE], got %r" % spec)
        entries.append((guest, int(mode or "644", 8), read(host)))

    paths = [e[0] for e in entries]
    dup = {p for p in paths if paths.count(p) > 1}
    if dup:
        sys.exit("mkinitramfs: duplicate paths: %s" % ", ".join(sorted(dup)))

    data = gzip_bytes(cpio(entries))
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
