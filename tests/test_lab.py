"""The lab: objects written by cert-manager's real controllers, diagnosed by certdoctor.

One lab per module (bind9, Pebble, the 404 backend and cert-manager's
controllers, see tests/support/lab.py) against the test API server. All lab
scenarios are applied at once; the module waits until the real controller has
settled each of them (DNS-01 success takes a minute: cert-manager sleeps 60s
after its own propagation check), then checks the tree, the findings and the
real status messages, and finally that teardown leaves no process and no
namespace behind.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from kubernetes import client

from kubectl_certdoctor.graph import Graph, Node, build_graph
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.finding import Finding, Severity
from tests.support import lab_scenarios as ls
from tests.support.private_lab import PrivateLab

pytestmark = [pytest.mark.integration, pytest.mark.lab]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateLab]:
    """Every lab scenario on a private control plane (tests/support/private_lab.py)."""
    run = PrivateLab.start(tmp_path_factory, "lab")
    try:
        yield run
    finally:
        run.teardown()


def secret_cert(api: client.ApiClient, name: str, namespace: str) -> bytes:
    """The PEM in a Secret's ``tls.crt`` (the test never touches ``tls.key``)."""
    data = client.CoreV1Api(api).read_namespaced_secret(name, namespace).data or {}
    return base64.b64decode(data["tls.crt"])


def scenario_view(
    run: PrivateLab, scenario: ls.LabScenario, now: datetime
) -> tuple[Graph, list[Finding]]:
    """The graph of one scenario's namespace, and the findings about its own objects."""
    objs: ObjectSet = ls.snapshot(run.api, scenario.namespace)
    graph = build_graph(objs, now)
    own = [f for f in run_rules(graph, now) if _belongs(f.object, scenario, objs)]
    return graph, own


def _belongs(ref: Ref, scenario: ls.LabScenario, objs: ObjectSet) -> bool:
    if ref.namespace:
        return ref.namespace == scenario.namespace
    if ref.kind == "APIService":
        # ours if one of the scenario's issuers has a webhook solver of that API group
        return any(ref.name.endswith(f".{group}") for group in ls.webhook_groups(objs))
    # cluster-scoped (a ClusterIssuer): ours if a Certificate of the scenario uses it
    return any(
        c.get("spec", {}).get("issuerRef", {}).get("name") == ref.name
        for c in objs.of_kind("Certificate")
    )


def chain(graph: Graph, node: Node) -> list[str]:
    """Kinds from the root down to ``node``, following parent links."""
    kinds = []
    current: Node | None = node
    while current is not None:
        kinds.append(current.ref.kind)
        current = graph.nodes.get(current.parent_id) if current.parent_id else None
    return list(reversed(kinds))


def test_lab_processes_run_and_scenarios_settle(running: PrivateLab) -> None:
    assert running.lab.status() == {
        "named": True,
        "backend": True,
        "pebble": True,
        "pebble-eab": True,
        "controller": True,
    } or (not running.state.backend and all(running.lab.status().values()))
    assert running.settled == {s.name: True for s in ls.SCENARIOS}
    # bind9 answers for the lab zone and refuses to recurse to anywhere else
    assert running.lab.resolve("web.lab.test") == ["127.0.0.80"]
    assert running.lab.resolve("example.com") == []
    # Pebble's listener certificate is ours: trusted only through the issuers' caBundle
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(running.state.acme_url, timeout=5)
    spec = ls.Reader(running.api, "lab-dns01").get(ls.CM, "issuers", "pebble-dns01") or {}
    assert spec["spec"]["acme"]["caBundle"] and not spec["spec"]["acme"].get("skipTLSVerify")


