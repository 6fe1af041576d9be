"""``kubectl certdoctor`` (the TUI command): sources are opened before the TUI starts, so
bad input is one clear line and an exit code, never a half-drawn screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_certdoctor.cli import main
from kubectl_certdoctor.commands.tui import open_source
from kubectl_certdoctor.errors import BundleError, ClusterError
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import StaticSource

DATA = Path(__file__).parent / "data" / "tui"


def test_from_file_opens_a_read_only_static_source() -> None:
    src = open_source(Options(from_file=str(DATA / "lab-pki-healthy.yaml")))
    assert isinstance(src, StaticSource)
    assert src.read_only and not src.live
    assert src.origin == "bundle: lab-pki-healthy.yaml"
    assert src.snapshot().get("Certificate", "lab-pki", "web") is not None


def test_missing_kubeconfig_is_one_line_exit_1(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ClusterError):
        open_source(Options(kubeconfig=str(tmp_path / "nope")))
    assert main(["--kubeconfig", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_unreachable_server_is_one_line_exit_1(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    kc = tmp_path / "kc"
    kc.write_text("""apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
""")
    assert main(["--kubeconfig", str(kc), "--request-timeout", "2s"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_corrupt_bundle_is_one_line_exit_2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("{ this is: [not yaml")
    with pytest.raises(BundleError):
        open_source(Options(from_file=str(bad)))
    assert main(["--from-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and err.count("\n") == 1
