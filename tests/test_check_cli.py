"""``kubectl certdoctor check``: rendering, exit codes, and the real CLI on bundles/demo."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

import tests.test_rules as samples
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.commands.check import exit_code
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.report import Summary, render_json, render_markdown, render_text
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.finding import Finding
from tests.support.diagnosis import NOW, certificate, cond, issuer, objset, request, ts


def broken_objects() -> list[dict]:
    """An error (failed request), a warning (backoff) and an info (old cert-manager)."""
    failed = request("c-2", "c", revision=2, conds=[
        cond("Approved", "True"),
        cond("Ready", "False", "Failed", "Failed to sign | with `backticks`: context deadline "
                                         "exceeded (Client.Timeout exceeded while awaiting "
                                         "headers)")])
    cert = certificate("c", ready="False", status={
        "revision": 1, "failedIssuanceAttempts": 1,
        "lastFailureTime": ts(-timedelta(minutes=17)), "notAfter": ts(timedelta(days=50))})
    return [issuer("iss"), cert, request("c-1", "c"), failed,
            samples.deployment("quay.io/jetstack/cert-manager-controller:v1.9.1")]


def findings() -> list[Finding]:
    return run_rules(build_graph(objset(*broken_objects()), NOW), NOW)


def summary() -> Summary:
    return Summary(objects_scanned=5, source="bundle:x.yaml", context="kind-test", generated=NOW)


def test_json_shape() -> None:
    doc = json.loads(render_json(findings(), summary()))
    assert set(doc) == {"findings", "summary"}
    assert [f["code"] for f in doc["findings"]] == [
        "CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF", "CERT_MANAGER_OUTDATED"]
    f0 = doc["findings"][0]
    assert set(f0) == {"code", "severity", "object", "title", "explanation", "evidence",
                       "probes", "fixes", "remedy"}
    assert all(f["remedy"] for f in doc["findings"])
    assert f0["object"] == {"kind": "CertificateRequest", "namespace": "default", "name": "c-2"}
    assert f0["fixes"] == ["clear-failed-requests", "renew"]
    s = doc["summary"]
    assert s["counts"] == {"error": 1, "warning": 1, "info": 1} and s["total"] == 3
    assert s["objects_scanned"] == 5 and s["source"] == "bundle:x.yaml"
    assert s["context"] == "kind-test" and s["generated"] == "2026-11-23T07:00:00Z"


def test_text_plain_and_colour() -> None:
    plain = render_text(findings(), summary())
    assert "\x1b[" not in plain
    assert "ERROR   CERTIFICATE_REQUEST_FAILED  CertificateRequest default/c-2" in plain
    assert "fix:      kubectl certdoctor fix clear-failed-requests certificate/c -n default" \
        in plain
    assert "1 error, 1 warning, 1 info in 5 objects." in plain
    assert "\x1b[" in render_text(findings(), summary(), colour=True)
    assert "No problems found in 5 objects." in render_text([], summary())


def test_markdown_is_ticket_ready() -> None:
    md = render_markdown(findings(), summary())
    assert md.startswith("### kubectl-certdoctor check: 1 error, 1 warning, 1 info")
    assert "| 1 | error | `CERTIFICATE_REQUEST_FAILED` | CertificateRequest default/c-2 |" in md
    # a pipe in a title cannot break the table; backticks in evidence cannot break code spans
    assert "Failed to sign \\| with" in md
    assert "- `` CertificateRequest.status.conditions[Ready]" in md
    assert "Fix: `kubectl certdoctor fix clear-failed-requests certificate/c -n default`" in md


@pytest.mark.parametrize(("fail_on", "want"), [("error", 1), ("warning", 1), ("never", 0)])
def test_exit_codes(fail_on: str, want: int) -> None:
    assert exit_code(findings(), fail_on) == want
    warn_only = [f for f in findings() if f.severity.value != "error"]
    assert exit_code(warn_only, "error") == 0
    assert exit_code(warn_only, "warning") == 1


# -- the real CLI --------------------------------------------------------------------------
def write_bundle(tmp_path: Path, objs: list[dict]) -> Path:
    p = tmp_path / "bundle.yaml"
    p.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objs}))
    return p


def test_cli_from_file_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("kubectl_certdoctor.bundle")
    p = write_bundle(tmp_path, broken_objects())
    rc = main(["check", "--from-file", str(p), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    codes = {f["code"] for f in doc["findings"]}
    assert {"CERTIFICATE_REQUEST_FAILED", "CERT_MANAGER_OUTDATED"} <= codes
    assert doc["summary"]["objects_scanned"] == 5
    assert main(["check", "--from-file", str(p), "--fail-on", "never"]) == 0
    capsys.readouterr()


def test_cli_namespace_filter_on_bundle(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("kubectl_certdoctor.bundle")
    p = write_bundle(tmp_path, broken_objects())
    rc = main(["check", "--from-file", str(p), "-n", "other", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["findings"] == [] and doc["summary"]["namespace"] == "other"


def test_cli_bad_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("kubectl_certdoctor.bundle")
    p = tmp_path / "junk.yaml"
    p.write_text("{{{ not yaml")
    assert main(["check", "--from-file", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "junk.yaml" in err and "Traceback" not in err


def test_cli_subprocess_pipe_has_no_colour(tmp_path: Path) -> None:
    pytest.importorskip("kubectl_certdoctor.bundle")
    p = write_bundle(tmp_path, broken_objects())
    r = subprocess.run([sys.executable, "-m", "kubectl_certdoctor", "check", "--from-file",
                        str(p), "-o", "markdown"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "\x1b[" not in r.stdout and "`CERTIFICATE_REQUEST_FAILED`" in r.stdout


def test_cli_demo_runs_offline(capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_certdoctor import scenarios

    if not hasattr(scenarios, "load_demo"):
        pytest.skip("scenario library not available yet")
    rc = main(["check", "--demo", "-o", "json", "--fail-on", "error"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"] and doc["summary"]["objects_scanned"] > 0
    assert rc == (1 if doc["summary"]["counts"]["error"] else 0)


def test_cli_captured_bundle_text(capsys: pytest.CaptureFixture[str]) -> None:
    """A bundle written by the real controller (lab capture), through the whole CLI."""
    path = (Path(__file__).resolve().parents[1] / "kubectl_certdoctor" / "scenarios" /
            "captured" / "lab-acme-unreachable.yaml")
    if not path.exists():
        pytest.skip("no captured lab bundle in the tree")
    rc = main(["check", "--from-file", str(path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "ACME_SERVER_UNREACHABLE  ClusterIssuer lab-acme-unreachable" in out
    assert "connect: connection refused" in out
