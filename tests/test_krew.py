"""krew for real: the archive ``scripts/release build`` makes, installed by a real krew
(built from the sigs.k8s.io/krew module by ``scripts/krewbin``) with the manifest
``scripts/release manifest`` renders, run through a real kubectl.

Every install is local (``--archive``) into a temporary HOME/KREW_ROOT, with HTTP(S)
proxies pointing at a closed port so that a download attempt would fail the test. The
archive and krew are built once and cached (~/.cache/kubectl-certdoctor/release and
krewbin), so after the first run these tests take seconds.
"""

from __future__ import annotations

import copy
import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_certdoctor import __version__
from tests.support.krew import (
    Krew,
    build_archive,
    index_guidelines,
    krew_user,
    locate_krewbin,
    render_manifest,
    validate,
)
from tests.test_completion import bash_complete_kubectl

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "krew-manifest.yaml"
RELEASE = runpy.run_path(str(ROOT / "scripts" / "release"))
SCENARIO = ROOT / "kubectl_certdoctor" / "scenarios" / "failed-request-blocks-renewal.yaml"
HOST = ("linux", "amd64")


def _committed() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMMITTED.read_text())
    return doc


def _labels(pl: dict[str, Any]) -> tuple[str, str]:
    m = pl["selector"]["matchLabels"]
    return m["os"], m["arch"]


def test_committed_manifest_follows_the_krew_index_guidelines() -> None:
    doc = _committed()
    assert index_guidelines(doc) == []
    assert doc["metadata"]["name"] == "certdoctor"
    # the caveats tell krew users how to get completion (krew cannot install the helper)
    assert "certdoctor completion kubectl" in doc["spec"]["caveats"]
    assert "kubectl_complete-certdoctor" in doc["spec"]["caveats"]
    for pl in doc["spec"]["platforms"]:
        names = [f["from"] for f in pl["files"]]
        assert names == ["kubectl-certdoctor", "_internal", "LICENSE"]
        assert pl["bin"] == "kubectl-certdoctor"


def test_guidelines_reject_what_reviewers_reject() -> None:
    doc = copy.deepcopy(_committed())
    doc["spec"]["shortDescription"] = "x" * 51
    doc["spec"]["description"] += "Usage:\n  kubectl certdoctor check -A\n" + "y" * 81 + "\n"
    del doc["spec"]["caveats"]
    doc["spec"]["platforms"][0]["files"] = [{"from": "kubectl-certdoctor", "to": "."}]
    errs = index_guidelines(doc)
    assert any("50" in e for e in errs)
    assert any("usage" in e for e in errs)
    assert any("80 columns" in e for e in errs)
    assert any("caveats" in e for e in errs)
    assert any("LICENSE" in e for e in errs)


