"""Bundle files: every shape kubectl prints loads; anything else is one clear BundleError."""

from __future__ import annotations

import base64
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_certdoctor import scenarios
from kubectl_certdoctor.bundle import MAX_BYTES, load_bundle, write_bundle
from kubectl_certdoctor.errors import BundleError, CertdoctorError
from kubectl_certdoctor.objects import ObjectSet

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBs\n-----END EC PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def cert(name: str, ns: str = "app") -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp":
                         "2026-11-20T10:00:00Z"},
            "spec": {"secretName": name + "-tls", "dnsNames": [f"{name}.example.test"],
                     "issuerRef": {"name": "le", "kind": "ClusterIssuer"}}}


def secret(name: str, ns: str = "app") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": ns},
            "data": {"tls.crt": b64(CERT), "tls.key": b64(KEY)}}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def test_v1_list_yaml(tmp_path: Path) -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [cert("a"), secret("a-tls")]}
    objs = load_bundle(write(tmp_path, "b.yaml", yaml.safe_dump(doc)))
    assert objs.get("Certificate", "app", "a") is not None
    s = objs.get("Secret", "app", "a-tls")
    assert s is not None and set(s["data"]) == {"tls.crt"}, "tls.key never loaded"
    assert s["metadata"]["annotations"]["certdoctor.io/redacted-keys"] == "tls.key"
    assert objs.source.startswith("bundle:")


def test_typed_list_json_items_inherit_kind_and_api_version(tmp_path: Path) -> None:
    items = [{"metadata": {"name": "x", "namespace": "n"}, "spec": {}},
             {"metadata": {"name": "y", "namespace": "n"}, "spec": {}}]
    doc = {"apiVersion": "cert-manager.io/v1", "kind": "CertificateList", "items": items,
           "metadata": {"resourceVersion": "12"}}
    objs = load_bundle(write(tmp_path, "c.json", json.dumps(doc)))
    x = objs.get("Certificate", "n", "x")
    assert x is not None and x["kind"] == "Certificate"
    assert x["apiVersion"] == "cert-manager.io/v1"
    assert len(objs) == 2


def test_single_object_yaml_and_json(tmp_path: Path) -> None:
    assert len(load_bundle(write(tmp_path, "o.yaml", yaml.safe_dump(cert("one"))))) == 1
    assert len(load_bundle(write(tmp_path, "o.json", json.dumps(cert("one"))))) == 1


def test_json_array_of_objects(tmp_path: Path) -> None:
    objs = load_bundle(write(tmp_path, "a.json", json.dumps([cert("a"), cert("b")])))
    assert len(objs) == 2


def test_multi_document_yaml_with_lists_inside(tmp_path: Path) -> None:
    text = "\n---\n".join([
        yaml.safe_dump(cert("a")),
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [cert("b")]}),
        "",  # empty document
        yaml.safe_dump({"apiVersion": "v1", "kind": "SecretList",
                        "items": [{"metadata": {"name": "s", "namespace": "app"},
                                   "data": {"tls.key": b64(KEY)}}]}),
    ])
    objs = load_bundle(write(tmp_path, "m.yaml", "---\n" + text))
    assert {o["metadata"]["name"] for o in objs} == {"a", "b", "s"}
    assert objs.get("Secret", "app", "s")["data"] == {}  # type: ignore[index]


def test_unquoted_timestamps_stay_strings(tmp_path: Path) -> None:
    text = ("apiVersion: v1\nkind: Event\nmetadata: {name: e, namespace: app}\n"
            "lastTimestamp: 2026-11-20T10:00:00Z\n")
    ev = load_bundle(write(tmp_path, "t.yaml", text)).get("Event", "app", "e")
    assert ev is not None and ev["lastTimestamp"] == "2026-11-20T10:00:00Z"


def test_utf16_and_bom_files_load(tmp_path: Path) -> None:
    text = yaml.safe_dump(cert("u"))
    assert len(load_bundle(write(tmp_path, "u16.yaml", text.encode("utf-16")))) == 1
    assert len(load_bundle(write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + text.encode()))) == 1


def test_every_scenario_file_loads_as_a_bundle() -> None:
    from kubectl_certdoctor.scenarios import HERE

    for name in scenarios.names():
        objs = load_bundle(HERE / f"{name}.yaml")
        assert len(objs) == len(scenarios.load(name)), name