@pytest.mark.parametrize("scenario", [s for s in ls.SCENARIOS if s.healthy], ids=lambda s: s.name)
def test_healthy_scenarios_issue_real_certificates(
    running: PrivateLab, scenario: ls.LabScenario
) -> None:
    certs = ls.Reader(running.api, scenario.namespace).list(ls.CM, "certificates")
    assert certs
    now = datetime.now(UTC)
    for cert in certs:
        assert ls.condition(cert)["status"] == "True", cert["status"]
        pem = secret_cert(running.api, cert["spec"]["secretName"], scenario.namespace)
        leaf = x509.load_pem_x509_certificates(pem)[0]
        assert leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc
        wanted = cert["spec"].get("dnsNames")
        if wanted:
            san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            assert sorted(san.get_values_for_type(x509.DNSName)) == sorted(wanted)
        if scenario.name == "lab-acme-dns01":
            assert "Pebble Intermediate" in leaf.issuer.rfc4514_string()
    _, findings = scenario_view(running, scenario, datetime.now(UTC))
    serious = [f"{f.code} {f.object}" for f in findings if f.severity != Severity.INFO]
    assert serious == []


def test_ca_issuer_really_signed_the_leaf(running: PrivateLab) -> None:
    root = x509.load_pem_x509_certificate(secret_cert(running.api, "root-ca", "lab-pki"))
    leaf = x509.load_pem_x509_certificate(secret_cert(running.api, "web-tls", "lab-pki"))
    leaf.verify_directly_issued_by(root)


ACME_CHAINS = {
    # scenario → the deepest kind the real controller creates for it
    "lab-acme-http01-404": "Challenge",
    "lab-acme-dns01": "Order",  # a valid Order's Challenges are cleaned up
    "lab-acme-dns01-bad-tsig": "Challenge",
    "lab-acme-order-rejected": "Order",
    # no solver fits: the Order stays pending without a Challenge
    "lab-acme-no-matching-solver": "Order",
    "lab-acme-wildcard-http01": "Order",
    "lab-acme-dns01-webhook-down": "Challenge",
}


@pytest.mark.parametrize("name", sorted(ACME_CHAINS))
def test_acme_tree_links_issuer_to_challenge(running: PrivateLab, name: str) -> None:
    scenario = ls.BY_NAME[name]
    graph, _ = scenario_view(running, scenario, datetime.now(UTC))
    deepest = ACME_CHAINS[name]
    leaves = [n for n in graph.nodes.values() if n.ref.kind == deepest and n.obj is not None]
    assert leaves, f"no {deepest} in {scenario.namespace}"
    expected = ["Issuer", "Certificate", "CertificateRequest", "Order", "Challenge"]
    expected = expected[: expected.index(deepest) + 1]
    for leaf in leaves:
        assert chain(graph, leaf) == expected


@pytest.mark.parametrize(
    ("namespace", "code"),
    [("lab-http01", "HTTP01_SELF_CHECK_404"), ("lab-order-rejected", "ACME_ORDER_FAILED")],
)
def test_live_store_sees_the_same_tree(running: PrivateLab, namespace: str, code: str) -> None:
    """The project's own watch-based Store, as the TUI uses it, on the live lab."""
    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.cluster.store import Store
    from kubectl_certdoctor.options import Options

    conn = connect(Options(kubeconfig=running.state.kubeconfig, namespace=namespace))
    with Store(conn, namespace) as store:
        assert store.wait_synced(30)
        objs = store.snapshot()
    now = datetime.now(UTC)
    graph = build_graph(objs, now)
    orders = [n for n in graph.nodes.values() if n.ref.kind == "Order" and n.obj is not None]
    assert orders and chain(graph, orders[0])[:4] == [
        "Issuer",
        "Certificate",
        "CertificateRequest",
        "Order",
    ]
    assert code in {f.code for f in run_rules(graph, now)}


def _judged_at(scenario: ls.LabScenario) -> datetime:
    """When to judge a scenario. Rules give DNS-01 five minutes' grace before calling it
    stuck; the wrong TSIG never heals, so judge it as a user would a few minutes later."""
    now = datetime.now(UTC)
    return now + timedelta(minutes=6) if scenario.name == "lab-acme-dns01-bad-tsig" else now


BROKEN = [s for s in ls.SCENARIOS if not s.healthy]


@pytest.mark.parametrize("scenario", BROKEN, ids=lambda s: s.name)
def test_broken_scenarios_raise_expected_findings(
    running: PrivateLab, scenario: ls.LabScenario
) -> None:
    _, findings = scenario_view(running, scenario, _judged_at(scenario))
    codes = {f.code for f in findings}
    missing = set(scenario.expect_codes) - codes
    assert not missing, f"{scenario.name}: missing {sorted(missing)}, got {sorted(codes)}"


