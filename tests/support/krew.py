"""Structural validation of a krew v1alpha2 Plugin manifest.

Transcribes the checks krew itself runs (sigs.k8s.io/krew
internal/index/validation/validate.go: ValidatePlugin, validatePlatform,
validateFiles, validateSelector) plus the krew-index naming guide, so a
manifest that passes here is one krew would accept.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

SHA256 = re.compile(r"^[a-f0-9]{64}$")
SAFE_NAME = re.compile(r"^[\w-]+$")
# krew-index naming guide: lowercase, words separated by hyphens
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
WINDOWS_FORBIDDEN = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def validate(doc: Any, filename_stem: str) -> list[str]:
    """Every problem krew would report, empty when the manifest is valid."""
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["manifest is not a mapping"]
    if doc.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        errs.append(f"unsupported apiVersion {doc.get('apiVersion')!r}")
    if doc.get("kind") != "Plugin":
        errs.append(f"kind must be Plugin, not {doc.get('kind')!r}")
    name = (doc.get("metadata") or {}).get("name", "")
    if not SAFE_NAME.match(name) or name.upper() in WINDOWS_FORBIDDEN:
        errs.append(f"unsafe plugin name {name!r}")
    if not KEBAB.match(name):
        errs.append(f"plugin name {name!r} is not lowercase kebab-case")
    if name != filename_stem and filename_stem != "krew-manifest":
        errs.append(f"plugin should be named {filename_stem!r}, not {name!r}")
    spec = doc.get("spec") or {}
    short = spec.get("shortDescription", "")
    if not short:
        errs.append("should have a short description")
    elif "\n" in short or "\r" in short:
        errs.append("short description has a line break")
    elif len(short) > 50:
        errs.append("short description longer than 50 characters (krew-index guideline)")
    if not SEMVER.match(str(spec.get("version", ""))):
        errs.append(f"version {spec.get('version')!r} is not a v-prefixed semver")
    if not spec.get("description"):
        errs.append("should have a description")
    platforms = spec.get("platforms") or []
    if not platforms:
        errs.append("should have a platform specified")
    for i, pl in enumerate(platforms):
        where = f"platforms[{i}]"
        if not pl.get("uri"):
            errs.append(f"{where}: uri has to be set")
        if not SHA256.match(str(pl.get("sha256", ""))):
            errs.append(f"{where}: sha256 is not a lowercase hex sha256")
        if not pl.get("bin"):
            errs.append(f"{where}: bin has to be set")
        files = pl.get("files")
        if files is not None:
            if not files:
                errs.append(f"{where}: files has to be unspecified or non-empty")
            for f in files:
                if not f.get("from") or not f.get("to"):
                    errs.append(f"{where}: files need from and to")
        sel = pl.get("selector")
        if not sel or (not sel.get("matchLabels") and not sel.get("matchExpressions")):
            errs.append(f"{where}: empty selector is not supported")
        else:
            keys = list(sel.get("matchLabels") or {}) + [
                e.get("key") for e in sel.get("matchExpressions") or []
            ]
            errs += [f"{where}: selector key {k!r} not supported" for k in keys
                     if k not in ("os", "arch")]
    return errs


#: krew-index's review guide: a description says what the plugin does, not how to call it
_USAGE = re.compile(r"^\s*(\$ |kubectl |usage:|examples?:)", re.IGNORECASE | re.MULTILINE)


def index_guidelines(doc: dict[str, Any]) -> list[str]:
    """What krew-index reviewers ask of a new plugin beyond krew's own validation
    (https://krew.sigs.k8s.io/docs/developer-guide/develop/naming-guide/ and
    .../release/submitting-to-krew/): a name that does not repeat "kubectl" or "plugin",
    shortDescription of at most 50 characters, a description wrapped at 80 columns
    without usage examples, the licence shipped in every archive, caveats for anything
    a user must do after installing."""
    errs: list[str] = []
    name = (doc.get("metadata") or {}).get("name", "")
    if "kubectl" in name or "plugin" in name:
        errs.append(f"name {name!r} repeats kubectl/plugin")
    spec = doc.get("spec") or {}
    if len(spec.get("shortDescription", "")) > 50:
        errs.append("shortDescription longer than 50 characters")
    desc = spec.get("description", "")
    errs += [f"description line {i} wider than 80 columns" for i, line in
             enumerate(desc.splitlines(), 1) if len(line) > 80]
    if _USAGE.search(desc):
        errs.append("description contains usage examples (they belong in the homepage)")
    if not spec.get("homepage", "").startswith("https://"):
        errs.append("homepage is not an https URL")
    if not spec.get("caveats"):
        errs.append("no caveats")
    errs += [f"caveats line {i} wider than 80 columns" for i, line in
             enumerate(spec.get("caveats", "").splitlines(), 1) if len(line) > 80]
    for i, pl in enumerate(spec.get("platforms") or []):
        if not any(f.get("from") == "LICENSE" for f in pl.get("files") or []):
            errs.append(f"platforms[{i}]: LICENSE is not installed")
    return errs


def locate_krewbin() -> Path:
    """Run ``scripts/krewbin`` (builds krew on first use, cached after); its bin dir."""
    proc = subprocess.run([str(REPO / "scripts" / "krewbin")], capture_output=True, text=True,
                          timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/krewbin failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_archive(dist: Path) -> Path:
    """This platform's krew archive from ``scripts/release build``, built once per source
    tree (PyInstaller takes minutes) in ~/.cache/kubectl-certdoctor/release."""
    cache = Path.home() / ".cache" / "kubectl-certdoctor" / "release"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "release"), "build",
                           "--dist", str(dist), "--cache", str(cache)],
                          capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/release build failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def render_manifest(dist: Path, out: Path) -> dict[str, Any]:
    import yaml

    subprocess.run([sys.executable, str(REPO / "scripts" / "release"), "manifest", "--dist",
                    str(dist), "--out", str(out)], check=True, capture_output=True, timeout=120)
    doc: dict[str, Any] = yaml.safe_load(out.read_text())
    return doc


#: any HTTP(S) request krew or the plugin tried would go to this closed port and fail
NO_NETWORK_PROXY = "http://127.0.0.1:9"


@dataclass
class Krew:
    """A user's shell with krew: its own HOME and KREW_ROOT, kubectl and kubectl-krew on
    PATH, ``$KREW_ROOT/bin`` on PATH as krew's setup asks, and no network (a proxy on a
    closed port: ``install --archive`` must not download)."""

    home: Path
    krewbin: Path
    kubectl_dir: Path
    extra_env: dict[str, str] | None = None

    @property
    def root(self) -> Path:
        return self.home / ".krew"

    def env(self, **more: str) -> dict[str, str]:
        tmp = self.home / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env = {
            "HOME": str(self.home), "KREW_ROOT": str(self.root), "TMPDIR": str(tmp),
            "PATH": f"{self.root / 'bin'}:{self.krewbin}:{self.kubectl_dir}:/usr/bin:/bin",
            "LANG": "C.UTF-8", "KREW_NO_UPGRADE_CHECK": "1", "KUBECONFIG": str(self.home / "kc"),
            "HTTPS_PROXY": NO_NETWORK_PROXY, "HTTP_PROXY": NO_NETWORK_PROXY,
            "https_proxy": NO_NETWORK_PROXY, "http_proxy": NO_NETWORK_PROXY,
            "NO_PROXY": "", "no_proxy": "",
        }
        env.update(self.extra_env or {})
        env.update(more)
        return env

    def run(self, *argv: str, timeout: float = 120, **env: str,
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), env=self.env(**env), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def local_index(self, manifest: Path) -> None:
        """What ``kubectl krew update`` leaves (a git clone of krew-index; ``list`` and
        ``uninstall`` refuse to run without one), made locally: a git repository holding
        ``plugins/<name>.yaml``."""
        import shutil

        index = self.root / "index" / "default"
        (index / "plugins").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(manifest, index / "plugins" / "certdoctor.yaml")
        subprocess.run(["git", "init", "-q", str(index)], check=True, env=self.env(),
                       capture_output=True, timeout=60)

    def install(self, manifest: Path, archive: Path, **env: str,
                ) -> subprocess.CompletedProcess[str]:
        return self.run("kubectl", "krew", "install", "--manifest", str(manifest),
                        "--archive", str(archive), timeout=300, **env)


def krew_user(home: Path) -> Krew:
    from tests.support.controlplane import locate_testbin

    home.mkdir(parents=True, exist_ok=True)
    return Krew(home=home, krewbin=locate_krewbin(), kubectl_dir=locate_testbin())


def median_ms(argv: list[str], env: dict[str, str], runs: int = 15, warmup: int = 3,
              ) -> tuple[float, list[float], float]:
    """Median wall time of ``argv`` over ``runs`` runs after ``warmup`` unmeasured ones,
    every wall time, and the median CPU time (user + system of the process and its
    children, e.g. kubectl and the plugin it runs: what a machine without other load
    would see as wall time, start-up being CPU-bound once warm)."""
    import resource
    import statistics
    import time

    times, cpu = [], []
    for i in range(warmup + runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)
        wall = (time.perf_counter() - t0) * 1000
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i >= warmup:
            times.append(wall)
            cpu.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    return statistics.median(times), times, statistics.median(cpu)
