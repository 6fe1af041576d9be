"""``kubectl certdoctor dump``: a bundle from the real API server, with no private key and
no credential in it, that loads back (``--from-file``) into the same objects."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_certdoctor.cli import main
from kubectl_certdoctor.objects import ObjectSet
from tests.support import cluster_access as ca

PEM_KEY_B64 = base64.b64encode(b"-----BEGIN PRIVATE").decode()[:20]


def test_a_private_key_that_slipped_through_never_reaches_the_bundle() -> None:
    """A PEM key anywhere (here a ConfigMap) is redacted on the way into the bundle, and
    the last-line check in ``render`` refuses any key that survived redaction."""
    from kubectl_certdoctor.commands import dump

    key, _ = ca.key_and_cert("leak.test")
    objs = ObjectSet.from_objects([{"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "oops", "namespace": "app"},
                                    "data": {"key.pem": key}}])
    text = dump.render(objs, {})
    assert "PRIVATE KEY" not in text and "<redacted>" in text
    assert dump._PRIVATE_KEY.search(key)  # the refusal's pattern does match a real key


def test_unreachable_server_is_one_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "x", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}]}))
    out = tmp_path / "b.yaml"
    rc = main(["dump", "--kubeconfig", str(kc), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and err == ("error: cannot reach the API server at https://127.0.0.1:1: "
                               "connection refused\n")
    assert not out.exists()


def deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "cert-manager"}},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "controller",
                    "image": "quay.io/jetstack/cert-manager-controller:v1.15.0",
                    "env": [{"name": "HTTPS_PROXY", "value": "http://bob:hunter2@proxy.test:3128"},
                            {"name": "VAULT_TOKEN", "value": "s.hunter2"},
                            {"name": "NO_PROXY", "value": ".svc,10.0.0.0/8"}]}]}}}}


@pytest.mark.integration
def test_dump_round_trip_without_secrets(control_plane: Any, namespace: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_certdoctor.bundle import load_bundle
    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.cluster.store import Store
    from kubectl_certdoctor.options import Options

    kc = str(control_plane.admin_kubeconfig)
    conn = connect(Options(kubeconfig=kc))
    ca.create(conn, ca.certificate("web", "web-tls"), namespace)
    ca.create(conn, ca.tls_secret("web-tls", "web.example.test"), namespace)
    ca.create(conn, ca.tls_secret("not-ours", "x.example.test"), namespace)
    ca.create(conn, deployment("cert-manager"), namespace)

    out = tmp_path / "bundle.yaml"
    rc = main(["dump", "--kubeconfig", kc, "-n", namespace, "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "wrote" in err and "Traceback" not in err
    text = out.read_text()
    assert "PRIVATE KEY" not in text and PEM_KEY_B64 not in text and "tls.key" not in text
    assert "hunter2" not in text
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600

    bundle = load_bundle(str(out))
    assert bundle.get("Certificate", namespace, "web") is not None
    sec = bundle.get("Secret", namespace, "web-tls")
    assert sec is not None and sorted(sec["data"]) == ["ca.crt", "tls.crt"]
    assert bundle.get("Secret", namespace, "not-ours") is None
    dep = bundle.get("Deployment", namespace, "cert-manager")
    assert dep is not None
    env = {e["name"]: e["value"]
           for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "proxy.test:3128" in env["HTTPS_PROXY"] and env["NO_PROXY"] == ".svc,10.0.0.0/8"

    # the same objects as the live store holds
    store = Store(conn, namespace)
    store.start()
    assert store.synced.wait(10)
    live = store.snapshot()
    store.stop()
    conn.close()

    def keys(objs: ObjectSet) -> set[tuple[str, str, str]]:
        return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
                for o in objs}

    assert keys(bundle) == keys(live)


@pytest.mark.integration
def test_dump_all_namespaces_to_stdout(control_plane: Any, namespace: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.options import Options

    kc = str(control_plane.admin_kubeconfig)
    conn = connect(Options(kubeconfig=kc))
    ca.create(conn, ca.certificate("everywhere", "e-tls"), namespace)
    conn.close()
    rc = main(["dump", "--kubeconfig", kc, "-A"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    docs = [d for d in yaml.safe_load_all(cap.out) if d]
    items = docs[0]["items"] if len(docs) == 1 and "items" in docs[0] else docs
    names = {(i["kind"], i["metadata"]["name"]) for i in items}
    assert ("Certificate", "everywhere") in names
    assert "PRIVATE KEY" not in cap.out


@pytest.mark.integration
def test_dump_restricted_user_warns_but_writes(control_plane: Any, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b.yaml"
    rc = main(["dump", "--kubeconfig", str(control_plane.restricted_kubeconfig), "-A",
               "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "warning: not in the bundle (forbidden): Challenge, Order, Secret — " in err
    assert "Gateway" not in err  # optional kinds are not worth a warning
    assert out.exists()
