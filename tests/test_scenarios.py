"""The scenario library: every scenario loads, is internally consistent, tells its seed's
story with cert-manager's real field names and messages, and shifts in time as a whole."""

from __future__ import annotations

import base64
import ipaddress
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509

from kubectl_certdoctor import scenarios
from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    condition,
    dig,
    labels,
    name,
    namespace,
    owner_refs,
    parse_time,
    uid,
)
from kubectl_certdoctor.objects import (
    annotations as ann_of,
)
from kubectl_certdoctor.scenarios import HERE

NAMES = scenarios.names()
CODES = {
    "ISSUER_NOT_FOUND", "ISSUER_NOT_READY", "ACME_SERVER_UNREACHABLE",
    "ACME_ACCOUNT_SERVER_MISMATCH", "PROXY_NO_PROXY_GAP", "HTTP01_SELF_CHECK_404",
    "HTTP01_WRONG_INGRESS_CLASS", "HTTP01_MULTIPLE_INGRESS_BACKENDS", "HTTP01_SELF_CHECK_TIMEOUT",
    "HTTP01_SELF_CHECK_REDIRECT", "DNS01_PROPAGATION_PENDING", "CERTIFICATE_REQUEST_FAILED",
    "ISSUANCE_BACKOFF", "CERTIFICATE_REQUEST_DENIED", "CERTIFICATE_REQUEST_NOT_APPROVED",
    "VAULT_PERMISSION_DENIED_NOT_RETRIED", "ACME_ORDER_FAILED", "ACME_RATE_LIMITED",
    "CERTIFICATE_EXPIRING", "CERTIFICATE_EXPIRED", "RENEW_BEFORE_TOO_SHORT", "SECRET_MISMATCH",
    "CERT_MANAGER_OUTDATED",
}
CM_KINDS = ("Issuer", "ClusterIssuer", "Certificate", "CertificateRequest", "Order", "Challenge")
CLUSTER_SCOPED = {"ClusterIssuer", "IngressClass"}
NOW = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)


def find(objs: ObjectSet, kind: str, ns: str, nm: str) -> Obj | None:
    return objs.get(kind, "" if kind in CLUSTER_SCOPED else ns, nm)


def test_library_lists_the_six_stories_in_order() -> None:
    assert NAMES == ["healthy-http01", "two-ingress-controllers", "solver-ingress-class",
                     "failed-request-blocks-renewal", "vault-403-old-cert-manager",
                     "acme-egress-proxy"]
    files = {p.stem for p in HERE.glob("*.yaml")} - {"index", "recorded"}
    assert files == set(NAMES), "every scenario file is in index.yaml and vice versa"


@pytest.mark.parametrize("nm", NAMES)
def test_info_is_complete(nm: str) -> None:
    info = scenarios.info(nm)
    assert info.name == nm and info.title and len(info.story) > 200
    assert set(info.expected) <= CODES
    assert info["expected"] == info.expected == info.expected_codes
    assert info.captured_at.tzinfo is not None
    assert info.namespace
    if nm != "healthy-http01":
        assert info.seed and f"Field report {info.seed}" in info.story


def test_unknown_scenario_is_a_clear_error() -> None:
    with pytest.raises(CertdoctorError, match="unknown scenario 'nope'"):
        scenarios.info("nope")
    with pytest.raises(CertdoctorError):
        scenarios.load("nope")


def test_namespaces_and_cluster_scoped_names_are_distinct() -> None:
    assert len({scenarios.info(n).namespace for n in NAMES}) == len(NAMES)
    seen: Counter[tuple[str, str, str]] = Counter()
    for n in NAMES:
        for o in scenarios.load(n):
            seen[(o["kind"], namespace(o), name(o))] += 1
    shared = {k for k, c in seen.items() if c > 1}
    # only infrastructure every cluster has once may coincide when merged for the demo
    assert shared <= {("Deployment", "cert-manager", "cert-manager"),
                      ("IngressClass", "", "nginx")}, shared


@pytest.mark.parametrize("nm", NAMES)
def test_no_private_key_anywhere(nm: str) -> None:
    text = (HERE / f"{nm}.yaml").read_text()
    assert "PRIVATE KEY" not in text
    assert "LS0tLS1CRUdJTiBQUklWQVRF" not in text  # base64 of "-----BEGIN PRIVATE"
    assert "LS0tLS1CRUdJTiBFQyBQUklWQVRF" not in text  # "-----BEGIN EC PRIVATE"
    for o in scenarios.load(nm):
        if o["kind"] == "Secret":
            assert set(o.get("data") or {}) <= {"tls.crt", "ca.crt"}


