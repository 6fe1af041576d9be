"""Idle CPU of the TUI: ``python -m benchmarks.idle [--seconds 60] [--repeat 3]``.

Starts ``kubectl certdoctor --demo`` on a real pseudo-terminal (the Linux driver, as a
user's terminal would run it), lets it settle, then reads the process's CPU time from
``/proc`` over the window. An idle app should cost nothing: no polling timer runs (the
source wakes the app with a message; see app.py), only the 30 s clock tick.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import statistics
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (and its waited-for children), seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _drain(fd: int, seconds: float) -> None:
    """Read (and drop) the terminal output for ``seconds``, as a terminal would."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if r:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def measure(seconds: float, settle: float = 8.0) -> float:
    """Percent of one core the demo TUI uses while nobody touches it."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real CLI on the pty
        os.environ["TERM"] = "xterm-256color"
        os.environ.setdefault("COLUMNS", "140")
        os.environ.setdefault("LINES", "40")
        os.execv(sys.executable, [sys.executable, "-m", "kubectl_certdoctor", "--demo"])
    try:
        _drain(fd, settle)
        t0, c0 = time.monotonic(), cpu_seconds(pid)
        _drain(fd, seconds)
        t1, c1 = time.monotonic(), cpu_seconds(pid)
        return 100.0 * (c1 - c0) / (t1 - t0)
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.idle")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    runs = [measure(a.seconds) for _ in range(a.repeat)]
    print(f"idle CPU over {a.seconds:.0f}s, {a.repeat} runs: "
          + ", ".join(f"{r:.2f}%" for r in runs) + f" (median {statistics.median(runs):.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