@pytest.mark.slow  # builds krew on first use (~1 min), cached after
@pytest.mark.timeout(1800)
def test_krew_index_validator_accepts_the_manifest(tmp_path: Path) -> None:
    """validate-krew-manifest is the check krew-index's CI runs on every pull request."""
    validator = locate_krewbin() / "validate-krew-manifest"
    good = tmp_path / "certdoctor.yaml"  # the validator wants <name>.yaml
    shutil.copyfile(COMMITTED, good)
    out = subprocess.run([str(validator), "-manifest", str(good), "-skip-install"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    bad = tmp_path / "bad" / "certdoctor.yaml"
    bad.parent.mkdir()
    doc = _committed()
    doc["spec"]["platforms"].append(copy.deepcopy(doc["spec"]["platforms"][0]))
    bad.write_text(yaml.safe_dump(doc))
    out = subprocess.run([str(validator), "-manifest", str(bad), "-skip-install"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0  # two entries for one platform: krew-index refuses it


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """This machine's archive (cached build) and the manifest rendered for it."""
    dist = tmp_path_factory.mktemp("dist")
    archive = build_archive(dist)
    manifest = dist / "certdoctor.yaml"
    return archive, manifest, render_manifest(dist, manifest)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_rendered_manifest_is_the_committed_one(
        release: tuple[Path, Path, dict[str, Any]]) -> None:
    """The committed manifest differs from a fresh render only in the sha256 (the archive
    of this source tree is not the released one): what is installed below is what users
    get."""
    _, _, rendered = release
    committed = _committed()
    assert validate(rendered, "certdoctor") == []
    by_platform = {_labels(pl): pl for pl in committed["spec"]["platforms"]}
    assert HOST in by_platform
    for pl in rendered["spec"]["platforms"]:
        want = {k: v for k, v in by_platform[_labels(pl)].items() if k != "sha256"}
        assert {k: v for k, v in pl.items() if k != "sha256"} == want
    assert {k: v for k, v in rendered["spec"].items() if k != "platforms"} == {
        k: v for k, v in committed["spec"].items() if k != "platforms"}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_krew_installs_the_archive_and_kubectl_runs_it(
        release: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> None:
    archive, manifest, _ = release
    k = krew_user(tmp_path / "home")
    out = k.install(manifest, archive)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "certdoctor completion kubectl" in out.stdout + out.stderr  # caveats shown
    k.local_index(manifest)
    listed = k.run("kubectl", "krew", "list")
    assert "certdoctor" in listed.stdout, listed.stderr

    store = k.root / "store" / "certdoctor" / f"v{__version__}"
    assert sorted(p.name for p in store.iterdir()) == ["LICENSE", "_internal",
                                                       "kubectl-certdoctor"]
    link = k.root / "bin" / "kubectl-certdoctor"
    assert link.is_symlink() and link.resolve() == store / "kubectl-certdoctor"
    assert str(link) in k.run("kubectl", "plugin", "list").stdout

    out = k.run("kubectl", "certdoctor", "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"kubectl-certdoctor {__version__}"
    out = k.run("kubectl", "certdoctor", "--help")
    assert out.returncode == 0 and "completion" in out.stdout, out.stderr
    out = k.run("kubectl", "certdoctor", "check", "--from-file", str(SCENARIO), "-o", "json",
                "--fail-on", "never")
    assert out.returncode == 0, out.stderr
    assert "CERTIFICATE_REQUEST_FAILED" in {f["code"] for f in json.loads(out.stdout)["findings"]}
    # the one-dir build unpacks nothing at start: no temp dir, nothing in HOME but krew
    assert list((k.home / "tmp").iterdir()) == []
    assert sorted(p.name for p in k.home.iterdir()) == [".krew", "tmp"]
    assert {p.name for p in k.root.iterdir()} == {"bin", "index", "receipts", "store"}

    # completion as the caveats say: the helper for kubectl, the script for the command
    helper = k.root / "bin" / "kubectl_complete-certdoctor"
    out = k.run("kubectl", "certdoctor", "completion", "kubectl")
    helper.write_text(out.stdout)
    helper.chmod(0o755)
    assert bash_complete_kubectl(["certdoctor", "ch"], k.env()) == ["check"]
    assert bash_complete_kubectl(["certdoctor", "completion", ""], k.env()) == [
        "bash", "zsh", "fish", "kubectl"]
    prog = ('source <(kubectl certdoctor completion bash); COMP_WORDS=(kubectl-certdoctor ch);'
            ' COMP_CWORD=1; _kubectl_certdoctor; printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "--norc", "-c", prog], env=k.env(), capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split() == ["check"], out.stderr

    out = k.run("kubectl", "krew", "uninstall", "certdoctor")
    assert out.returncode == 0, out.stderr
    assert not link.exists() and not store.exists()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_platform_entry_installs_with_krews_overrides(
        release: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> None:
    """KREW_OS/KREW_ARCH make krew pick another entry. Only this platform's archive can be
    built here, so it stands in for every platform's (same layout, its own sha256): each
    entry the renderer writes must install, link ``bin`` to an executable and ship the
    licence; a platform without an entry is refused."""
    archive, _, _ = release
    dist = tmp_path / "dist"
    dist.mkdir()
    for os_, arch in RELEASE["PLATFORMS"]:
        shutil.copyfile(archive, dist / RELEASE["archive_name"](os_, arch))
    manifest = tmp_path / "certdoctor.yaml"
    doc = render_manifest(dist, manifest)
    assert {_labels(pl) for pl in doc["spec"]["platforms"]} == set(RELEASE["PLATFORMS"])
    committed = {_labels(pl): pl for pl in _committed()["spec"]["platforms"]}
    for pl in doc["spec"]["platforms"]:
        os_, arch = _labels(pl)
        if (os_, arch) in committed:  # entries the workflow filled have the same layout
            assert committed[(os_, arch)]["files"] == pl["files"]
            assert committed[(os_, arch)]["bin"] == pl["bin"]
        k: Krew = krew_user(tmp_path / f"{os_}-{arch}")
        out = k.install(manifest, archive, KREW_OS=os_, KREW_ARCH=arch)
        assert out.returncode == 0, f"{os_}/{arch}: {out.stdout}{out.stderr}"
        store = k.root / "store" / "certdoctor" / f"v{__version__}"
        link = k.root / "bin" / "kubectl-certdoctor"
        assert link.resolve() == store / "kubectl-certdoctor"
        assert (store / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
        assert (store / "_internal").is_dir()
    k = krew_user(tmp_path / "windows")
    out = k.install(manifest, archive, KREW_OS="windows", KREW_ARCH="amd64")
    assert out.returncode != 0


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_start_benchmark_runs(release: tuple[Path, Path, dict[str, Any]],
                              tmp_path: Path) -> None:
    """``python -m benchmarks.krew_start`` (numbers in BENCHMARKS.md) cannot rot: one run,
    no timing asserted here."""
    archive, _, _ = release
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.krew_start", "--runs", "1",
                           "--json", str(out), "--archive", str(archive)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    for key in ("krew_help_ms", "krew_help_cpu_ms", "krew_version_ms", "pip_help_ms",
                "kubectl_client_version_ms"):
        assert res[key] > 0, key
