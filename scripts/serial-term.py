#!/usr/bin/env python3
"""serial-term.py PORT: the terminal end of an emulator's serial line that
connects to 127.0.0.1:PORT (Bochs' socket-client mode): what arrives is
shown, what is typed is sent, raw. Ctrl-] ends it."""

import os
import select
import socket
import sys
import termios
import tty


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(1)
    print("waiting for the emulator's serial line on port %s; Ctrl-] quits" % sys.argv[1],
          flush=True)
    conn, _ = srv.accept()
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd) if os.isatty(fd) else None
    if old:
        tty.setraw(fd)
    try:
        while True:
            r, _, _ = select.select([conn, fd], [], [])
            if conn in r:
                data = conn.recv(4096)
                if not data:
                    break
                os.write(sys.stdout.fileno(), data)
            if fd in r:
                data = os.read(fd, 1024)
                if not data or b"\x1d" in data:
                    break
                conn.sendall(data)
    finally:
        if old:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        conn.close()


if __name__ == "__main__":
    main()