REAL_MESSAGES: dict[str, tuple[tuple[str, str], ...]] = {
    # what cert-manager v1.21.1 (and, for APIServices, kube-apiserver) itself writes, so the
    # rules are tested on the real wording: (kind, fragment of a status reason, a condition
    # message or, for kind "Event", an Event's message)
    "lab-acme-http01-404": (("Challenge", "wrong status code '404', expected '200'"),),
    "lab-acme-dns01-bad-tsig": (
        ("Challenge", "DNS update failed: dns: bad authentication"),
        ("Event", "Error presenting challenge: DNS update failed: dns: bad authentication"),
    ),
    "lab-acme-unreachable": (("ClusterIssuer", "connect: connection refused"),),
    "lab-ca-missing-secret": (("Issuer", 'secrets "team-ca-keypair" not found'),),
    "lab-ca-key-mismatch": (("CertificateRequest", "doesn't match parent's PublicKey"),),
    "lab-acme-order-rejected": (("Order", "rejectedIdentifier"),),
    "lab-acme-no-matching-solver": (
        (
            "Event",
            "Failed to determine a valid solver configuration for the set of domains on the "
            "Order: no configured challenge solvers can be used for this challenge",
        ),
    ),
    "lab-acme-wildcard-http01": (
        (
            "Event",
            "Failed to determine a valid solver configuration for the set of domains on the "
            "Order: no configured challenge solvers can be used for this challenge",
        ),
    ),
    "lab-acme-dns01-webhook-down": (
        (
            "Challenge",
            "the server is currently unable to handle the request (post lab-dns.acme.lab.test)",
        ),
        (
            "APIService",
            'endpointslices for service/lab-dns-webhook in "lab-webhook-dns" have no addresses '
            'with port name "https"',
        ),
    ),
    "lab-secret-shared": (
        (
            "Certificate",
            'Secret was issued for "alpha". If this message is not transient, you might have '
            "two conflicting Certificates pointing to the same secret.",
        ),
    ),
    "lab-secret-is-ca-keypair": (
        ("Issuer", "Error getting keypair for CA issuer: certificate is not a CA"),
    ),
    "lab-key-cannot-regenerate": (
        (
            "Certificate",
            "Existing private key is not up to date for spec: [spec.privateKey.algorithm]",
        ),
        (
            "Event",
            'User intervention required: existing private key in Secret "legacy-tls" does not '
            "match requirements on Certificate resource, mismatching fields: "
            "[spec.privateKey.algorithm], but cert-manager cannot create new private key as the "
            "Certificate's .spec.privateKey.rotationPolicy is unset or set to Never.",
        ),
    ),
    "lab-renewal-loop": (("Event", "Renewing certificate as renewal was scheduled at"),),
    "lab-acme-eab-required": (
        (
            "Issuer",
            "Failed to register ACME account: 403 urn:ietf:params:acme:error:"
            "externalAccountRequired: ACME server policy requires newAccount requests must "
            "include a value for the 'externalAccountBinding' field",
        ),
    ),
}


def _texts(obj: dict[str, Any]) -> list[str]:
    if obj.get("kind") == "Event":
        return [str(obj.get("message", ""))]
    status = obj.get("status", {}) or {}
    return [str(status.get("reason", ""))] + [
        str(c.get("message", "")) for c in status.get("conditions", []) or []
    ]


@pytest.mark.parametrize(
    ("name", "kind", "needle"),
    [
        pytest.param(n, k, m, id=f"{n}-{k}-{i}")
        for n, pairs in sorted(REAL_MESSAGES.items())
        for i, (k, m) in enumerate(pairs)
    ],
)
def test_controller_wrote_its_real_messages(
    running: PrivateLab, name: str, kind: str, needle: str
) -> None:
    scenario = ls.BY_NAME[name]
    objs = ls.snapshot(running.api, scenario.namespace)
    texts = [t for obj in objs.of_kind(kind) for t in _texts(obj)]
    assert any(needle in t for t in texts), texts


