"""Connecting: kubeconfig resolution and one-line errors.

Network failures use real loopback servers (a port nobody listens on, a server that
accepts and never answers, a TLS server with an unknown certificate); auth failures,
impersonation and discovery use the real test API server."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_certdoctor.cli import main
from kubectl_certdoctor.cluster.connection import (
    ApiError,
    Unreachable,
    connect,
    kubeconfig_paths,
)
from kubectl_certdoctor.errors import ClusterError
from kubectl_certdoctor.options import Options


def kubeconfig(path: Path, server: str, *, contexts: tuple[str, ...] = ("x",),
               current: str | None = "x", namespace: str | None = None,
               cluster_extra: dict[str, Any] | None = None,
               user: dict[str, Any] | None = None) -> Path:
    doc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, **(cluster_extra or {})}}],
        "users": [{"name": "u", "user": user or {"token": "t"}}],
        "contexts": [{"name": c, "context": {"cluster": "c", "user": "u",
                                             **({"namespace": namespace} if namespace else {})}}
                     for c in contexts],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $KUBECONFIG, an empty $HOME, not in a pod."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_no_kubeconfig_suggests_demo(no_env: Path) -> None:
    assert kubeconfig_paths(Options()) == [str(no_env / ".kube" / "config")]
    with pytest.raises(ClusterError) as e:
        connect(Options())
    assert "no kubeconfig found" in str(e.value) and "--demo" in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_kubeconfig_flag(no_env: Path) -> None:
    with pytest.raises(ClusterError, match="does not exist"):
        connect(Options(kubeconfig=str(no_env / "nope")))


def test_kubeconfig_env_list_merges_first_wins(no_env: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    a = kubeconfig(no_env / "a", "https://127.0.0.1:1", contexts=("one",), current="one",
                   namespace="team-a")
    b = kubeconfig(no_env / "b", "https://127.0.0.1:2", contexts=("two",), current="two")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{no_env / 'missing'}:{b}")
    c = connect(Options(), verify=False)
    assert (c.context, c.namespace, c.server) == ("one", "team-a", "https://127.0.0.1:1")
    c2 = connect(Options(context="two", namespace="ns2"), verify=False)
    # the cluster named "c" is defined in both files: the first definition wins
    assert (c2.context, c2.namespace, c2.server) == ("two", "ns2", "https://127.0.0.1:1")


def test_unknown_context_lists_available(no_env: Path) -> None:
    kc = kubeconfig(no_env / "kc", "https://127.0.0.1:1", contexts=("prod", "dev"))
    with pytest.raises(ClusterError) as e:
        connect(Options(kubeconfig=str(kc), context="staging"))
    assert "'staging' not found" in str(e.value) and "available: dev, prod" in str(e.value)


def test_no_current_context(no_env: Path) -> None:
    kc = kubeconfig(no_env / "kc", "https://127.0.0.1:1", current=None)
    with pytest.raises(ClusterError, match="no current context"):
        connect(Options(kubeconfig=str(kc)))


def test_broken_kubeconfig_files(no_env: Path) -> None:
    bad = no_env / "bad"
    bad.write_text("clusters: [unclosed\n")
    with pytest.raises(ClusterError, match="not valid YAML"):
        connect(Options(kubeconfig=str(bad)))
    bad.write_text("- a list\n")
    with pytest.raises(ClusterError, match="not a kubeconfig"):
        connect(Options(kubeconfig=str(bad)))
    kc = kubeconfig(no_env / "kc", "https://127.0.0.1:1",
                    user={"client-certificate": "missing.crt", "client-key": "missing.key"})
    with pytest.raises(ClusterError) as e:
        connect(Options(kubeconfig=str(kc)))
    assert "\n" not in str(e.value)


def test_as_group_needs_as(no_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kc = kubeconfig(no_env / "kc", "https://127.0.0.1:1")
    rc = main(["dump", "--kubeconfig", str(kc), "--as-group", "admins"])
    assert rc == 2 and "--as-group needs --as" in capsys.readouterr().err


def test_connection_refused_is_quick_and_clean(no_env: Path) -> None:
    kc = kubeconfig(no_env / "kc", "https://127.0.0.1:1")
    t = time.monotonic()
    with pytest.raises(Unreachable) as e:
        connect(Options(kubeconfig=str(kc), request_timeout=2))
    assert time.monotonic() - t < 1.5
    assert str(e.value) == "cannot reach the API server at https://127.0.0.1:1: connection refused"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def loop() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    for s in held:
        s.close()
    srv.close()


def test_timeout_within_request_timeout(no_env: Path, silent_server: int) -> None:
    kc = kubeconfig(no_env / "kc", f"https://127.0.0.1:{silent_server}")
    t = time.monotonic()
    with pytest.raises(Unreachable) as e:
        connect(Options(kubeconfig=str(kc), request_timeout=0.5))
    # the TLS handshake waits once (no retries on connect/handshake)
    assert time.monotonic() - t < 2.0
    assert "no answer within 0.5s" in str(e.value)


def _self_signed(tmp: Path, cn: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(key, hashes.SHA256()))
    crt, kf = tmp / f"{cn}.crt", tmp / f"{cn}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kf.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return crt, kf


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server whose certificate no kubeconfig trusts."""
    crt, key = _self_signed(tmp_path, "stranger")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                with ctx.wrap_socket(conn, server_side=True) as s:
                    s.recv(1024)
            except (OSError, ssl.SSLError):
                conn.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def test_tls_error_is_clean(no_env: Path, tls_server: int, tmp_path: Path) -> None:
    other_ca, _ = _self_signed(tmp_path, "our-ca")
    kc = kubeconfig(no_env / "kc", f"https://127.0.0.1:{tls_server}",
                    cluster_extra={"certificate-authority": str(other_ca)})
    with pytest.raises(Unreachable) as e:
        connect(Options(kubeconfig=str(kc), request_timeout=3))
    msg = str(e.value)
    assert msg.startswith(f"TLS error talking to the API server at https://127.0.0.1:{tls_server}")
    assert "certificate verify failed" in msg and "\n" not in msg