@pytest.mark.parametrize("nm", NAMES)
def test_objects_are_well_formed(nm: str) -> None:
    info = scenarios.info(nm)
    objs = scenarios.load(nm)
    uids = Counter(uid(o) for o in objs)
    assert all(c == 1 for c in uids.values()), "uids are unique"
    for o in objs:
        assert o.get("apiVersion") and o.get("kind") and name(o) and uid(o), o
        assert parse_time(dig(o, "metadata", "creationTimestamp")) is not None
        if o["kind"] in CLUSTER_SCOPED:
            assert not namespace(o)
        else:
            assert namespace(o), f"{o['kind']}/{name(o)} has no namespace"
        if o["kind"] in ("Certificate", "CertificateRequest", "Order", "Challenge") or (
                o["kind"] == "Issuer"):
            assert namespace(o) == info.namespace, f"{o['kind']}/{name(o)}"
        for c in dig(o, "status", "conditions", default=[]) if o["kind"] in CM_KINDS else []:
            assert {"type", "status", "reason", "message", "lastTransitionTime"} <= set(c), c
            assert c["status"] in ("True", "False", "Unknown")
            assert parse_time(c["lastTransitionTime"]) is not None
            if o["kind"] in ("Certificate", "Issuer", "ClusterIssuer"):
                assert c.get("observedGeneration") == dig(o, "metadata", "generation"), c
    assert any(o["kind"] == "Deployment" and labels(o).get("app.kubernetes.io/component")
               == "controller" for o in objs)


@pytest.mark.parametrize("nm", NAMES)
def test_references_resolve(nm: str) -> None:
    """ownerReferences, cert-manager annotations, issuerRefs and Events point at real objects."""
    objs = scenarios.load(nm)
    for o in objs:
        ns = namespace(o)
        for ref in owner_refs(o):
            owner = find(objs, ref["kind"], ns, ref["name"])
            assert owner is not None, f"{o['kind']}/{name(o)} owner {ref['kind']}/{ref['name']}"
            assert uid(owner) == ref["uid"]
            assert owner["apiVersion"] == ref["apiVersion"]
        ann = ann_of(o)
        cname = ann.get("cert-manager.io/certificate-name")
        if cname:
            crt = find(objs, "Certificate", ns, cname)
            assert crt is not None, f"{o['kind']}/{name(o)} → Certificate {cname}"
            if o["kind"] == "Secret":
                assert crt["spec"]["secretName"] == name(o)
            else:
                rev = int(ann["cert-manager.io/certificate-revision"])
                assert rev >= 1
                assert ann["cert-manager.io/private-key-secret-name"]
        if o["kind"] == "Secret" and ann.get("cert-manager.io/issuer-name") and \
                ann.get("cert-manager.io/issuer-group") == "cert-manager.io":
            assert find(objs, ann["cert-manager.io/issuer-kind"], ns,
                        ann["cert-manager.io/issuer-name"]) is not None
        iref = dig(o, "spec", "issuerRef")
        if o["kind"] in CM_KINDS and iref and iref.get("group", "cert-manager.io") == \
                "cert-manager.io":
            assert find(objs, iref.get("kind", "Issuer"), ns, iref["name"]) is not None, o
        if o["kind"] == "Event":
            io = o["involvedObject"]
            target = find(objs, io["kind"], io.get("namespace", ""), io["name"])
            assert target is not None, f"event {name(o)} → {io['kind']}/{io['name']}"
            assert uid(target) == io["uid"]
            assert o["source"]["component"].startswith(("cert-manager-", "cdn-issuer"))
            assert o["count"] >= 1
            first, last = parse_time(o["firstTimestamp"]), parse_time(o["lastTimestamp"])
            assert first and last and first <= last


