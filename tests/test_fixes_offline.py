"""Bundles and the demo: a fix is previewed only ("fixes need a live cluster")."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_certdoctor.cli import main
from kubectl_certdoctor.objects import ObjectSet
from tests.support import fixes as f

bundle = pytest.importorskip("kubectl_certdoctor.bundle")


def test_bundle_fix_is_preview_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("CERTDOCTOR_STATE_DIR", str(tmp_path / "state"))
    objs = ObjectSet.from_objects([f.served(f.certificate("web", "shop", issuing="False"))])
    path = tmp_path / "bundle.yaml"
    with open(path, "w", encoding="utf-8") as fp:
        bundle.write_bundle(objs, fp, {"context": "prod"})
    assert main(["fix", "renew", "certificate/web", "-n", "shop", "--from-file",
                 str(path)]) == 0
    out = capsys.readouterr().out
    assert "PUT /apis/cert-manager.io/v1/namespaces/shop/certificates/web/status" in out
    assert "+    reason: ManuallyTriggered" in out
    assert "fixes need a live cluster" in out
    assert not (tmp_path / "state").exists()  # nothing was sent, so nothing to audit