@pytest.mark.parametrize(("content", "problem"), [
    ("", "empty file"),
    ("   \n\n", "empty file"),
    ("hello world\n", "no Kubernetes objects"),
    ("- 1\n- 2\n", "no Kubernetes objects"),
    ('{"foo": 1}', "no Kubernetes objects"),
    ('{"kind": "Certificate"}', "no Kubernetes objects"),  # no metadata
    ("apiVersion: v1\nkind: List\nitems:\n  - a: [1, 2\n", "not valid YAML at line 5"),
    ("a: b\n c: d\n", "not valid YAML at line 2"),
    ('{"kind": "List", "items": [', "not valid JSON"),
    (b"\x00\x01\xff\xfe\xfa", "not a text file"),
    ("a: &x [1]\nb: *y\n", "not valid YAML"),
])
def test_corrupt_or_foreign_files(tmp_path: Path, content: str | bytes, problem: str) -> None:
    p = write(tmp_path, "bad.yaml", content)
    with pytest.raises(BundleError) as e:
        load_bundle(p)
    assert str(p) in str(e.value)
    assert problem in str(e.value)
    assert e.value.exit_code == 2


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such file"):
        load_bundle(tmp_path / "nope.yaml")
    with pytest.raises(BundleError, match="is a directory"):
        load_bundle(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    p = write(tmp_path, "x.yaml", yaml.safe_dump(cert("a")))
    p.chmod(0)
    with pytest.raises(BundleError, match="permission denied"):
        load_bundle(p)


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "huge.yaml"
    with open(p, "wb") as fh:  # sparse: costs no disk
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(BundleError, match=r"too large .*> 200 MB"):
        load_bundle(p)


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("kind: ConfigMap\nmetadata: {name: bomb}\ndata: *a11")
    with pytest.raises(BundleError, match="expands to more than"):
        load_bundle(write(tmp_path, "bomb.yaml", "\n".join(lines)))


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError):
        load_bundle(write(tmp_path, "deep.yaml", "[" * 5000 + "]" * 5000))
    with pytest.raises(BundleError):
        load_bundle(write(tmp_path, "deep.json", "[" * 100000 + "]" * 100000))
    with pytest.raises(BundleError, match="nested too deeply"):
        load_bundle(write(tmp_path, "dash.yaml", "- " * 20000 + "x"))
    with pytest.raises(BundleError):
        load_bundle(write(tmp_path, "indent.yaml",
                          "".join(" " * i + "k:\n" for i in range(0, 3000, 1)) + "x"))


# -- write → load round trip ------------------------------------------------------------

def test_round_trip_keeps_objects_context_and_capture_time(tmp_path: Path) -> None:
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    objs = scenarios.load_demo(now)
    objs.context = "prod-eu"
    buf = io.StringIO()
    n = write_bundle(objs, buf, {"namespace": "all"})
    text = buf.getvalue()
    assert n == len(objs)
    assert text.startswith("# kubectl-certdoctor bundle:")
    assert "prod-eu" in text.splitlines()[0]
    assert "PRIVATE KEY" not in text
    p = write(tmp_path, "bundle.yaml", text)
    back = load_bundle(p)
    assert back.context == "prod-eu"
    assert "captured" in back.source
    assert {k: v for k, v in back.objects.items()} == objs.objects


def test_round_trip_sanitizes_on_the_way_out(tmp_path: Path) -> None:
    objs = ObjectSet.from_objects([secret("web-tls"), cert("web")])
    buf = io.StringIO()
    write_bundle(objs, buf, {})
    assert "PRIVATE KEY" not in buf.getvalue()
    assert b64(KEY) not in buf.getvalue()
    back = load_bundle(write(tmp_path, "b.yaml", buf.getvalue()))
    assert back.get("Secret", "app", "web-tls")["data"] == {"tls.crt": b64(CERT)}  # type: ignore[index]


def test_scenarios_survive_the_round_trip_field_for_field(tmp_path: Path) -> None:
    for name in scenarios.names():
        objs = scenarios.load(name)
        buf = io.StringIO()
        write_bundle(objs, buf, {})
        back = load_bundle(write(tmp_path, f"{name}.yaml", buf.getvalue()))
        assert back.objects == objs.objects, name
        assert back.context == objs.context