@pytest.mark.parametrize("nm", NAMES)
def test_chain_links_like_cert_manager(nm: str) -> None:
    """CR → Certificate (owner + annotations), Order → CR, Challenge → Order, solver → Challenge."""
    objs = scenarios.load(nm)
    for cr in objs.of_kind("CertificateRequest"):
        owner = owner_refs(cr)[0]
        assert owner["kind"] == "Certificate"
        assert ann_of(cr)["cert-manager.io/certificate-name"] == owner["name"]
        rev = ann_of(cr)["cert-manager.io/certificate-revision"]
        assert name(cr) == f"{owner['name']}-{rev}"
        assert condition(cr, "Approved") is not None
    for od in objs.of_kind("Order"):
        assert owner_refs(od)[0]["kind"] == "CertificateRequest"
        req = find(objs, "CertificateRequest", namespace(od), owner_refs(od)[0]["name"])
        assert req is not None and ann_of(od) == ann_of(req)
        assert od["spec"]["request"] == req["spec"]["request"]
    for ch in objs.of_kind("Challenge"):
        assert owner_refs(ch)[0]["kind"] == "Order"
        parent = find(objs, "Order", namespace(ch), owner_refs(ch)[0]["name"])
        assert parent is not None
        tokens = {c["token"] for a in parent["status"]["authorizations"]
                  for c in a["challenges"]}
        assert ch["spec"]["token"] in tokens
        solvers = [p for p in objs.of_kind("Pod")
                   if labels(p).get("acme.cert-manager.io/http01-solver") == "true"
                   and any(r["uid"] == uid(ch) for r in owner_refs(p))]
        assert len(solvers) == 1
        args = solvers[0]["spec"]["containers"][0]["args"]
        assert f"--token={ch['spec']['token']}" in args
        assert f"--key={ch['spec']['key']}" in args


@pytest.mark.parametrize("nm", NAMES)
def test_issued_secrets_hold_real_certificates_matching_the_status(nm: str) -> None:
    objs = scenarios.load(nm)
    for crt in objs.of_kind("Certificate"):
        sec = find(objs, "Secret", namespace(crt), crt["spec"]["secretName"])
        if "notAfter" not in crt["status"]:
            assert sec is None, "never issued: no Secret yet"
            continue
        assert sec is not None
        pem = base64.b64decode(sec["data"]["tls.crt"])
        leaf = x509.load_pem_x509_certificates(pem)[0]
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert sans.value.get_values_for_type(x509.DNSName) == crt["spec"]["dnsNames"]
        assert leaf.not_valid_after_utc == parse_time(crt["status"]["notAfter"])
        assert leaf.not_valid_before_utc == parse_time(crt["status"]["notBefore"])
        assert "tls.key" in ann_of(sec)["certdoctor.io/redacted-keys"]


