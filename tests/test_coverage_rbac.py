"""The shipped read-only ClusterRole, proven with real users on the real API server.

- bound cluster-wide (docs/rbac-read-only.yaml, nothing else): ``check`` in one namespace
  and with ``-A``, ``dump``, and the live source every TUI screen reads from run with zero
  forbidden requests, and find the same codes as the admin;
- bound only in the workload namespace (no access to cert-manager's): the controller is
  not visible, and ``check`` says so (``coverage``) instead of going silent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_certdoctor.cli import main
from kubectl_certdoctor.cluster.store import Store
from tests.test_check_live import apply_seed

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
ROLE = "certdoctor-read-only"


@pytest.fixture(scope="module")
def shipped_role(control_plane: Any) -> str:
    doc = yaml.safe_load((REPO / "docs" / "rbac-read-only.yaml").read_text())
    assert doc["metadata"]["name"] == ROLE
    control_plane.apply_cluster_role(doc)
    return ROLE


@pytest.fixture
def forbidden_counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every Store stopped during the test reports its forbidden requests here."""
    seen: list[int] = []
    stop = Store.stop

    def counting_stop(self: Store, timeout: float = 2.0) -> None:
        seen.append(self.forbidden_requests)
        stop(self, timeout)

    monkeypatch.setattr(Store, "stop", counting_stop)
    yield seen


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc = main(["check", "-o", "json", "--fail-on", "never", *argv])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def test_shipped_role_zero_forbidden_requests(control_plane: Any, admin_api: Any,
                                              namespace: str, shipped_role: str,
                                              forbidden_counter: list[int], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    apply_seed(admin_api, "003-vault-not-retried", namespace)
    kc = str(control_plane.add_user("certdoctor-shipped", cluster_roles=[shipped_role]))
    admin = str(control_plane.admin_kubeconfig)

    _, want = check_json(capsys, "--kubeconfig", admin, "-n", namespace)
    rc, doc = check_json(capsys, "--kubeconfig", kc, "-n", namespace)
    assert rc == 0 and doc["coverage"] == [], doc["coverage"]
    assert doc["summary"]["unavailable"] == {}
    assert {f["code"] for f in doc["findings"]} == {f["code"] for f in want["findings"]}
    assert {"VAULT_PERMISSION_DENIED_NOT_RETRIED", "CERT_MANAGER_OUTDATED"} <= {
        f["code"] for f in doc["findings"]}

    _, doc_all = check_json(capsys, "--kubeconfig", kc, "-A")
    assert doc_all["coverage"] == []
    assert main(["dump", "--kubeconfig", kc, "-n", namespace,
                 "-o", str(tmp_path / "b.yaml")]) == 0

    # the live source the TUI's screens read from
    from kubectl_certdoctor.options import Options
    from kubectl_certdoctor.source import LiveSource, connection_summary

    src = LiveSource.connect(Options(kubeconfig=kc, namespace=namespace))
    src.start()
    try:
        assert src.store.synced.wait(20)
        assert connection_summary(src.states()) == "live"
        assert src.store.snapshot().get("Deployment", "cert-manager", "cert-manager")
    finally:
        src.stop()
        src.conn.close()
    assert len(forbidden_counter) >= 4 and set(forbidden_counter) == {0}, forbidden_counter


def test_no_access_to_cert_manager_namespace_is_said(
        control_plane: Any, admin_api: Any, namespace: str, shipped_role: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    apply_seed(admin_api, "003-vault-not-retried", namespace)
    kc = str(control_plane.add_user(f"certdoctor-team-{namespace[-6:]}",
                                    roles=[(namespace, shipped_role)]))
    _, doc = check_json(capsys, "--kubeconfig", kc, "-n", namespace)
    gaps = {g["fact"]: g for g in doc["coverage"]}
    ctrl = gaps["the cert-manager controller"]
    assert ctrl["state"] == "forbidden"
    assert ctrl["message"].startswith(
        "controller not visible: deployments in all namespaces forbidden — version-dependent")
    assert "CERT_MANAGER_OUTDATED" in ctrl["checks_off"]
    # the namespace's own chain is still diagnosed
    assert "CERTIFICATE_EXPIRED" in {f["code"] for f in doc["findings"]}
    main(["check", "--kubeconfig", kc, "-n", namespace, "--fail-on", "never"])
    text = capsys.readouterr().out
    assert "Coverage:" in text and "controller not visible" in text
