"""Ctrl-C at any moment leaves the terminal as it was (reliability, issue 9).

Runs the real CLI in a real terminal (tmux), presses Ctrl-C after a random delay
— during start-up, while the tree is drawn, while a screen is open — and checks
that the tty settings (``stty -g``) are identical afterwards, that the alternate
screen was left, and that the shell got its prompt back.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "kubectl-certdoctor"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def wait_for(session: str, text: str, timeout: float = 20) -> str:
    end = time.time() + timeout
    screen = ""
    while time.time() < end:
        screen = tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not on screen:\n{screen}")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ctrl_c_at_random_moments_restores_the_terminal(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    delays = [0.05, 0.3, 0.8, 1.5, 3.0] + [rng.uniform(0.05, 3.0) for _ in range(3)]
    for i, delay in enumerate(delays):
        session = f"certdoctor-ctrlc-{i}"
        before, after = tmp_path / f"before{i}", tmp_path / f"after{i}"
        tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40",
             "bash --norc --noprofile")
        try:
            tmux("send-keys", "-t", session, f"stty -g > {before}", "Enter")
            tmux("send-keys", "-t", session, f"{CLI} --demo", "Enter")
            time.sleep(delay)
            if delay > 1.0:  # also interrupt with a screen open
                for k in ("j", "enter"):
                    tmux("send-keys", "-t", session, k)
                    time.sleep(0.1)
            tmux("send-keys", "-t", session, "C-c")
            end = time.time() + 20
            while tmux("display-message", "-p", "-t", session,
                       "#{pane_current_command}").strip() != "bash":
                assert time.time() < end, "the app did not exit on Ctrl-C"
                time.sleep(0.05)
            # a separate command line: bash would skip the rest of a list after a signal
            tmux("send-keys", "-t", session,
                 f"echo EXIT=$?; stty -g > {after}; echo RE''STORED", "Enter")
            screen = wait_for(session, "RESTORED")
            assert "Traceback" not in screen
            assert before.read_text() == after.read_text(), f"tty changed after {delay:.2f}s"
            assert "EXIT=0" in screen or "EXIT=130" in screen, screen
            alt = tmux("display-message", "-p", "-t", session, "#{alternate_on}").strip()
            assert alt == "0"
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
