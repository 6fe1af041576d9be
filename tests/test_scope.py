"""Scope semantics: ``check -n X`` judges X's objects and the issuers they use;
``check certificate/NAME`` gives one chain; no cert-manager → exit 2.

Live: every seed story, applied with its real topology (controller in cert-manager,
load balancers in their own namespaces), gives from its workload namespace alone the
same codes as ``-A``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import tests.test_rules as t
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.commands.check import parse_target, scope_filter
from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.rules import run_rules
from tests.support.diagnosis import NOW, certificate, objset, ts


def _failing_cluster_issuer(name: str) -> dict[str, Any]:
    return t.acme_issuer(name, ready="False", reason="ErrRegisterACMEAccount",
                         message="Failed to verify ACME account: context deadline exceeded",
                         server="https://acme.test/directory")


def _healthy_cert(name: str, ns: str, issuer: str) -> dict[str, Any]:
    return certificate(name, ns=ns, issuer=issuer, kind="ClusterIssuer", ready="True",
                       dns=(f"{name}.example.test",),
                       status={"notAfter": ts(timedelta(days=60)),
                               "renewalTime": ts(timedelta(days=30))})


def test_another_teams_cluster_issuer_is_not_judged_in_my_namespace() -> None:
    objs = objset(_failing_cluster_issuer("team-b-acme"), _failing_cluster_issuer("mine"),
                  _healthy_cert("web", "shop", "le-ok"), t.deployment(),
                  certificate("api", ns="team-b", issuer="team-b-acme", kind="ClusterIssuer"))
    findings = run_rules(build_graph(objs, NOW), NOW)
    assert any(f.object.name == "team-b-acme" for f in findings)
    shop = scope_filter(findings, "shop", objs, "cert-manager")
    assert not any(f.object.kind == "ClusterIssuer" for f in shop), shop
    assert not any(f.object.namespace == "team-b" for f in shop)
    # team-b uses it: judged there
    assert any(f.object.name == "team-b-acme"
               for f in scope_filter(findings, "team-b", objs, "cert-manager"))
    # the cluster resource namespace is every ClusterIssuer's home
    home = scope_filter(findings, "cert-manager", objs, "cert-manager")
    assert {"team-b-acme", "mine"} <= {f.object.name for f in home}
    # a namespace without Certificates is not judged by the controller's findings either
    assert scope_filter(findings, "empty", objs, "cert-manager") == []


def test_parse_target() -> None:
    assert parse_target("certificate/web", "shop") == Ref("Certificate", "shop", "web")
    assert parse_target("cert/web", None) == Ref("Certificate", "default", "web")
    assert parse_target(None, "shop") is None
    with pytest.raises(UsageError):
        parse_target("issuer/x", "shop")


# -- live ------------------------------------------------------------------------------------

from tests.test_check_live import LIVE_SEEDS, apply_seed  # noqa: E402

OTHER_TESTS = "t-"


def _codes(doc: dict[str, Any], own: str) -> set[str]:
    """Codes of findings not about another test's (terminating) namespace."""
    return {f["code"] for f in doc["findings"]
            if not (f["object"]["namespace"].startswith(OTHER_TESTS)
                    and f["object"]["namespace"] != own)}


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc = main(["check", "-o", "json", *argv])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.integration
@pytest.mark.parametrize("seed", sorted(LIVE_SEEDS))
def test_namespace_view_has_the_root_causes_of_all_namespaces(
        seed: str, control_plane: Any, admin_api: Any, namespace: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    apply_seed(admin_api, seed, namespace)
    kc = str(control_plane.admin_kubeconfig)
    _, ns_doc = check(capsys, "--kubeconfig", kc, "-n", namespace, "--fail-on", "never")
    _, all_doc = check(capsys, "--kubeconfig", kc, "-A", "--fail-on", "never")
    assert _codes(ns_doc, namespace) == _codes(all_doc, namespace) == LIVE_SEEDS[seed][1]
    assert ns_doc["coverage"] == []


@pytest.mark.integration
def test_one_certificate_one_page(control_plane: Any, admin_api: Any, namespace: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    apply_seed(admin_api, "002-failed-request-blocks", namespace)
    kc = str(control_plane.admin_kubeconfig)
    rc, doc = check(capsys, "--kubeconfig", kc, "-n", namespace, "certificate/cdn-tls")
    assert rc == 1
    # issuer first (here an external one, not watched), then the Certificate and below
    assert [(c["kind"], c["name"]) for c in doc["chain"]][:2] == [
        ("CDNClusterIssuer.cdn.example.test", "cdn"), ("Certificate", "cdn-tls")]
    assert {("CertificateRequest", "cdn-tls-8")} <= {(c["kind"], c["name"])
                                                      for c in doc["chain"]}
    assert {f["code"] for f in doc["findings"]} == LIVE_SEEDS["002-failed-request-blocks"][1]
    main(["check", "--kubeconfig", kc, "-n", namespace, "certificate/cdn-tls"])
    text = capsys.readouterr().out
    assert text.startswith("Chain:\n  CDNClusterIssuer") and "CERTIFICATE_REQUEST_FAILED" in text
    assert f"  Certificate {namespace}/cdn-tls" in text
    assert main(["check", "--kubeconfig", kc, "-n", namespace, "certificate/nope"]) == 2
    assert "certificate" in capsys.readouterr().err


@pytest.fixture(scope="module")
def bare_plane() -> Iterator[Any]:
    from tests.support.cluster_access import private_plane

    cp = private_plane(crds=False)
    yield cp
    cp.stop()


@pytest.mark.integration
def test_no_cert_manager_is_exit_2(bare_plane: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "--kubeconfig", str(bare_plane.admin_kubeconfig), "-A"])
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == ""
    assert captured.err.startswith("error: cert-manager is not installed")
    assert "Traceback" not in captured.err


@pytest.fixture(scope="module")
def gateway_plane() -> Iterator[Any]:
    """A private control plane serving the Gateway API (the shared one must not)."""
    import os

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


@pytest.mark.integration
def test_two_ingress_backends_seen_from_the_workload_namespace(
        gateway_plane: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Seed 000 with its real topology: the Gateway and its LoadBalancer in ``infra``,
    ingress-nginx's LoadBalancer in ``ingress-nginx``, the controller in ``cert-manager``;
    checked from the workload namespace alone, the root cause is still found."""
    from datetime import UTC, datetime

    from kubernetes import config

    import tests.test_rules_seeds as seeds
    from tests.support.apply import apply_objects
    from tests.test_check_live import shifted

    ns = "web-seed-000"
    status, out = gateway_plane.request("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    assert status in (201, 409), out
    api = config.new_client_from_config(config_file=str(gateway_plane.admin_kubeconfig))
    try:
        build, want = seeds.SEEDS["000-two-ingress-backends"]
        now = datetime.now(UTC)
        created = apply_objects(api, [shifted(o, now) for o in build()], ns,
                                keep_namespaces=True)
    finally:
        api.close()
    where = {(o["kind"], o["metadata"].get("namespace", "")) for o in created}
    assert {("Gateway", "infra"), ("Service", "ingress-nginx"), ("Deployment", "cert-manager"),
            ("Certificate", ns)} <= where
    kc = str(gateway_plane.admin_kubeconfig)
    _, ns_doc = check(capsys, "--kubeconfig", kc, "-n", ns, "--fail-on", "never")
    _, all_doc = check(capsys, "--kubeconfig", kc, "-A", "--fail-on", "never")
    assert _codes(ns_doc, ns) == _codes(all_doc, ns) == want
    assert "HTTP01_MULTIPLE_INGRESS_BACKENDS" in _codes(ns_doc, ns)
