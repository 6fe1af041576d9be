"""``kubectl certdoctor check`` against the real test API server.

Every scenario of the library, and the field-report stories of tests/test_rules_seeds.py,
are created through the API (status written via the status subresource); then ``check``
reads them with its real LIST+WATCH store and must report exactly the codes it reports
offline. Times are shifted so the objects look captured "now". Also: the restricted user
(no orders/challenges/secrets) and an unreachable server.

The shared control plane serves no Gateway API on purpose (other tests rely on Gateway being
"missing"), so there a scenario's Gateway is left out and the codes that rest on it are not
expected. The Gateway scenarios are checked live, Gateway included, against a private
control plane that also installs the Gateway API CRDs (``gateway_plane``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import tests.test_rules_seeds as seeds
from kubectl_certdoctor import scenarios
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.objects import Obj
from tests.support.diagnosis import NOW

pytestmark = pytest.mark.integration

_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
#: the shared control plane serves no Gateway API: seed 000's Gateway cannot be created there
LIVE_SEEDS = {k: v for k, v in seeds.SEEDS.items() if not k.startswith("000")}


def shifted(value: Any, now: datetime) -> Any:
    """Every RFC 3339 timestamp moved so that NOW (the seeds' capture time) becomes ``now``."""
    if isinstance(value, dict):
        return {k: shifted(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, now) for v in value]
    if isinstance(value, str) and _TS.match(value):
        t = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return (t + (now - NOW)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def apply_seed(api: Any, name: str, namespace: str) -> None:
    from tests.support.apply import apply_objects

    build, _ = LIVE_SEEDS[name]
    now = datetime.now(UTC)
    objs: list[Obj] = [shifted(o, now) for o in build()]
    # real topology: the controller stays in cert-manager, load balancers in their own
    # namespaces; only the workload namespace becomes the test's
    apply_objects(api, objs, namespace, keep_namespaces=True)


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc = main(["check", "-o", "json", *argv])
    captured = capsys.readouterr()
    assert captured.out, captured.err
    return rc, json.loads(captured.out)


@pytest.mark.parametrize("seed", sorted(LIVE_SEEDS))
def test_live_seed_gives_exactly_its_codes(seed: str, control_plane: Any, admin_api: Any,
                                           namespace: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    apply_seed(admin_api, seed, namespace)
    rc, doc = check_json(capsys, "--kubeconfig", str(control_plane.admin_kubeconfig),
                         "-n", namespace, "--fail-on", "warning")
    got = {f["code"] for f in doc["findings"]}
    assert got == LIVE_SEEDS[seed][1], [(f["code"], f["object"]) for f in doc["findings"]]
    assert rc == 1
    s = doc["summary"]
    assert s["source"] == "live" and s["namespace"] == namespace and s["objects_scanned"] > 0


@pytest.mark.parametrize("name", scenarios.names())
def test_live_scenario_gives_exactly_its_codes(name: str, control_plane: Any, admin_api: Any,
                                               namespace: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.apply import apply_objects

    objs = [o for o in scenarios.objects(name, datetime.now(UTC)) if o.get("kind") != "Gateway"]
    apply_objects(admin_api, objs, namespace)
    want = set(scenarios.info(name).expected)
    if any(o.get("kind") == "Gateway" for o in scenarios.objects(name)):
        want.discard("HTTP01_MULTIPLE_INGRESS_BACKENDS")
    rc, doc = check_json(capsys, "--kubeconfig", str(control_plane.admin_kubeconfig),
                         "-n", namespace)
    got = {f["code"] for f in doc["findings"]}
    assert got == want, [(f["code"], f["object"], f["title"]) for f in doc["findings"]]
    errors = doc["summary"]["counts"]["error"]
    assert rc == (1 if errors else 0)


def _has_gateway(name: str) -> bool:
    return any(o.get("kind") == "Gateway" for o in scenarios.objects(name))


GATEWAY_SCENARIOS = [n for n in scenarios.names() if _has_gateway(n)]


@pytest.fixture(scope="module")
def gateway_plane() -> Iterator[Any]:
    """A private control plane that also serves the Gateway API (Gateway, GatewayClass).

    Private because the shared one must keep Gateway "missing"; no controller manager
    (quicker), so the namespace's default ServiceAccount is created by the test."""
    if os.environ.get("CERTDOCTOR_SKIP_INTEGRATION") == "1":
        pytest.skip("CERTDOCTOR_SKIP_INTEGRATION=1")
    from tests.support.controlplane import ControlPlane

    cp = ControlPlane(controller_manager=False, extra_crd_dirs=("crds-gateway",),
                      die_with_parent=True)
    cp.start()
    try:
        yield cp
    finally:
        cp.stop()


@pytest.mark.parametrize("name", GATEWAY_SCENARIOS)
def test_live_gateway_scenario_gives_exactly_its_codes(
        name: str, gateway_plane: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """With the Gateway really served, its status written through the status subresource,
    ``check`` reports exactly the expected codes, HTTP01_MULTIPLE_INGRESS_BACKENDS included."""
    from kubernetes import config

    from tests.support.apply import apply_objects

    ns = f"gw-{name}"[:63]
    api = config.new_client_from_config(config_file=str(gateway_plane.admin_kubeconfig))
    try:
        for path, body in (
                ("/api/v1/namespaces", {"metadata": {"name": ns}}),
                (f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "default"}})):
            status, out = gateway_plane.request("POST", path, body)
            assert status in (201, 409), out
        created = apply_objects(api, scenarios.objects(name, datetime.now(UTC)), ns)
    finally:
        api.close()
    gateways = [o for o in created if o.get("kind") == "Gateway"]
    assert gateways and all(o.get("status", {}).get("addresses") for o in gateways)
    want = set(scenarios.info(name).expected)
    rc, doc = check_json(capsys, "--kubeconfig", str(gateway_plane.admin_kubeconfig),
                         "-n", ns)
    got = {f["code"] for f in doc["findings"]}
    assert got == want, [(f["code"], f["object"], f["title"]) for f in doc["findings"]]
    assert "Gateway" not in doc["summary"]["unavailable"]
    errors = doc["summary"]["counts"]["error"]
    assert rc == (1 if errors else 0)


def test_live_restricted_user_still_diagnoses(control_plane: Any, admin_api: Any,
                                              namespace: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The viewer may not list orders, challenges or secrets: those are reported as not
    read, and what can be diagnosed from the rest still is."""
    apply_seed(admin_api, "003-vault-not-retried", namespace)
    rc, doc = check_json(capsys, "--kubeconfig", str(control_plane.restricted_kubeconfig),
                         "-n", namespace, "--fail-on", "never")
    assert rc == 0
    unread = doc["summary"]["unavailable"]
    assert {"Order", "Challenge"} <= set(unread)
    assert all(v.startswith("forbidden") for k, v in unread.items() if k in ("Order",
                                                                                "Challenge"))
    got = {f["code"] for f in doc["findings"]}
    assert {"VAULT_PERMISSION_DENIED_NOT_RETRIED", "CERTIFICATE_EXPIRED"} <= got


def test_unreachable_server_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: x, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: x, user: x}}]\n")
    rc = main(["check", "--kubeconfig", str(kc), "--request-timeout", "2s"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "Traceback" not in err