def test_cli_errors_are_one_line(no_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["dump", "--kubeconfig", str(no_env / "nope")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: kubeconfig") and err.count("\n") == 1
    kc = kubeconfig(no_env / "kc", "https://127.0.0.1:1", contexts=("a",), current="a")
    rc = main(["dump", "--kubeconfig", str(kc), "--context", "b"])
    err = capsys.readouterr().err
    assert rc == 1 and "context 'b' not found" in err and "Traceback" not in err


def test_imports_stay_lazy() -> None:
    code = ("import sys, kubectl_certdoctor.cluster.connection, kubectl_certdoctor.cluster.store,"
            " kubectl_certdoctor.commands.dump; "
            "bad = [m for m in ('kubernetes', 'urllib3', 'orjson', 'yaml') if m in sys.modules];"
            " print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


# -- against the real API server ------------------------------------------------------------


def _admin_doc(control_plane: Any) -> dict[str, Any]:
    return yaml.safe_load(Path(control_plane.admin_kubeconfig).read_text())


@pytest.mark.integration
def test_connect_and_discover(control_plane: Any) -> None:
    c = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig)))
    assert c.server.rstrip("/") == str(control_plane.server).rstrip("/")
    assert c.user  # from the SelfSubjectReview
    d = c.discover()
    assert d.cert_manager_installed
    assert {"Certificate", "Order", "Challenge", "Secret", "Ingress"} <= d.available
    # no Gateway API (Gateway, HTTPRoute) nor approver-policy CRDs here
    assert [k.name for k in d.missing] == ["Gateway", "HTTPRoute", "CertificateRequestPolicy"]
    c.close()


@pytest.mark.integration
def test_bad_credentials_401(control_plane: Any, tmp_path: Path) -> None:
    doc = _admin_doc(control_plane)
    for u in doc["users"]:
        u["user"] = {"token": "not-a-valid-token"}
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(doc))
    with pytest.raises(ApiError) as e:
        connect(Options(kubeconfig=str(kc)))
    assert e.value.status == 401 and "rejected the credentials" in str(e.value)


@pytest.mark.integration
def test_impersonation(control_plane: Any) -> None:
    c = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig), as_user="jane",
                        as_groups=["team-a", "team-b"]))
    assert c.user == "jane"
    doc = c.json("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                 body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    groups = doc["status"]["userInfo"].get("groups", [])
    assert "team-a" in groups and "team-b" in groups
    # typed API calls through .api_client carry the same headers
    from kubernetes import client

    with pytest.raises(client.ApiException) as e:
        client.CoreV1Api(c.api_client).list_namespaced_secret("default")
    assert e.value.status == 403 and "jane" in str(e.value.body)
    c.close()


@pytest.mark.integration
def test_restricted_user_cannot_impersonate_403(control_plane: Any) -> None:
    with pytest.raises(ApiError) as e:
        connect(Options(kubeconfig=str(control_plane.restricted_kubeconfig), as_user="admin"))
    assert e.value.status == 403 and str(e.value).startswith("forbidden: ")
    assert "impersonate" in str(e.value)


@pytest.mark.integration
def test_read_only_refuses_every_mutation(control_plane: Any) -> None:
    from kubernetes import client

    from kubectl_certdoctor.errors import ReadOnlyError

    c = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig), read_only=True))
    assert c.read_only  # connect's own SelfSubjectReview (a question) went through
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ro-must-not-exist"}}
    with pytest.raises(ReadOnlyError):
        c.request("POST", "/api/v1/namespaces", body=ns)
    core: Any = client.CoreV1Api(c.api_client)
    with pytest.raises(ReadOnlyError):  # typed API calls share the guard
        core.create_namespace(ns)
    with pytest.raises(ReadOnlyError):
        c.request("DELETE", "/api/v1/namespaces/default")
    review = c.json("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "create", "resource": "namespaces"}}})
    assert review["status"]["allowed"] is True
    assert c.json("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"
    rw = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig)))
    with pytest.raises(ApiError) as e:
        rw.get("/api/v1/namespaces/ro-must-not-exist")
    assert e.value.status == 404
    c.close()
    rw.close()
