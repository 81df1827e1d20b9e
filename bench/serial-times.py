#!/usr/bin/env python3
"""Prints a growing serial log's lines with the seconds since START at which each line arrived.

    python3 bench/serial-times.py LOG START [SECONDS]

For bench/boot-vs-direct.sh (BENCH_SERIAL_TIMES="python3 bench/serial-times.py"): where a boot waits. A line's time is
when its end arrived, so a line that a program writes in pieces (iPXE's "... ok") shows when it was finished. Ends
after SECONDS (300 by default), or when the log is truncated (the next boot starts with it).
"""
import sys
import time


def main() -> None:
    path, start = sys.argv[1], float(sys.argv[2])
    deadline = time.time() + (float(sys.argv[3]) if len(sys.argv) > 3 else 300)
    pending, position = b"", 0
    while time.time() < deadline:
        try:
            with open(path, "rb") as log:
                log.seek(0, 2)
                if log.tell() < position:
                    return
                log.seek(position)
                data = log.read()
        except FileNotFoundError:
            data = b""
        if not data:
            time.sleep(0.01)
            continue
        position += len(data)
        pending += data
        at = time.time() - start
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            print("%7.3f %s" % (at, line.decode("utf-8", "replace").rstrip("\r")), flush=True)


if __name__ == "__main__":
    main()
