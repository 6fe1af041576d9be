"""Distribution: the krew archive and the wheel work the way users install them.

These build real artifacts (PyInstaller one-dir, a wheel in a fresh venv), so
they are slow; they run in the normal suite because a broken install is the
first thing a user would hit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.support.krew import validate

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "kubectl_certdoctor" / "scenarios" / "failed-request-blocks-renewal.yaml"
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"


def _clean_env(path: str, home: Path) -> dict[str, str]:
    """No venv, no pyenv, no KUBECONFIG: what a fresh shell would have."""
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8"}


def test_committed_manifest_is_valid_for_krew() -> None:
    doc = yaml.safe_load((ROOT / "krew-manifest.yaml").read_text())
    assert validate(doc, "krew-manifest") == []
    assert doc["metadata"]["name"] == "certdoctor"
    for pl in doc["spec"]["platforms"]:
        assert pl["uri"].endswith(
            f"kubectl-certdoctor_{pl['selector']['matchLabels']['os']}"
            f"_{pl['selector']['matchLabels']['arch']}.tar.gz"
        )


def test_validator_rejects_broken_manifests() -> None:
    doc = yaml.safe_load((ROOT / "krew-manifest.yaml").read_text())
    doc["spec"]["platforms"][0]["sha256"] = "ABC"
    doc["metadata"]["name"] = "CertDoctor"
    doc["spec"]["shortDescription"] = "two\nlines"
    errs = validate(doc, "krew-manifest")
    assert any("sha256" in e for e in errs)
    assert any("kebab" in e for e in errs)
    assert any("line break" in e for e in errs)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_krew_archive_runs_without_python_on_path(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # built once per source tree (PyInstaller takes ~1.5 min), like the test control plane
    cache = Path.home() / ".cache" / "kubectl-certdoctor" / "release"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "release"), "build", "--dist",
                    str(dist), "--cache", str(cache)], check=True, capture_output=True)
    archive = dist / "kubectl-certdoctor_linux_amd64.tar.gz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert sorted({n.split("/")[0] for n in names}) == ["LICENSE", "_internal",
                                                            "kubectl-certdoctor"]
        # krew's untar handles files and directories only
        assert all(m.isfile() or m.isdir() for m in tar.getmembers())
        tar.extractall(tmp_path / "x", filter="data")
    binary = tmp_path / "x" / "kubectl-certdoctor"
    env = _clean_env(f"{tmp_path / 'x'}:{CLEAN_PATH}", tmp_path)

    out = subprocess.run(["kubectl", "certdoctor", "--version"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("kubectl-certdoctor ")

    out = subprocess.run([str(binary), "check", "--from-file", str(SCENARIO), "-o", "json",
                          "--fail-on", "never"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    codes = {f["code"] for f in json.loads(out.stdout)["findings"]}
    assert "CERTIFICATE_REQUEST_FAILED" in codes

    manifest = tmp_path / "plugin.yaml"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "release"), "manifest", "--dist",
                    str(dist), "--out", str(manifest)], check=True, capture_output=True)
    doc = yaml.safe_load(manifest.read_text())
    assert validate(doc, "krew-manifest") == []
    (pl,) = doc["spec"]["platforms"]
    digest = (dist / (archive.name + ".sha256")).read_text().split()[0]
    import hashlib

    assert pl["sha256"] == digest == hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_wheel_in_fresh_venv_is_found_by_kubectl(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = wheels.glob("kubectl_certdoctor-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # dependencies come from the dev venv's site-packages via pip's cache/index as usual
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True,
                   capture_output=True, timeout=540)
    env = _clean_env(f"{venv / 'bin'}:{CLEAN_PATH}", tmp_path)
    plugins = subprocess.run(["kubectl", "plugin", "list"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert str(venv / "bin" / "kubectl-certdoctor") in plugins.stdout
    out = subprocess.run(["kubectl", "certdoctor", "--version"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "kubectl-certdoctor" in out.stdout, out.stderr
    out = subprocess.run(["kubectl", "certdoctor", "check", "--from-file", str(SCENARIO),
                          "-o", "json", "--fail-on", "never"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["summary"]
    comp = subprocess.run(["kubectl_complete-certdoctor", "ch"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert comp.stdout.splitlines()[0] == "check"
    assert os.path.exists(venv / "bin" / "kubectl_complete-certdoctor")
