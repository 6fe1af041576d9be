"""What the test control plane and the test node share about the processes they run: each
writes ``<name>.log`` under its directory, and start-up waits fail with that log's tail."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class Supervisor:
    """A mixin: ``dir`` holds the logs, ``_procs`` the running processes by name, and
    ``error`` is the exception start-up failures raise."""

    dir: Path
    _procs: dict[str, subprocess.Popen[bytes]]
    error: type[Exception] = RuntimeError

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.dir / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _wait(self, name: str, check: Callable[[], bool], timeout: float,
              what: str = "") -> None:
        """Poll ``check`` with backoff until it holds; fail at once if ``name`` exits."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while time.monotonic() < deadline:
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise self.error(
                    f"{name} exited with code {proc.returncode} during start-up; "
                    f"log {self.dir / (name + '.log')}:\n{self.log_tail(name)}")
            if check():
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise self.error(f"timed out after {timeout:.0f}s waiting for {what or name}; "
                         f"log {self.dir / (name + '.log')}:\n{self.log_tail(name)}")