# -- property: nothing but BundleError, whatever the file holds ---------------------------

def _must_load_or_bundle_error(p: Path) -> None:
    try:
        objs = load_bundle(p)
    except BundleError as e:
        assert str(p) in str(e)
        return
    except CertdoctorError as e:  # pragma: no cover - would be a bug
        raise AssertionError(f"wrong error type {type(e).__name__}: {e}") from e
    assert isinstance(objs, ObjectSet)
    assert "PRIVATE KEY" not in json.dumps(list(objs), default=str)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_property_random_bytes(tmp_path: Path, data: bytes) -> None:
    _must_load_or_bundle_error(write(tmp_path, "r.bin", data))


_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=10), st.sampled_from(["List", "Secret", "Certificate",
                                                           "CertificateList", KEY]))
_json = st.recursive(_scalar, lambda ch: st.one_of(
    st.lists(ch, max_size=4),
    st.dictionaries(st.sampled_from(["kind", "apiVersion", "metadata", "items", "name",
                                     "namespace", "data", "tls.key", "spec"]), ch, max_size=5)),
    max_leaves=25)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(_json, st.sampled_from(["yaml", "json", "yaml-multi"]))
def test_property_random_structures(tmp_path: Path, value: Any, fmt: str) -> None:
    if fmt == "json":
        text = json.dumps(value)
    elif fmt == "yaml":
        text = yaml.safe_dump(value)
    else:
        text = yaml.safe_dump_all([value, value])
    _must_load_or_bundle_error(write(tmp_path, f"s.{fmt}", text))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.text(alphabet="{}[]:,-&*!|>'\"#%@`\n ?abc0123", max_size=80))
def test_property_yaml_syntax_soup(tmp_path: Path, text: str) -> None:
    _must_load_or_bundle_error(write(tmp_path, "soup.yaml", text))


def test_bundle_is_judged_at_its_capture_time_or_its_newest_timestamp(tmp_path: Path) -> None:
    """A bundle pasted from a 2021 report must not read as "expired 1800 days ago": it is
    judged at its recorded capture time, else (all times older than a day) at its newest
    observation time; a fresh bundle without capture time is judged now."""
    from datetime import UTC, datetime, timedelta

    from kubectl_certdoctor.bundle import judged_at, load_bundle

    old = """apiVersion: v1
kind: List
items:
- apiVersion: cert-manager.io/v1
  kind: Certificate
  metadata: {name: web, namespace: shop, creationTimestamp: "2021-03-01T10:00:00Z"}
  spec: {secretName: web-tls, issuerRef: {name: le}}
  status:
    notAfter: "2021-06-01T10:00:00Z"
    renewalTime: "2021-05-02T10:00:00Z"
    conditions:
    - {type: Ready, status: "True", lastTransitionTime: "2021-03-02T10:00:00Z"}
"""
    p = tmp_path / "old.yaml"
    p.write_text(old)
    objs = load_bundle(p)
    assert objs.observed_at == datetime(2021, 3, 2, 10, 0, tzinfo=UTC)
    assert "no capture time recorded" in objs.source
    captured = old.replace("items:", 'metadata:\n  annotations:\n    certdoctor.io/bundle: '
                           '\'{"capturedAt": "2021-04-01T00:00:00Z"}\'\nitems:')
    p.write_text(captured)
    assert load_bundle(p).observed_at == datetime(2021, 4, 1, tzinfo=UTC)
    fresh = load_bundle(p)
    fresh.observed_at = None
    assert judged_at(fresh, None, now=datetime(2021, 3, 2, 12, 0, tzinfo=UTC)) is None
    assert judged_at(fresh, None, now=datetime(2021, 3, 2, 10, 0, tzinfo=UTC)
                     + timedelta(days=2)) == datetime(2021, 3, 2, 10, 0, tzinfo=UTC)


def test_support_window_follows_the_judged_date() -> None:
    from datetime import date

    from kubectl_certdoctor.versions import Version, is_outdated, oldest_supported

    assert oldest_supported(date(2024, 11, 1)) == (1, 15)
    assert not is_outdated(Version(1, 16, 2), date(2024, 11, 1))
    assert is_outdated(Version(1, 16, 2), date(2026, 11, 1))