def test_domains_and_addresses_are_safe_to_show() -> None:
    """.test domains; documentation ranges or the seeds' private LAN addresses only."""
    allowed = [ipaddress.ip_network(n) for n in (
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "192.168.0.0/16", "10.0.0.0/8",
        "127.0.0.0/8")]
    for n in NAMES:
        text = (HERE / f"{n}.yaml").read_text()
        for ip in re.findall(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", text):
            assert ip == "0.0.0.0" or any(  # 0.0.0.0/0: the solver Ingress' allow-list
                ipaddress.ip_address(ip) in net for net in allowed), (n, ip)
        for host in re.findall(r"https?://([a-z0-9.-]+)", text):
            assert host.endswith(".test"), (n, host)
        for crt in scenarios.load(n).of_kind("Certificate"):
            assert all(d.endswith(".test") for d in crt["spec"]["dnsNames"])


# -- the stories: the signals each scenario carries -----------------------------------------

def _one(objs: ObjectSet, kind: str) -> Obj:
    items = objs.of_kind(kind)
    assert len(items) == 1, (kind, [name(i) for i in items])
    return items[0]


def _controller(objs: ObjectSet) -> Obj:
    dep = objs.get("Deployment", "cert-manager", "cert-manager")
    assert dep is not None
    return dep["spec"]["template"]["spec"]["containers"][0]


def test_signals_healthy() -> None:
    objs = scenarios.load("healthy-http01")
    crt = _one(objs, "Certificate")
    assert condition(crt, "Ready")["reason"] == "Ready"  # type: ignore[index]
    cr = _one(objs, "CertificateRequest")
    assert condition(cr, "Ready")["reason"] == "Issued"  # type: ignore[index]
    assert _one(objs, "Order")["status"]["state"] == "valid"
    assert objs.of_kind("Challenge") == []
    assert condition(_one(objs, "ClusterIssuer"), "Ready")["status"] == "True"  # type: ignore[index]


def test_signals_two_ingress_controllers() -> None:
    objs = scenarios.load("two-ingress-controllers")
    ch = _one(objs, "Challenge")
    assert ch["status"]["reason"] == ("Waiting for HTTP-01 challenge propagation: wrong status "
                                      "code '404', expected '200'")
    assert ch["status"]["state"] == "pending" and ch["status"]["presented"] is True
    lbs = {dig(s, "status", "loadBalancer", "ingress", 0, "ip") for s in objs.of_kind("Service")
           if dig(s, "spec", "type") == "LoadBalancer"}
    assert lbs == {"192.168.0.59", "192.168.0.61"}
    gw = _one(objs, "Gateway")
    assert gw["status"]["addresses"] == [{"type": "IPAddress", "value": "192.168.0.61"}]
    site = objs.get("Ingress", "store", "store")
    assert site is not None and site["spec"]["ingressClassName"] == "nginx"


def test_signals_solver_ingress_class() -> None:
    objs = scenarios.load("solver-ingress-class")
    iss = _one(objs, "ClusterIssuer")
    assert iss["spec"]["acme"]["solvers"][0]["http01"]["ingress"] == {"class": "nginx"}
    assert [name(c) for c in objs.of_kind("IngressClass")] == ["public"]
    site = objs.get("Ingress", "home", "main-ingress")
    assert site is not None and site["spec"]["ingressClassName"] == "public"
    assert {p["pathType"] for p in site["spec"]["rules"][0]["http"]["paths"]} == {"Exact",
                                                                                  "Prefix"}
    reason = _one(objs, "Challenge")["status"]["reason"]
    assert reason.startswith("Waiting for HTTP-01 challenge propagation: failed to perform self "
                             "check GET request 'http://home.example.test/.well-known/")
    assert reason.endswith("dial tcp 203.0.113.10:80: i/o timeout")
    addresses = str([s.get("status") for s in objs.of_kind("Service")] +
                    [s.get("status") for s in objs.of_kind("Ingress")])
    assert "203.0.113.10" not in addresses, "the self-check target is outside the cluster"
    solver_ing = [i for i in objs.of_kind("Ingress") if name(i).startswith("cm-acme")]
    assert ann_of(solver_ing[0])["kubernetes.io/ingress.class"] == "nginx"


def test_signals_failed_request_blocks_renewal() -> None:
    objs = scenarios.load("failed-request-blocks-renewal")
    crt = _one(objs, "Certificate")
    st = crt["status"]
    assert st["failedIssuanceAttempts"] == 3 and st["revision"] == 7
    assert parse_time(st["lastFailureTime"]) is not None
    assert condition(crt, "Issuing")["status"] == "False"  # type: ignore[index]
    assert parse_time(st["notAfter"]) - scenarios.info(  # type: ignore[operator]
        "failed-request-blocks-renewal").captured_at == timedelta(hours=30)
    cur = objs.get("CertificateRequest", "cdn", "static-tls-8")
    assert cur is not None
    ready = condition(cur, "Ready")
    assert ready is not None and ready["reason"] == "Failed"
    assert ready["message"].endswith("context deadline exceeded (Client.Timeout exceeded "
                                     "while awaiting headers)")
    assert cur["status"]["failureTime"]
    assert crt["spec"]["issuerRef"]["group"] != "cert-manager.io"


def test_signals_vault_403() -> None:
    objs = scenarios.load("vault-403-old-cert-manager")
    assert _controller(objs)["image"] == "quay.io/jetstack/cert-manager-controller:v1.15.0"
    cr = objs.get("CertificateRequest", "payments", "api-tls-4")
    assert cr is not None
    ready = condition(cr, "Ready")
    assert ready is not None and ready["reason"] == "Pending"
    assert ready["message"].startswith("Failed to initialise vault client for signing: ")
    assert "Code: 403" in ready["message"] and "permission denied" in ready["message"]
    crt = _one(objs, "Certificate")
    assert condition(crt, "Ready")["reason"] == "Expired"  # type: ignore[index]
    info = scenarios.info("vault-403-old-cert-manager")
    assert parse_time(crt["status"]["notAfter"]) < info.captured_at  # type: ignore[operator]
    assert _one(objs, "Issuer")["spec"]["vault"]["server"].startswith("https://vault.")


def test_signals_acme_egress_proxy() -> None:
    objs = scenarios.load("acme-egress-proxy")
    iss = _one(objs, "ClusterIssuer")
    ready = condition(iss, "Ready")
    assert ready is not None and ready["status"] == "False"
    assert ready["reason"] == "ErrRegisterACMEAccount"
    assert ready["message"] == "Failed to verify ACME account: context deadline exceeded"
    assert "acme-staging-v02" in iss["spec"]["acme"]["server"]
    assert "acme-v02" in iss["status"]["acme"]["uri"].split("/")[2]
    events = {e["reason"]: e for e in objs.of_kind("Event")
              if e["involvedObject"]["kind"] == "ClusterIssuer"}
    assert events["ErrVerifyACMEAccount"]["count"] == 493
    assert events["ErrInitIssuer"]["count"] == 486
    assert all(e["type"] == "Warning" and namespace(e) == "default" for e in events.values())
    env = {e["name"]: e.get("value") for e in _controller(objs)["env"]}
    assert env["HTTP_PROXY"] == env["HTTPS_PROXY"] == "http://proxy.corp.test:3128"
    for must_lack in (".svc", ".cluster.local", "10.233.0.1", "10.233.0.0/18"):
        assert must_lack not in env["NO_PROXY"].split(",")


# -- time shifting ----------------------------------------------------------------------------

def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _strings(v, f"{path}[{i}]")]
    return []