def test_every_broken_scenario_has_real_messages() -> None:
    assert {s.name for s in BROKEN} - {"lab-secret-is-acme-account"} <= set(REAL_MESSAGES)


def test_user_edits_and_overwrites_as_the_controller_left_them(running: PrivateLab) -> None:
    """The states the secret and key scenarios are about, read back from the cluster."""
    # the key change was refused: still the first revision, now asking for ECDSA
    legacy = ls.Reader(running.api, "lab-key-never").get(ls.CM, "certificates", "legacy") or {}
    assert legacy["spec"]["privateKey"]["algorithm"] == "ECDSA"
    assert legacy["status"]["revision"] == 1
    assert ls.condition(legacy, "Issuing")["reason"] == "SecretMismatch"
    # the CA issuer's key pair Secret now holds the leaf it signed
    leaf = x509.load_pem_x509_certificate(secret_cert(running.api, "team-ca", "lab-ca-keypair"))
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert not basic.ca
    # the shared Secret belongs to the older Certificate
    shared = client.CoreV1Api(running.api).read_namespaced_secret("shared-tls", "lab-shared-secret")
    assert shared.metadata is not None
    assert (shared.metadata.annotations or {})["cert-manager.io/certificate-name"] == "alpha"
    # the ACME account key Secret keeps its type but now carries the certificate
    account = client.CoreV1Api(running.api).read_namespaced_secret(
        "pebble-account", "lab-acme-account"
    )
    assert account.type == "Opaque" and "tls.crt" in (account.data or {})


def test_renewal_loop_renews_ten_seconds_after_each_issuance(running: PrivateLab) -> None:
    flappy = ls.Reader(running.api, "lab-renewal-loop").get(ls.CM, "certificates", "flappy") or {}
    status = flappy["status"]
    assert status["revision"] >= 3
    born = datetime.fromisoformat(status["notBefore"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(status["renewalTime"].replace("Z", "+00:00"))
    assert due - born == timedelta(seconds=10)


def test_failed_issuance_records_backoff(running: PrivateLab) -> None:
    for name, cert in (("lab-ca-key-mismatch", "payments"), ("lab-acme-order-rejected", "blocked")):
        obj = ls.Reader(running.api, ls.BY_NAME[name].namespace).get(ls.CM, "certificates", cert)
        assert obj is not None
        assert obj["status"]["failedIssuanceAttempts"] >= 1
        assert obj["status"]["lastFailureTime"]
        assert ls.condition(obj, "Issuing")["reason"] == "Failed"


def test_http01_solver_pod_stays_pending_without_kubelet(running: PrivateLab) -> None:
    pods = (
        client.CoreV1Api(running.api)
        .list_namespaced_pod("lab-http01", label_selector="acme.cert-manager.io/http01-solver=true")
        .items
    )
    assert pods and all(p.status is not None and p.status.phase == "Pending" for p in pods)


def test_teardown_stops_everything_and_leaks_no_namespace(running: PrivateLab) -> None:
    """Last on purpose: tears the module's lab down and checks nothing survives."""
    from tests.support.lab import alive

    lab_procs = list(running.lab.state.procs)
    cp_pids = running.cp.pids
    core = client.CoreV1Api(running.api)
    ours = {s.namespace for s in ls.SCENARIOS} | {ls.CLUSTER_RESOURCE_NAMESPACE}
    assert ours <= {ns.metadata.name for ns in core.list_namespace().items if ns.metadata}
    # generous: under a loaded machine the namespace controller takes its time (finalizers
    # are stripped after 8 s anyway); a real leak still fails below
    left = ls.delete_scenarios(running.api, timeout=150)
    assert left == [], f"namespaces not deleted: {left}"
    names = {ns.metadata.name for ns in core.list_namespace().items if ns.metadata}
    assert not names & ours
    running.teardown()
    assert running.lab.leftover() == []
    assert [p.name for p in lab_procs if alive(p)] == []
    assert lab_procs and cp_pids
    assert [pid for pid in cp_pids if _running(pid)] == []


def _running(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
