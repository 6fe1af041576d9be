"""Redaction: what may be stored, shown or written never holds a key or a credential."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_certdoctor.redact import REDACTED, REDACTED_KEYS_ANNOTATION, sanitize

PEM_KEYS = [
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkq\n-----END ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----",
]
CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
PEM_MARK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def leaks(obj: Any) -> bool:
    """A private key in the serialised object: as PEM, or inside any base64 run at any
    alignment (after a chain, after a stray byte, line-wrapped)."""
    text = json.dumps(obj, default=str).replace("\\n", "\n")
    if PEM_MARK.search(text):
        return True
    for m in re.finditer(r"[A-Za-z0-9+/\s]{16,}={0,2}", text):
        chunk = re.sub(r"\s+", "", m.group(0))
        for shift in range(4):
            part = chunk[shift:]
            part = part[: len(part) - len(part) % 4]
            if PEM_MARK.search(base64.b64decode(part).decode("ascii", "replace")):
                return True
    return False


def wrap(s: str, width: int = 76) -> str:
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def tls_secret() -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {
            "name": "web-tls", "namespace": "app",
            "annotations": {"cert-manager.io/certificate-name": "web",
                            "kubectl.kubernetes.io/last-applied-configuration":
                                '{"data":{"tls.key":"' + b64(PEM_KEYS[0]) + '"}}'},
            "managedFields": [{"manager": "cert-manager-certificates-issuing",
                               "fieldsV1": {"f:data": {"f:tls.key": {}}}}],
        },
        "data": {"tls.crt": b64(CERT_PEM), "ca.crt": b64(CERT_PEM),
                 "tls.key": b64(PEM_KEYS[0]), "keystore.p12": "MIIK", "password": "aHVudGVyMg=="},
        "stringData": {"extra": "x"},
    }


def test_secret_keeps_only_public_certificates_and_names_the_rest() -> None:
    src = tls_secret()
    before = copy.deepcopy(src)
    out = sanitize(src)
    assert src == before, "sanitize must not modify its input"
    assert out["data"] == {"tls.crt": b64(CERT_PEM), "ca.crt": b64(CERT_PEM)}
    assert "stringData" not in out
    md = out["metadata"]
    assert md["annotations"][REDACTED_KEYS_ANNOTATION] == "extra,keystore.p12,password,tls.key"
    assert md["annotations"]["cert-manager.io/certificate-name"] == "web"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in md["annotations"]
    assert "managedFields" not in md
    assert not leaks(out)


def test_secret_without_data_and_with_odd_shapes() -> None:
    assert sanitize({"kind": "Secret", "metadata": {"name": "s"}})["data"] == {}
    out = sanitize({"kind": "Secret", "metadata": "junk", "data": ["tls.key"]})
    assert out["data"] == {}
    assert sanitize({"kind": "Secret", "metadata": {"name": "s"}, "stringData": {
        "tls.crt": CERT_PEM}})["stringData"] == {"tls.crt": CERT_PEM}


def deployment(env: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cert-manager", "namespace": "cert-manager"},
            "spec": {"template": {"spec": {
                "initContainers": [{"name": "init", "env": [
                    {"name": "VAULT_TOKEN", "value": "s.abcdef"}]}],
                "containers": [{"name": "cert-manager-controller", "env": env}]}}}}


def env_of(obj: dict[str, Any]) -> dict[str, Any]:
    c = obj["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}


def test_credential_env_values_and_proxy_userinfo_are_redacted() -> None:
    env: list[dict[str, Any]] = [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "GITHUB_TOKEN", "value": "ghp_x"},
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "abc"},
        {"name": "CF_API_KEY", "value": "k"},
        {"name": "AZURE_CREDENTIALS", "value": "{}"},
        {"name": "BASIC_AUTH", "value": "u:p"},
        {"name": "SSH_KEY", "value": "k"},
        {"name": "HTTPS_PROXY", "value": "http://alice:s3cret@proxy.corp.test:3128"},
        {"name": "http_proxy", "value": "http://proxy.corp.test:3128"},
        {"name": "NO_PROXY", "value": ".svc,.cluster.local,10.96.0.0/12"},
        {"name": "UPSTREAM", "value": "https://bob:pw@mirror.corp.test/x"},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "TOKEN_FILE", "valueFrom": {"secretKeyRef": {"name": "t", "key": "token"}}},
    ]
    out = sanitize(deployment(env))
    got = env_of(out)
    for k in ("DB_PASSWORD", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CF_API_KEY",
              "AZURE_CREDENTIALS", "BASIC_AUTH", "SSH_KEY"):
        assert got[k] == REDACTED, k
    assert got["HTTPS_PROXY"] == f"http://{REDACTED}@proxy.corp.test:3128"
    assert got["http_proxy"] == "http://proxy.corp.test:3128"
    assert got["NO_PROXY"] == ".svc,.cluster.local,10.96.0.0/12"
    assert got["UPSTREAM"] == f"https://{REDACTED}@mirror.corp.test/x"
    assert got["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert got["TOKEN_FILE"] == {"secretKeyRef": {"name": "t", "key": "token"}}
    init = out["spec"]["template"]["spec"]["initContainers"][0]["env"][0]
    assert init["value"] == REDACTED


def test_pod_env_is_redacted_too() -> None:
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "env": [{"name": "PASSWORD", "value": "x"}]}]}}
    assert sanitize(pod)["spec"]["containers"][0]["env"][0]["value"] == REDACTED


def test_issuer_webhook_credentials_redacted_but_references_kept() -> None:
    iss = {"kind": "ClusterIssuer", "metadata": {"name": "le"}, "spec": {"acme": {
        "privateKeySecretRef": {"name": "le-account"}, "solvers": [{"dns01": {"webhook": {
            "groupName": "acme.example.test", "solverName": "x",
            "config": {"apiKey": "AKIA", "apiSecret": "zzz", "zone": "example.test",
                       "apiTokenSecretRef": {"name": "tok", "key": "token"}}}}}]}}}
    out = sanitize(iss)
    cfg = out["spec"]["acme"]["solvers"][0]["dns01"]["webhook"]["config"]
    assert cfg["apiKey"] == REDACTED and cfg["apiSecret"] == REDACTED
    assert cfg["zone"] == "example.test"
    assert cfg["apiTokenSecretRef"] == {"name": "tok", "key": "token"}
    assert out["spec"]["acme"]["privateKeySecretRef"] == {"name": "le-account"}


def test_private_keys_anywhere_are_replaced_but_certificates_kept() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "oops", "namespace": "app",
                       "annotations": {"note": "key: " + PEM_KEYS[1]}},
          "data": {"key.pem": PEM_KEYS[0], "ca.pem": CERT_PEM, "b64": b64(PEM_KEYS[2]),
                   PEM_KEYS[3]: "as a key"},
          "binaryData": {"k": b64(PEM_KEYS[4])},
          "nested": [[{"deep": PEM_KEYS[1]}]]}
    out = sanitize(cm)
    assert not leaks(out)
    assert out["data"]["ca.pem"] == CERT_PEM
    assert out["data"]["key.pem"] == REDACTED
    assert out["binaryData"]["k"] == REDACTED
    assert out["nested"][0][0]["deep"] == REDACTED
    assert leaks(cm), "the input is untouched"


def test_certificate_request_csr_is_not_mistaken_for_a_key() -> None:
    csr = b64("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
    cr = {"kind": "CertificateRequest", "metadata": {"name": "r"}, "spec": {"request": csr}}
    assert sanitize(cr)["spec"]["request"] == csr


def test_non_dict_input_is_returned_as_is() -> None:
    assert sanitize("x") == "x"  # type: ignore[arg-type]
    assert sanitize({}) == {}


# -- property: whatever the shape, no private key survives --------------------------------

#: base64 of bytes that carry a key somewhere: after a stray prefix (any alignment), after
#: a certificate chain, optionally line-wrapped as openssl and editors write it
_hidden_key = st.builds(
    lambda pre, chain, key, wrapped: (wrap if wrapped else str)(
        base64.b64encode(pre + (CERT_PEM * chain).encode() + key.encode()).decode()),
    st.binary(max_size=5), st.integers(0, 6), st.sampled_from(PEM_KEYS), st.booleans())
_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                  st.sampled_from(PEM_KEYS), st.sampled_from([b64(k) for k in PEM_KEYS]),
                  st.sampled_from(PEM_KEYS).map(lambda k: "prefix " + k + " suffix"),
                  _hidden_key, _hidden_key.map(lambda k: '{"tls.key": "' + k + '"}'),
                  st.just(CERT_PEM), st.just(b64(CERT_PEM)))
_keys = st.one_of(st.sampled_from(["data", "stringData", "spec", "env", "name", "value",
                                   "metadata", "annotations", "tls.key", "tls.crt", "items",
                                   "containers", "template", "config"]),
                  st.text(max_size=8), st.sampled_from(PEM_KEYS))
_tree = st.recursive(_leaf, lambda ch: st.one_of(st.lists(ch, max_size=4),
                                                 st.dictionaries(_keys, ch, max_size=4)),
                     max_leaves=30)
_objects = st.fixed_dictionaries(
    {"kind": st.sampled_from(["Secret", "ConfigMap", "Deployment", "Pod", "Issuer",
                              "ClusterIssuer", "Certificate", "Event"]),
     "metadata": st.one_of(_tree, st.fixed_dictionaries(
         {"name": st.text(max_size=5), "annotations": st.dictionaries(_keys, _leaf)})),
     "data": _tree, "spec": _tree, "status": _tree})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_objects)
def test_property_no_private_key_survives(obj: dict[str, Any]) -> None:
    before = copy.deepcopy(obj)
    out = sanitize(obj)
    assert not leaks(out)
    assert obj == before
    if obj["kind"] == "Secret" and isinstance(out.get("data"), dict):
        assert set(out["data"]) <= {"tls.crt", "ca.crt"}


def test_key_hidden_after_a_long_chain_or_off_alignment_is_found() -> None:
    """A real 2048-bit key pasted after a four-certificate chain into tls.crt, or base64 of
    a file whose key starts at byte 1 or 2: both used to slip past the first-8 KiB check."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    chain = ("-----BEGIN CERTIFICATE-----\n" + "A" * 2400 + "\n-----END CERTIFICATE-----\n")
    values = [base64.b64encode(chain.encode() * 4 + key).decode(),
              base64.b64encode(b"#" + key).decode(), wrap(base64.b64encode(b"\n\n" + key).decode())]
    for v in values:
        assert leaks({"v": v})
        sec = sanitize({"kind": "Secret", "metadata": {"name": "x"}, "data": {"tls.crt": v}})
        assert not leaks(sec) and sec["data"]["tls.crt"] == REDACTED
        cm = sanitize({"kind": "ConfigMap", "data": {"bundle.pem": v, "note": "ok"}})
        assert not leaks(cm) and cm["data"] == {"bundle.pem": REDACTED, "note": "ok"}
    plain = base64.b64encode(chain.encode() * 4).decode()
    assert sanitize({"kind": "Secret", "data": {"tls.crt": plain}})["data"]["tls.crt"] == plain