def _same_cert_shifted(before: str, after: str, delta: timedelta) -> None:
    """The certificates moved in time with the scenario and nothing else changed."""
    import base64

    from cryptography import x509

    old = x509.load_pem_x509_certificates(base64.b64decode(before))
    new = x509.load_pem_x509_certificates(base64.b64decode(after))
    assert len(old) == len(new)
    for o, n in zip(old, new, strict=True):
        assert (n.subject, n.issuer, n.serial_number, n.public_key()) == \
            (o.subject, o.issuer, o.serial_number, o.public_key())
        assert list(n.extensions) == list(o.extensions)
        assert n.not_valid_after_utc == o.not_valid_after_utc + delta
        assert n.not_valid_before_utc == o.not_valid_before_utc + delta


@pytest.mark.parametrize("nm", NAMES)
def test_load_with_now_shifts_every_timestamp(nm: str) -> None:
    info = scenarios.info(nm)
    delta = NOW - info.captured_at
    before, after = scenarios.load(nm), scenarios.load(nm, NOW)
    assert before.objects.keys() == after.objects.keys()
    shifted = 0
    for kind in before.objects:
        for key, o in before.objects[kind].items():
            a = dict(_strings(after.objects[kind][key]))
            for path, value in _strings(o):
                t = parse_time(value) if re.match(r"^\d{4}-\d\d-\d\dT", value) else None
                if t is not None:
                    assert parse_time(a[path]) == t + delta, (nm, kind, key, path)
                    shifted += 1
                elif path.endswith(("tls.crt", "ca.crt", "certificate", ".ca")) and value:
                    _same_cert_shifted(value, a[path], delta)
                elif path.endswith("request"):
                    assert a[path] == value, "CSRs are left alone"
    assert shifted > 10
    assert scenarios.load(nm, info.captured_at).objects == before.objects


def test_shift_reaches_times_inside_status_and_messages() -> None:
    nm = "failed-request-blocks-renewal"
    delta = NOW - scenarios.info(nm).captured_at
    before, after = scenarios.load(nm), scenarios.load(nm, NOW)
    b, a = _one(before, "Certificate"), _one(after, "Certificate")
    for f in ("notAfter", "notBefore", "renewalTime", "lastFailureTime"):
        assert parse_time(a["status"][f]) == parse_time(b["status"][f]) + delta  # type: ignore[operator]
    ev_b = next(e for e in before.of_kind("Event") if "renewal was scheduled at" in e["message"])
    ev_a = after.get("Event", namespace(ev_b), name(ev_b))
    assert ev_a is not None and ev_a["message"] != ev_b["message"]
    stamp = re.search(r"at (.*)$", ev_a["message"]).group(1)  # type: ignore[union-attr]
    old = re.search(r"at (.*)$", ev_b["message"]).group(1)  # type: ignore[union-attr]
    fmt = "%Y-%m-%d %H:%M:%S +0000 UTC"
    assert datetime.strptime(stamp, fmt) - datetime.strptime(old, fmt) == delta
    vb = scenarios.load("vault-403-old-cert-manager")
    va = scenarios.load("vault-403-old-cert-manager", NOW)
    msg_b = condition(_one(vb, "Certificate"), "Ready")["message"]  # type: ignore[index]
    msg_a = condition(_one(va, "Certificate"), "Ready")["message"]  # type: ignore[index]
    assert msg_b.startswith("Certificate expired on ") and msg_a != msg_b


