"""``fix`` usage errors and ``fix list``: answered before any connection is attempted."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_certdoctor.cli import main
from kubectl_certdoctor.fixes.registry import FIXES


@pytest.fixture(autouse=True)
def no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))


def test_fix_list_names_every_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fix", "list"]) == 0
    out = capsys.readouterr().out
    for fid, spec in FIXES.items():
        assert fid in out and spec.title in out
    assert "--set ingress_class=<name>" in out


@pytest.mark.parametrize("argv,message", [
    (["fix", "nope", "certificate/x"], "unknown fix 'nope'"),
    (["fix", "renew", "certifcate/x"], "unknown kind 'certifcate'"),
    (["fix", "renew", "certificate"], "invalid target 'certificate'"),
    (["fix", "renew", "certificate/x", "--set", "oops"], "invalid --set 'oops'"),
])
def test_usage_errors_exit_2_without_connecting(argv: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "kubeconfig" not in err
