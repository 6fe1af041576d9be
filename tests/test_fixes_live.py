"""Fixes against the real test API server: dry run, apply, audit, conflicts, RBAC, read-only.

No cert-manager controller runs here (that is the lab's job), so verification
checks what the API server itself does: status written, objects deleted,
generation bumped. Requests are counted by a recording reverse proxy owned by
the test, never by patching the project's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_certdoctor import fixes
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.cluster.connection import Connection, connect
from kubectl_certdoctor.commands.fix import read_objects
from kubectl_certdoctor.fixes import audit
from kubectl_certdoctor.fixes.registry import FIXES
from kubectl_certdoctor.objects import ObjectSet, Ref, condition
from kubectl_certdoctor.options import Options
from tests.support import fixes as f

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def cp(control_plane: Any) -> Any:
    """The shared session control plane (tests/conftest.py)."""
    return control_plane


@pytest.fixture(scope="session")
def admin(control_plane: Any) -> Iterator[Connection]:
    import time

    from kubectl_certdoctor.cluster.watch import kind_path
    from kubectl_certdoctor.kinds import CERT_MANAGER_KINDS

    conn = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig)))
    deadline = time.monotonic() + 30  # CRD storage answers 429 for a moment after install
    for kind in CERT_MANAGER_KINDS:
        while True:
            r = conn.request("GET", kind_path(kind, None), check=False)
            r.data  # noqa: B018 - read the body so the connection can be reused
            r.release_conn()
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    yield conn
    conn.close()


@pytest.fixture
def ns(namespace: str) -> str:
    """A fresh namespace (tests/conftest.py), deleted after the test."""
    return namespace


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CERTDOCTOR_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def cli(cp: Any, *argv: str, kubeconfig: str | None = None) -> int:
    return main(["fix", *argv, "--kubeconfig", kubeconfig or str(cp.admin_kubeconfig),
                 "--verify-timeout", "2s"])


def failed_cert_world(admin: Connection, ns: str, *, failed: int = 1) -> dict[str, Any]:
    cert = f.create(admin, f.certificate("web", ns, issuing="False", revision=1, attempts=1), ns)
    cuid = cert["metadata"]["uid"]
    old = f.create(admin, f.request("web-1", ns, "web", 1, reason="Issued", message="ok",
                                    cert_uid=cuid), ns)
    bad = [f.create(admin, f.request(f"web-2-{i}", ns, "web", 2, cert_uid=cuid), ns)
           for i in range(failed)]
    return {"cert": cert, "old": old, "bad": bad}


# -- renew ------------------------------------------------------------------------------


def test_renew_dry_run_apply_verify_audit(cp: Any, admin: Connection, ns: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    f.create(admin, f.certificate("web", ns, issuing="False", revision=1, attempts=2), ns)
    before = f.get(admin, "Certificate", ns, "web")
    assert before is not None

    assert cli(cp, "renew", "certificate/web", "-n", ns, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "PUT /apis/cert-manager.io/v1/namespaces/" in out and "ManuallyTriggered" in out
    assert "ok (200) PUT" in out and "does not reset failedIssuanceAttempts (2)" in out
    same = f.get(admin, "Certificate", ns, "web") or {}
    assert same["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert (condition(same, "Issuing") or {}).get("status") == "False"

    assert cli(cp, "renew", "certificate/web", "-n", ns, "--yes") == 0
    out = capsys.readouterr().out
    after = f.get(admin, "Certificate", ns, "web") or {}
    issuing = condition(after, "Issuing") or {}
    assert (issuing["status"], issuing["reason"], issuing["message"]) == (
        "True", "ManuallyTriggered", "Certificate re-issuance manually triggered")
    assert issuing["observedGeneration"] == after["metadata"]["generation"]
    assert after["status"]["failedIssuanceAttempts"] == 2  # renew's documented limit
    assert "seen: Certificate Issuing=True" in out
    assert "NOT seen: cert-manager creates a CertificateRequest for revision 2" in out

    entries = audit.read_entries()
    assert [e["result"] for e in entries] == ["dry-run", "applied"]
    last = entries[-1]
    assert last["user"] == "certdoctor-admin" and last["context"] == "certdoctor-test"
    assert last["fix"] == "renew" and last["target"] == f"Certificate/{ns}/web"
    assert last["calls"][0]["method"] == "PUT" and last["dry_run"]["ok"]
    assert last["apply"]["calls"][0]["status"] == 200
    assert audit.audit_path().stat().st_mode & 0o077 == 0

    # Issuing is now True: renew has nothing to do and says what does
    assert cli(cp, "renew", "certificate/web", "-n", ns, "--yes") == 1
    cap = capsys.readouterr()
    assert "Issuing is already True" in cap.out and "clear-failed-requests" in cap.out


# -- clear-failed-requests -------------------------------------------------------------


def test_clear_failed_requests_dry_run_then_apply(cp: Any, admin: Connection, ns: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    world = failed_cert_world(admin, ns, failed=2)
    assert cli(cp, "clear-failed-requests", "certificate/web", "-n", ns, "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.count("ok (200) DELETE") == 2 and "ok (200) PUT" in out
    for cr in [world["old"], *world["bad"]]:
        assert f.get(admin, "CertificateRequest", ns, cr["metadata"]["name"]) is not None

    assert cli(cp, "clear-failed-requests", "certificate/web", "-n", ns, "--yes") == 0
    out = capsys.readouterr().out
    for cr in world["bad"]:
        assert f.get(admin, "CertificateRequest", ns, cr["metadata"]["name"]) is None
    assert f.get(admin, "CertificateRequest", ns, "web-1") is not None
    cert = f.get(admin, "Certificate", ns, "web") or {}
    assert (condition(cert, "Issuing") or {}).get("reason") == "ManuallyTriggered"
    assert "seen: CertificateRequest web-2-0 deleted" in out
    entry = audit.read_entries()[-1]
    assert entry["result"] == "applied" and len(entry["calls"]) == 3
    assert set(entry["targets"]) >= {f"CertificateRequest/{ns}/web-2-0",
                                     f"CertificateRequest/{ns}/web-2-1"}


def test_stuck_vault_request_is_deleted_without_renew(admin: Connection, ns: str) -> None:
    cert = f.create(admin, f.certificate("vault", ns, issuing="True", revision=3), ns)
    f.create(admin, f.request("vault-4", ns, "vault", 4, reason="Pending", message=f.VAULT_MSG,
                              cert_uid=cert["metadata"]["uid"]), ns)
    objs = read_objects(admin, FIXES["clear-failed-requests"], Ref("Certificate", ns, "vault"),
                        ns)
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", ns, "vault"))
    assert [c.method for c in plan.calls] == ["DELETE"]
    assert fixes.dry_run(admin, plan, read_only=False).ok
    assert f.get(admin, "CertificateRequest", ns, "vault-4") is not None
    assert fixes.apply(admin, plan, read_only=False).ok
    assert f.get(admin, "CertificateRequest", ns, "vault-4") is None
    result = fixes.verify(admin, plan, timeout=1)
    assert result.observations[0].met and not result.ok  # no controller to recreate it


# -- retry-challenge, set-solver-ingress-class -----------------------------------------


def acme_world(admin: Connection, ns: str) -> dict[str, Any]:
    from tests.support.apply import SCENARIO_LABEL

    pub, ngx = f"{ns}-public", f"{ns}-nginx"
    for cls in (pub, ngx):  # cluster-scoped: labelled so the namespace fixture removes them
        ic = f.ingress_class(cls)
        ic["metadata"]["labels"] = {SCENARIO_LABEL: ns}
        f.create(admin, ic, None)
    issuer = f.create(admin, f.acme_issuer("acme", ns, solvers=[
        {"http01": {"ingress": {"class": ngx}}}]), ns)
    f.create(admin, f.ingress("site", ns, "web.example.test", pub), ns)
    # real owners all the way up, or the garbage collector removes the orphans
    cert = f.get(admin, "Certificate", ns, "web") or f.create(
        admin, f.certificate("web", ns, issuing="True", revision=1), ns)
    cr = f.create(admin, f.request("web-2", ns, "web", 2, reason="Pending", message="waiting",
                                   cert_uid=cert["metadata"]["uid"]), ns)
    order = f.create(admin, f.order("web-2-1", ns, "web-2", cr["metadata"]["uid"]), ns)
    ch = f.create(admin, f.challenge("web-2-1-99", ns, "web-2-1", order["metadata"]["uid"],
                                     cls=ngx), ns)
    return {"issuer": issuer, "order": order, "challenge": ch, "public": pub, "nginx": ngx}


def test_retry_challenge_dry_run_then_apply(cp: Any, admin: Connection, ns: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    acme_world(admin, ns)
    assert cli(cp, "retry-challenge", "challenge/web-2-1-99", "-n", ns, "--dry-run") == 0
    assert "ok (200) DELETE" in capsys.readouterr().out
    assert f.get(admin, "Challenge", ns, "web-2-1-99") is not None
    assert cli(cp, "retry-challenge", "challenge/web-2-1-99", "-n", ns, "--yes") == 0
    out = capsys.readouterr().out
    assert f.get(admin, "Challenge", ns, "web-2-1-99") is None
    assert "seen: Challenge web-2-1-99 deleted" in out
    assert "NOT seen: cert-manager creates a new Challenge" in out
    assert audit.read_entries()[-1]["result"] == "applied"


def test_set_solver_ingress_class_dry_run_then_apply(cp: Any, admin: Connection, ns: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    w = acme_world(admin, ns)
    assert cli(cp, "set-solver-ingress-class", "challenge/web-2-1-99", "-n", ns,
               "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"+          ingressClassName: {w['public']}" in out and "ok (200) PATCH" in out
    same = f.get(admin, "Issuer", ns, "acme") or {}
    assert same["spec"]["acme"]["solvers"][0]["http01"]["ingress"] == {"class": w["nginx"]}
    assert cli(cp, "set-solver-ingress-class", "issuer/acme", "-n", ns, "--yes") == 0
    out = capsys.readouterr().out
    issuer = f.get(admin, "Issuer", ns, "acme") or {}
    assert issuer["spec"]["acme"]["solvers"][0]["http01"]["ingress"] == {
        "ingressClassName": w["public"]}
    assert issuer["metadata"]["generation"] == w["issuer"]["metadata"]["generation"] + 1
    assert "seen: Issuer acme spec updated" in out
    # an IngressClass that does not exist is refused before anything is sent
    assert cli(cp, "set-solver-ingress-class", "issuer/acme", "-n", ns, "--yes",
               "--set", "ingress_class=nope") == 1
    assert "IngressClass 'nope' does not exist" in capsys.readouterr().err


# -- controller Deployment ---------------------------------------------------------------


def test_add_no_proxy_and_nameservers_on_the_deployment(cp: Any, admin: Connection, ns: str,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    dep = f.create(admin, f.controller(ns, env=f.proxy_env()), ns)
    gen = dep["metadata"]["generation"]
    for argv in (["add-no-proxy"], ["set-recursive-nameservers"]):
        more = ["--set", "nameservers=127.0.0.1:5353"] if argv[0].startswith("set-") else []
        assert cli(cp, *argv, "deployment/cert-manager", "-n", ns, "--dry-run", *more) == 0
        assert "ok (200) PATCH" in capsys.readouterr().out
    same = f.get(admin, "Deployment", ns, "cert-manager") or {}
    assert same["metadata"]["resourceVersion"] == dep["metadata"]["resourceVersion"]
    assert cli(cp, "add-no-proxy", "deployment/cert-manager", "-n", ns, "--yes") == 0
    out = capsys.readouterr().out
    assert "a rollout will restart cert-manager" in out
    stored = f.get(admin, "Deployment", ns, "cert-manager") or {}
    env = {e["name"]: e["value"] for e in
           stored["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["NO_PROXY"] == env["no_proxy"]
    assert env["NO_PROXY"].startswith("127.0.0.1,localhost,")
    for entry in (".svc", ".cluster.local"):
        assert entry in env["NO_PROXY"].split(",")
    assert env["HTTPS_PROXY"] == "http://proxy.example.test:3128"
    assert stored["metadata"]["generation"] == gen + 1

    assert cli(cp, "set-recursive-nameservers", "deployment/cert-manager", "-n", ns, "--yes",
               "--set", "nameservers=127.0.0.1:5353") == 0
    capsys.readouterr()
    stored = f.get(admin, "Deployment", ns, "cert-manager") or {}
    args = stored["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-2:] == ["--dns01-recursive-nameservers=127.0.0.1:5353",
                         "--dns01-recursive-nameservers-only"]
    assert [e["result"] for e in audit.read_entries()] == ["dry-run"] * 2 + ["applied"] * 2

    assert cli(cp, "upgrade-guidance", "deployment/cert-manager", "-n", ns) == 0
    assert "cert-manager v1.21.1" in capsys.readouterr().out


# -- conflicts ----------------------------------------------------------------------------


def _plan(admin: Connection, fix_id: str, ref: Ref, **params: Any) -> fixes.FixPlan:
    objs: ObjectSet = read_objects(admin, FIXES[fix_id], ref, ref.namespace)
    return fixes.plan(fix_id, objs, ref, params)


def _label(admin: Connection, ref: Ref) -> None:
    from kubectl_certdoctor.fixes.model import object_path

    admin.json("PATCH", object_path(ref), body={"metadata": {"labels": {"touched": "yes"}}},
               content_type="application/merge-patch+json")


@pytest.mark.parametrize("fix_id,ref_kind,name", [
    ("renew", "Certificate", "web"),
    ("set-solver-ingress-class", "Issuer", "acme"),
    ("retry-challenge", "Challenge", "web-2-1-99"),
])
def test_conflict_is_reported_not_overwritten(admin: Connection, ns: str, fix_id: str,
                                              ref_kind: str, name: str) -> None:
    f.create(admin, f.certificate("web", ns, issuing="False", revision=1), ns)
    acme_world(admin, ns)
    ref = Ref(ref_kind, ns, name)
    plan = _plan(admin, fix_id, ref)
    _label(admin, ref)  # someone else changes the object after we read it
    dry = fixes.dry_run(admin, plan, read_only=False)
    assert dry.conflict and not dry.ok
    with pytest.raises(fixes.ConflictError, match="changed since it was read"):
        fixes.apply(admin, plan, read_only=False)
    now = f.get(admin, ref_kind, ns, name)
    assert now is not None and now["metadata"]["labels"] == {"touched": "yes"}
    if fix_id == "renew":
        assert (condition(now, "Issuing") or {}).get("status") == "False"
    if fix_id == "set-solver-ingress-class":
        assert "ingressClassName" not in now["spec"]["acme"]["solvers"][0]["http01"]["ingress"]


# -- RBAC, read-only, confirmation -------------------------------------------------------


@pytest.fixture
def proxy_for(request: pytest.FixtureRequest) -> Iterator[Any]:
    proxies: list[f.RecordingProxy] = []

    def make(kubeconfig: str) -> f.RecordingProxy:
        p = f.RecordingProxy(kubeconfig)
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.close()


def test_restricted_user_is_greyed_out_and_sends_no_write(
        cp: Any, admin: Connection, ns: str, tmp_path: Path, proxy_for: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    f.create(admin, f.certificate("web", ns, issuing="False", revision=1), ns)
    proxy = proxy_for(str(cp.restricted_kubeconfig))
    kc = proxy.kubeconfig(str(tmp_path / "viewer.kubeconfig"), ns)
    restricted = connect(Options(kubeconfig=kc))
    try:
        plan = _plan(restricted, "renew", Ref("Certificate", ns, "web"))
        verdict = fixes.rbac_check(restricted, plan, read_only=False)
        allowed, reason = verdict
        assert not allowed
        assert "certdoctor-viewer may not update certificates/status.cert-manager.io" in reason
    finally:
        restricted.close()
    assert main(["fix", "renew", "certificate/web", "-n", ns, "--yes",
                 "--kubeconfig", kc]) == 1
    assert "not allowed" in capsys.readouterr().err
    assert proxy.writes() == []
    assert any(p.startswith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
               for _, p in proxy.requests)
    cert = f.get(admin, "Certificate", ns, "web") or {}
    assert (condition(cert, "Issuing") or {}).get("status") == "False"
    assert audit.read_entries()[-1]["result"] == "forbidden"


@pytest.mark.parametrize("extra", [["--yes"], ["--dry-run"]])
def test_read_only_sends_no_mutating_request(cp: Any, admin: Connection, ns: str,
                                             tmp_path: Path, proxy_for: Any, extra: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f.create(admin, f.certificate("web", ns, issuing="False", revision=1), ns)
    f.create(admin, f.controller(ns, env=f.proxy_env()), ns)
    proxy = proxy_for(str(cp.admin_kubeconfig))
    kc = proxy.kubeconfig(str(tmp_path / "admin.kubeconfig"), ns)
    for fix_id, target in (("renew", "certificate/web"),
                           ("add-no-proxy", "deployment/cert-manager")):
        argv = ["--read-only", "fix", fix_id, target, "-n", ns, "--kubeconfig", kc, *extra]
        assert main(argv) == 1
        cap = capsys.readouterr()
        assert "API calls:" in cap.out  # the preview is still shown
        assert "--read-only is in force" in cap.err
    assert [m for m, _ in proxy.requests] and proxy.writes() == []
    assert all(m in ("GET", "POST") for m, _ in proxy.requests)
    # and without --read-only the same proxy does see the write (the proxy really records)
    assert main(["fix", "renew", "certificate/web", "-n", ns, "--kubeconfig", kc, "--yes",
                 "--verify-timeout", "0"]) == 0
    assert ("PUT", f"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/web/status"
            "?dryRun=All&fieldManager=kubectl-certdoctor") in proxy.requests
    assert any(m == "PUT" and "dryRun" not in p for m, p in proxy.writes())


def test_no_tty_no_yes_refuses(cp: Any, admin: Connection, ns: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    world = failed_cert_world(admin, ns, failed=1)
    rc = cli(cp, "clear-failed-requests", "certificate/web", "-n", ns)
    assert rc == 2
    assert "stdin is not a terminal" in capsys.readouterr().err
    assert f.get(admin, "CertificateRequest", ns, world["bad"][0]["metadata"]["name"])
    entry = audit.read_entries()[-1]
    assert entry["result"] == "refused" and entry["dry_run"]["ok"]


def test_audit_lines_are_json(cp: Any, admin: Connection, ns: str,
                              capsys: pytest.CaptureFixture[str], state_dir: Path) -> None:
    f.create(admin, f.certificate("web", ns, issuing="False", revision=1), ns)
    assert cli(cp, "renew", "certificate/web", "-n", ns, "--yes") == 0
    capsys.readouterr()
    lines = (state_dir / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["fix"] == "renew"


def _run_on_tty(argv: list[str], answer: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout, answer its prompt."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kubectl_certdoctor", *argv], stdin=slave,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    buf = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        if not answered and b"to confirm: " in buf:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    rc = proc.wait(10)
    os.close(master)
    return rc, buf.decode("utf-8", "replace")


def test_typed_confirmation_on_a_terminal(cp: Any, admin: Connection, ns: str,
                                          state_dir: Path) -> None:
    import os

    world = failed_cert_world(admin, ns, failed=2)
    env = {**os.environ, "CERTDOCTOR_STATE_DIR": str(state_dir)}
    argv = ["fix", "clear-failed-requests", "certificate/web", "-n", ns,
            "--kubeconfig", str(cp.admin_kubeconfig), "--verify-timeout", "0"]
    rc, out = _run_on_tty(argv, "y", env)
    assert rc == 1 and "This deletes 2 objects" in out and "cancelled" in out
    for cr in world["bad"]:
        assert f.get(admin, "CertificateRequest", ns, cr["metadata"]["name"]) is not None
    rc, out = _run_on_tty(argv, "2", env)
    assert rc == 0, out
    for cr in world["bad"]:
        assert f.get(admin, "CertificateRequest", ns, cr["metadata"]["name"]) is None
    assert [e["result"] for e in audit.read_entries()] == ["cancelled", "applied"]


def test_clear_renews_on_the_fresh_certificate_but_stops_on_a_changed_request(
        admin: Connection, ns: str) -> None:
    """Deleting requests makes cert-manager touch the Certificate, so the final renew is
    rebased on the fresh object (keeping the other writer's change); a changed
    CertificateRequest, though, stops the plan before anything is deleted."""
    world = failed_cert_world(admin, ns, failed=1)
    cert_ref = Ref("Certificate", ns, "web")
    plan = _plan(admin, "clear-failed-requests", cert_ref)
    _label(admin, cert_ref)
    assert fixes.apply(admin, plan, read_only=False).ok
    cert = f.get(admin, "Certificate", ns, "web") or {}
    assert cert["metadata"]["labels"] == {"touched": "yes"}
    assert (condition(cert, "Issuing") or {}).get("reason") == "ManuallyTriggered"

    name = world["bad"][0]["metadata"]["name"]
    f.create(admin, f.request(name, ns, "web", 2, cert_uid=cert["metadata"]["uid"]), ns)
    f.create(admin, f.request("web-2-x", ns, "web", 2, cert_uid=cert["metadata"]["uid"]), ns)
    admin.json("PUT", f"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/web/status",
               body={**cert, "status": {**cert["status"], "conditions": [
                   c for c in cert["status"]["conditions"] if c["type"] != "Issuing"]}})
    plan = _plan(admin, "clear-failed-requests", cert_ref)
    assert [c.method for c in plan.calls] == ["DELETE", "DELETE", "PUT"]
    _label(admin, plan.calls[0].ref)
    with pytest.raises(fixes.ConflictError) as exc:
        fixes.apply(admin, plan, read_only=False)
    assert len(exc.value.result.results) == 1  # type: ignore[attr-defined]
    assert f.get(admin, "CertificateRequest", ns, name) is not None
    assert f.get(admin, "CertificateRequest", ns, "web-2-x") is not None


def test_conflict_on_the_patched_value_itself(admin: Connection, ns: str) -> None:
    """Another writer changed the very solver we patch: the JSON-patch ``test`` fails and
    that too is reported as a conflict, with the other writer's value kept."""
    w = acme_world(admin, ns)
    ref = Ref("Issuer", ns, "acme")
    plan = _plan(admin, "set-solver-ingress-class", ref)
    allowed, reason = fixes.rbac_check(admin, plan, read_only=False)
    assert allowed, reason
    from kubectl_certdoctor.fixes.model import object_path

    admin.json("PATCH", object_path(ref), body=[
        {"op": "replace", "path": "/spec/acme/solvers/0/http01/ingress/class",
         "value": "traefik"}], content_type="application/json-patch+json")
    dry = fixes.dry_run(admin, plan, read_only=False)
    assert dry.conflict, dry.lines()
    with pytest.raises(fixes.ConflictError):
        fixes.apply(admin, plan, read_only=False)
    now = f.get(admin, "Issuer", ns, "acme") or {}
    assert now["spec"]["acme"]["solvers"][0]["http01"]["ingress"] == {"class": "traefik"}
    assert w["public"] not in str(now["spec"])


def test_a_request_deleted_meanwhile_counts_as_done(admin: Connection, ns: str) -> None:
    world = failed_cert_world(admin, ns, failed=1)
    plan = _plan(admin, "clear-failed-requests", Ref("Certificate", ns, "web"))
    name = world["bad"][0]["metadata"]["name"]
    admin.json("DELETE", f"/apis/cert-manager.io/v1/namespaces/{ns}/certificaterequests/"
               f"{name}")
    done = fixes.apply(admin, plan, read_only=False)
    assert done.ok and done.results[0].already_gone and done.results[1].status == 200
    cert = f.get(admin, "Certificate", ns, "web") or {}
    assert (condition(cert, "Issuing") or {}).get("reason") == "ManuallyTriggered"


SEED_FIXES = [
    ("solver-ingress-class", "HTTP01_WRONG_INGRESS_CLASS", "set-solver-ingress-class"),
    ("failed-request-blocks-renewal", "CERTIFICATE_REQUEST_FAILED", "clear-failed-requests"),
    ("vault-403-old-cert-manager", "VAULT_PERMISSION_DENIED_NOT_RETRIED",
     "clear-failed-requests"),
    ("acme-egress-proxy", "PROXY_NO_PROXY_GAP", "add-no-proxy"),
]


@pytest.mark.parametrize("scenario,code,fix_id", SEED_FIXES,
                         ids=[f"{s}:{f_}" for s, _, f_ in SEED_FIXES])
def test_seed_scenario_fixed_through_the_cli(cp: Any, admin_api: Any, admin: Connection,
                                             ns: str, scenario: str, code: str, fix_id: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The seeds' situations, recreated in the API server: the fix the report needed is
    offered, dry-runs, applies, and afterwards planning it again finds nothing to do."""
    from datetime import UTC, datetime

    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.kinds import BY_NAME
    from kubectl_certdoctor.rules import run_rules
    from tests.support.apply import apply_scenario

    apply_scenario(admin_api, scenario, ns)
    now = datetime.now(UTC)
    spec = FIXES[fix_id]
    objs = read_objects(admin, spec, None, ns)
    for o in read_objects(admin, FIXES["renew"], None, ns):
        objs.add(o)
    for d in objs.of_kind("Deployment"):  # other tests' namespaces may still be terminating
        if d["metadata"]["namespace"] != ns:
            objs.remove("Deployment", d["metadata"]["namespace"], d["metadata"]["name"])
    findings = [fd for fd in run_rules(build_graph(objs, now), now) if fd.code == code]
    assert findings, f"{code} not diagnosed on the live copy of {scenario}"
    offered = {s.id: t for s, t in fixes.registry.offers(code, objs, findings[0].object,
                                                         read_only=False)}
    target = offered[fix_id]
    word = f"{BY_NAME[target.kind].plural}/{target.name}"
    assert cli(cp, fix_id, word, "-n", ns, "--dry-run") == 0
    assert cli(cp, fix_id, word, "-n", ns, "--yes") == 0, capsys.readouterr()
    capsys.readouterr()
    again = read_objects(admin, spec, target, ns)
    plan = fixes.plan(fix_id, again, target)
    assert plan.calls == [] and plan.noop_reason, plan.preview()
    assert [e["result"] for e in audit.read_entries()] == ["dry-run", "applied"]


def test_ctrl_c_while_verifying_leaves_the_change_audited(cp: Any, admin: Connection, ns: str,
                                                          state_dir: Path) -> None:
    """The write is audited the moment it is applied (fixes/workflow.py): a user who
    presses Ctrl-C while the CLI waits for the expected effect (no controller runs here,
    so it never comes) still leaves an "applied" entry behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    f.create(admin, f.certificate("web", ns, issuing="False", revision=1, attempts=0), ns)
    env = {**os.environ, "CERTDOCTOR_STATE_DIR": str(state_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl_certdoctor", "fix", "renew", "certificate/web", "-n", ns,
         "--yes", "--verify-timeout", "60s", "--kubeconfig", str(cp.admin_kubeconfig)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    assert proc.stdout is not None
    out = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "verifying (up to" not in out:
        line = proc.stdout.readline()
        if not line:
            break
        out += line
    assert "verifying (up to" in out, out
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, (proc.returncode, out + rest)
    assert "Traceback" not in out + rest, out + rest
    assert [e["result"] for e in audit.read_entries()] == ["applied"], out + rest