def test_loading_twice_gives_independent_copies() -> None:
    a = scenarios.load("healthy-http01")
    _one(a, "Certificate")["spec"]["dnsNames"].append("mutated.test")
    b = scenarios.load("healthy-http01")
    assert "mutated.test" not in _one(b, "Certificate")["spec"]["dnsNames"]


def test_demo_merges_every_scenario() -> None:
    demo = scenarios.load_demo(NOW)
    assert demo.source == "demo"
    for n in NAMES:
        ns = scenarios.info(n).namespace
        for o in scenarios.load(n, NOW):
            if namespace(o) == ns:
                assert demo.get(o["kind"], ns, name(o)) == o
    total = sum(len(scenarios.load(n)) for n in NAMES)
    assert total - len(NAMES) - 1 <= len(demo) < total  # shared controller + IngressClass


def test_demo_runs_one_controller_composed_from_the_stories() -> None:
    """One cluster, one cert-manager: the oldest release (Vault story) behind the proxy."""
    demo = scenarios.load_demo(NOW)
    deps = [d for d in demo.of_kind("Deployment")
            if labels(d).get("app.kubernetes.io/component") == "controller"]
    assert len(deps) == 1
    c = deps[0]["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "quay.io/jetstack/cert-manager-controller:v1.15.0"
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["HTTPS_PROXY"] == "http://proxy.corp.test:3128" and "POD_NAMESPACE" in env
    assert [e["name"] for e in c["env"]].count("POD_NAMESPACE") == 1
    # composing never mutates the scenario's own copy
    vault = scenarios.load("vault-403-old-cert-manager", NOW)
    assert "HTTPS_PROXY" not in {e["name"] for e in _controller(vault)["env"]}


def test_demo_shows_every_story_finding_on_the_same_objects() -> None:
    """The demo is the union of the stories: same codes on the same objects, nothing more,
    nothing hidden by the merge (the controller-dependent Vault/version/proxy ones included)."""
    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.rules import run_rules

    def found(objs: ObjectSet) -> set[tuple[str, str]]:
        return {(f.code, str(f.object)) for f in run_rules(build_graph(objs, NOW), NOW)}

    single: set[tuple[str, str]] = set()
    for n in NAMES:
        single |= found(scenarios.load(n, NOW))
    assert found(scenarios.load_demo(NOW)) == single
    assert {c for c, _ in single} == {c for n in NAMES for c in scenarios.info(n).expected}


def test_rules_report_exactly_the_expected_codes_at_any_now() -> None:
    """The contract with the rules: index.yaml's codes, whenever the demo is opened."""
    rules = pytest.importorskip("kubectl_certdoctor.rules")
    from kubectl_certdoctor.graph import build_graph

    for now in (NOW, datetime(2031, 1, 1, tzinfo=UTC)):
        for n in NAMES:
            objs = scenarios.load(n, now)
            got = {f.code for f in rules.run_rules(build_graph(objs, now), now)}
            assert got == set(scenarios.info(n).expected), (n, now)


def test_committed_library_is_what_the_generator_writes(tmp_path: Any) -> None:
    """No hand edits drift from scripts/gen_scenarios.py: regenerating (into a copy, reusing
    the committed certificates as the generator does) reproduces every file byte for byte."""
    import importlib.util
    import shutil
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_scenarios.py"
    spec = importlib.util.spec_from_file_location("gen_scenarios_under_test", script)
    assert spec is not None and spec.loader is not None
    gen: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for n in NAMES:
        shutil.copy(HERE / f"{n}.yaml", tmp_path / f"{n}.yaml")
    gen.OUT = tmp_path
    gen.main()
    for n in NAMES:
        assert (tmp_path / f"{n}.yaml").read_text() == (HERE / f"{n}.yaml").read_text(), n
    assert set(gen.BUILDERS) == set(NAMES)
    assert {ns for _b, ns in gen.BUILDERS.values()} == {scenarios.info(n).namespace
                                                        for n in NAMES}


def test_captured_bundles_open_as_demos() -> None:
    """``--demo lab-…`` opens a bundle captured from cert-manager's real controller."""
    from kubectl_certdoctor.errors import UsageError

    names = scenarios.captured_names()
    assert "lab-acme-http01-404" in names and len(names) >= 8
    for scenario in names:
        objs = scenarios.open_demo(scenario)
        assert objs.of_kind("Certificate") and "captured" in objs.source
    assert len(scenarios.open_demo(None)) == len(scenarios.load_demo())
    with pytest.raises(UsageError, match="lab-pki-healthy"):
        scenarios.open_demo("no-such-scenario")
