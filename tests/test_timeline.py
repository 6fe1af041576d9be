"""The timeline's pure part: which controller log lines are about an object, merged with its
Events by time, redacted. The lines are in the formats cert-manager v1.21.1 really writes:
klog text (``E1207 … file.go:N] "msg" err="…" logger="cert-manager.…" resource_name="…"``,
keys from pkg/logs/logs.go) and component-base JSON (``--logging-format=json``), each
prefixed with the RFC 3339 time the pods/log endpoint adds with ``timestamps=true``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubectl_certdoctor.cluster.podlogs import (
    controller_container,
    controller_pods,
    is_controller_pod,
)
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.redact import REDACTED, redact_text
from kubectl_certdoctor.timeline import build_timeline, mentions, parse_line
from tests.support.diagnosis import NOW, event

POD = "cert-manager/cert-manager-7d9f8b6c5-x2x4q"
CH = Ref("Challenge", "web", "shop-1-1234-99")
CERT = Ref("Certificate", "web", "shop")


def at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


#: text format: a Challenge's Present error (acmechallenges/sync.go)
TEXT_CHALLENGE = (
    f'{at(-5)} E1123 06:55:00.000000       1 sync.go:190] "error presenting challenge" '
    'err="error getting route53 hosted zone: AccessDenied: User: arn:aws:iam::1:user/dns '
    'is not authorized" logger="cert-manager.challenges" resource_name="shop-1-1234-99" '
    'resource_namespace="web" resource_kind="Challenge" resource_version="v1" '
    'dnsName="shop.example.test" type="DNS-01"')
#: the trigger controller's "skipping trigger" (trigger_controller.go:191), only ``key``
TEXT_SKIPPING = (
    f'{at(-3)} I1123 06:57:00.000000       1 trigger_controller.go:191] "Certificate.Spec.'
    'SecretName refers to the same Secret as other Certificates in the same namespace, '
    'skipping trigger." logger="cert-manager.certificates-trigger" key="web/shop" '
    'duplicates=["web/shop-old"]')
#: JSON format: the same Challenge, the ``ts`` in milliseconds, errors under ``err``
JSON_CHALLENGE = (
    f'{at(-1)} {{"ts":{(NOW - timedelta(minutes=1)).timestamp() * 1000:.3f},'
    '"caller":"acmechallenges/sync.go:372","msg":"error cleaning up challenge",'
    '"logger":"cert-manager.challenges","resource_name":"shop-1-1234-99",'
    '"resource_namespace":"web","resource_kind":"Challenge","resource_version":"v1",'
    '"err":"rate limited","v":0}')
#: JSON ``key`` is a NamespacedName object
JSON_KEY = (
    f'{at(-2)} {{"ts":1,"caller":"issuing/issuing_controller.go:288","msg":"Found a failed '
    'CertificateRequest from previous issuance, waiting for it to be deleted...",'
    '"logger":"cert-manager.certificates-issuing","key":{"name":"shop","namespace":"web"},"v":0}')
#: another object's line: must not match either object
OTHER = (
    f'{at(-4)} I1123 06:56:00.000000       1 sync.go:80] "challenge scheduled" '
    'logger="cert-manager.challenges" resource_name="blog-1-55-1" resource_namespace="web" '
    'resource_kind="Challenge" resource_version="v1"')
#: a Secret named like the Certificate: its resource_* fields must not make it the
#: Certificate's line
SECRET_LINE = (
    f'{at(-4)} I1123 06:56:00.000000       1 issuing_controller.go:225] "Next private key '
    'secret does not contain any private key data" logger="cert-manager" '
    'resource_name="shop" resource_namespace="web" resource_kind="Secret" '
    'resource_version="v1"')
LINES = [TEXT_CHALLENGE, TEXT_SKIPPING, JSON_CHALLENGE, JSON_KEY, OTHER, SECRET_LINE]


def test_text_line_is_parsed_with_the_api_timestamp_and_klog_fields() -> None:
    ln = parse_line(POD, TEXT_CHALLENGE, NOW)
    assert ln.when == NOW - timedelta(minutes=5)
    assert ln.level == "E"
    assert ln.message == "error presenting challenge"
    assert ln.fields["resource_kind"] == "Challenge"
    assert ln.fields["err"].startswith("error getting route53 hosted zone")


def test_klog_header_time_without_the_api_prefix_gets_the_right_year() -> None:
    raw = TEXT_CHALLENGE.split(" ", 1)[1]
    ln = parse_line(POD, raw, NOW)
    assert ln.when == datetime(2026, 11, 23, 6, 55, tzinfo=UTC)
    # a December line read on the 1st of January is last year's
    jan = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    dec = parse_line(POD, 'I1231 23:59:00.000000       1 x.go:1] "m"', jan)
    assert dec.when == datetime(2026, 12, 31, 23, 59, tzinfo=UTC)


def test_json_line_time_from_ts_when_no_prefix() -> None:
    raw = JSON_CHALLENGE.split(" ", 1)[1]
    ln = parse_line(POD, raw, NOW)
    assert ln.level == "E" and ln.message == "error cleaning up challenge"
    assert ln.when is not None and abs((ln.when - (NOW - timedelta(minutes=1)))
                                       .total_seconds()) < 0.01


def test_mentions_by_resource_fields_key_and_name() -> None:
    parsed = [parse_line(POD, raw, NOW) for raw in LINES]
    ch = [p.message for p in parsed if mentions(p, CH)]
    assert ch == ["error presenting challenge", "error cleaning up challenge"]
    cert = [p.message for p in parsed if mentions(p, CERT)]
    assert cert == [
        "Certificate.Spec.SecretName refers to the same Secret as other Certificates in the "
        "same namespace, skipping trigger.",
        "Found a failed CertificateRequest from previous issuance, waiting for it to be "
        "deleted..."]
    # the Secret line is the Secret's
    assert mentions(parsed[5], Ref("Secret", "web", "shop"))
    # a plain line naming the object as a word, not as part of a longer name or host
    plain = parse_line(POD, f"{at(0)} E1123 07:00:00.000000 1 x.go:1] \"failed for shop\"", NOW)
    assert mentions(plain, CERT)
    longer = parse_line(POD, f"{at(0)} I1123 07:00:00.000000 1 x.go:1] \"shop-old and "
                        "shop.example.test\"", NOW)
    assert not mentions(longer, CERT)


def test_timeline_merges_events_sorted_and_redacted() -> None:
    secret_line = (f'{at(-6)} E1123 06:54:00.000000       1 x.go:9] "dns update failed" '
                   'resource_name="shop-1-1234-99" resource_namespace="web" '
                   'resource_kind="Challenge" err="401" apiKey="sk-live-123456" '
                   'url="https://admin:s3cret@dns.example.test/api"')
    evs = [event("e1", "web", "Challenge", "shop-1-1234-99", "web",
                 "Error presenting challenge: AccessDenied", -timedelta(minutes=4),
                 reason="PresentError"),
           event("e2", "web", "Challenge", "shop-1-1234-99", "web", "Created Challenge",
                 -timedelta(minutes=10), reason="Started", etype="Normal")]
    tl = build_timeline(CH, [(POD, ln) for ln in [*LINES, secret_line]], evs, NOW)
    assert [(e.source, e.origin if e.source == "event" else e.level) for e in tl] == [
        ("event", "Started"), ("log", "E"), ("log", "E"), ("event", "PresentError"),
        ("log", "E")]
    times = [e.when for e in tl]
    assert times == sorted(t for t in times if t is not None)
    leaked = tl[1].text
    assert "sk-live-123456" not in leaked and "s3cret" not in leaked
    assert f'apiKey="{REDACTED}"' in leaked and "resource_name=\"shop-1-1234-99\"" in leaked
    assert tl[3].warning and not tl[0].warning


def test_timeline_keeps_the_newest_within_the_limit() -> None:
    lines = [(POD, f'{at(-i)} I1123 06:00:00.000000 1 x.go:1] "tick" '
              'resource_name="shop" resource_namespace="web" resource_kind="Certificate"')
             for i in range(50)]
    tl = build_timeline(CERT, lines, [], NOW, limit=10)
    assert len(tl) == 10 and tl[-1].when == NOW


def test_redact_text_policy() -> None:
    assert redact_text('key="web/shop" resource_name="tls-secret"') == \
        'key="web/shop" resource_name="tls-secret"'
    assert redact_text('"password":"hunter2","secretName":"x"') == \
        f'"password":"{REDACTED}","secretName":"x"'
    assert "tok3nvalue123" not in redact_text("Authorization: Bearer tok3nvalue123")
    pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
    assert redact_text(f'msg="loaded {pem}"') == REDACTED


def _pod(name: str, labels: dict[str, str], phase: str = "Running", created: str = "2026-11-01",
         containers: tuple[tuple[str, str], ...] = (("cert-manager-controller",
                                                     "quay.io/jetstack/cert-manager-controller"
                                                     ":v1.21.1"),)) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "cert-manager", "labels": labels,
                         "creationTimestamp": created + "T00:00:00Z"},
            "spec": {"containers": [{"name": n, "image": i} for n, i in containers]},
            "status": {"phase": phase}}


def test_controller_pods_are_picked_from_the_component_pods() -> None:
    helm = {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"}
    old = _pod("cm-old", helm, created="2026-10-01")
    new = _pod("cm-new", helm, created="2026-11-01")
    pending = _pod("cm-pending", helm, phase="Pending", created="2026-11-20")
    legacy = _pod("cm-legacy", {"app": "cert-manager"})
    webhook = _pod("webhook", {"app.kubernetes.io/name": "webhook",
                               "app.kubernetes.io/component": "webhook"},
                   containers=(("cert-manager-webhook", "cert-manager-webhook:v1.21.1"),))
    solver = _pod("cm-acme-http-solver-x", {"acme.cert-manager.io/http01-solver": "true"},
                  containers=(("acmesolver", "cert-manager-acmesolver:v1.21.1"),))
    objs = ObjectSet.from_objects([old, new, pending, legacy, webhook, solver])
    assert [p["metadata"]["name"] for p in controller_pods(objs)] == [  # type: ignore[index]
        "cm-new", "cm-legacy", "cm-old", "cm-pending"]
    assert not is_controller_pod(webhook) and not is_controller_pod(solver)
    meshed = _pod("cm-mesh", helm, containers=(("istio-proxy", "istio/proxyv2"),
                                               ("cert-manager-controller", "cm:v1")))
    assert controller_container(meshed) == "cert-manager-controller"


def test_no_controller_pod_visible_is_said() -> None:
    from kubectl_certdoctor.cluster.podlogs import fetch_controller_logs

    got = fetch_controller_logs(None, ObjectSet(), unseen="Pod/components: forbidden")  # type: ignore[arg-type]
    assert got.logs == []
    assert got.problems == ["no cert-manager controller Pod is visible (Pod/components: "
                            "forbidden): only Events are shown"]


@pytest.mark.integration
def test_forbidden_pods_log_names_the_rbac_verb(control_plane: Any) -> None:
    """The restricted viewer of the test control plane may not read pod logs: the real API
    server's 403 becomes one line naming the verb and resource to bind (the Pod need not
    exist: authorization comes first)."""
    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.cluster.podlogs import fetch_controller_logs
    from kubectl_certdoctor.options import Options

    pod = _pod("cert-manager-0", {"app.kubernetes.io/name": "cert-manager",
                                  "app.kubernetes.io/component": "controller"})
    conn = connect(Options(kubeconfig=str(control_plane.restricted_kubeconfig),
                           request_timeout=5))
    try:
        got = fetch_controller_logs(conn, ObjectSet.from_objects([pod]))
    finally:
        conn.close()
    assert got.logs == []
    (problem,) = got.problems
    assert problem.startswith("forbidden: get pods/log cert-manager/cert-manager-0")
    assert "RBAC verb 'get' on resource 'pods/log'" in problem
