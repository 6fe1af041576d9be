"""Bad input reaches the user as one clear line and a kubectl-style exit code, never a
traceback; ``--help`` answers fast. Runs the installed console script, as kubectl would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

SCRIPT = Path(sys.executable).parent / "kubectl-certdoctor"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = os.environ.get("HOME", "/root")
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def assert_one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    assert len(errors) == 1, p.stderr
    return errors[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket goes


def kubeconfig(path: Path, server: str, user: dict[str, Any],
               ca: str | None = None) -> Path:
    cluster: dict[str, Any] = {"server": server}
    if ca:
        cluster["certificate-authority"] = ca
    else:
        cluster["insecure-skip-tls-verify"] = True
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return path


def test_console_script_is_installed() -> None:
    assert SCRIPT.exists(), f"{SCRIPT} missing: is the project installed (pip install -e .)?"


def test_unknown_flag_exits_2_with_one_line() -> None:
    p = run("--no-such-flag")
    assert p.returncode == 2
    line = assert_one_line_error(p)
    assert "--no-such-flag" in line


def test_unknown_flag_after_command_exits_2() -> None:
    p = run("check", "--bogus")
    assert p.returncode == 2
    assert "--bogus" in assert_one_line_error(p)


def test_missing_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    p = run("--kubeconfig", str(missing), "check")
    assert p.returncode in (1, 2)
    line = assert_one_line_error(p)
    assert str(missing) in line or "kubeconfig" in line.lower()


def test_unreachable_api_server_fails_fast(tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "kc", f"https://127.0.0.1:{closed_port()}", {"token": "t"})
    began = time.monotonic()
    p = run("--kubeconfig", str(kc), "--request-timeout", "3s", "check", timeout=30)
    took = time.monotonic() - began
    assert p.returncode in (1, 2), (p.returncode, p.stderr)
    line = assert_one_line_error(p)
    assert "127.0.0.1" in line or "unreachable" in line.lower() or "connect" in line.lower()
    assert took < 3 + 5, f"took {took:.1f}s with --request-timeout 3s"


def test_bad_request_timeout_is_usage_error() -> None:
    p = run("--request-timeout", "soon", "check")
    assert p.returncode == 2
    assert "request-timeout" in assert_one_line_error(p)


def test_help_is_fast() -> None:
    """Under 300 ms (best of 5, so a busy shared machine does not decide the result)."""
    times = []
    for _ in range(5):
        began = time.perf_counter()
        p = run("--help")
        times.append(time.perf_counter() - began)
        assert p.returncode == 0 and "certdoctor" in p.stdout
    assert min(times) < 0.3, f"--help took {min(times) * 1000:.0f} ms at best: {times}"


def test_version() -> None:
    from kubectl_certdoctor import __version__

    p = run("--version")
    assert p.returncode == 0 and __version__ in p.stdout


@pytest.mark.integration
def test_untrusted_client_certificate_is_one_line(control_plane: Any, tmp_path: Path) -> None:
    """The real API server refuses a certificate from a foreign CA (401)."""
    from tests.support.pki import CA

    pair = CA(tmp_path / "foreign").issue("mallory", "mallory")
    kc = kubeconfig(tmp_path / "kc", control_plane.server,
                    {"client-certificate": str(pair.cert), "client-key": str(pair.key)},
                    ca=str(control_plane.ca_file))
    p = run("--kubeconfig", str(kc), "--request-timeout", "5s", "check", "-A", timeout=60)
    assert p.returncode in (1, 2), (p.returncode, p.stdout, p.stderr)
    line = assert_one_line_error(p)
    assert "401" in line or "unauthorized" in line.lower() or "credential" in line.lower()
