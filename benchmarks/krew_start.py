"""Start-up of the krew-installed plugin, the way a krew user runs it.

    python -m benchmarks.krew_start [--runs 20] [--json FILE] [--onefile] [--archive TGZ]

Builds this platform's archive (``scripts/release build``, cached per source tree),
installs it with a real krew (``scripts/krewbin``) into a temporary KREW_ROOT with
``--archive`` (nothing downloaded), then times ``kubectl certdoctor --help`` and
``--version`` through a real kubectl (scripts/testbin's), warm: a few unmeasured runs
first, then the median of ``--runs``. For reference, the same for the pip-installed
console script of the dev venv, ``kubectl version --client`` (kubectl's own start, part
of every plugin call), and with ``--onefile`` a PyInstaller one-file build of the same
sources (the previous archive format; built here, not cached).

Target (issue 18, item 5): ``kubectl certdoctor --help`` < 300 ms warm.
"""

from __future__ import annotations

import argparse
import json
import platform
import runpy
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.krew import (  # noqa: E402
    build_archive,
    krew_user,
    median_ms,
    render_manifest,
)

TARGET_MS = 300.0


def _onefile(tmp: Path) -> Path:
    """A one-file build of the same sources, for the before/after comparison."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "pyinstaller>=6.10", str(ROOT)],
                   check=True)
    release = runpy.run_path(str(ROOT / "scripts" / "release"))
    subprocess.run([py, "-m", "PyInstaller", "--onefile", "--noconfirm", "--log-level", "WARN",
                    "--name", "kubectl-certdoctor", "--distpath", str(tmp / "out"),
                    "--workpath", str(tmp / "work"), "--specpath", str(tmp),
                    *release["PYINSTALLER_ARGS"]], check=True)
    return tmp / "out" / "kubectl-certdoctor"


def _measure(res: dict[str, Any], name: str, argv: list[str], env: dict[str, str],
             runs: int) -> None:
    med, times, cpu = median_ms(argv, env, runs=runs)
    res[name] = round(med, 1)
    res[name.replace("_ms", "_cpu_ms")] = round(cpu, 1)
    res[name.replace("_ms", "_all_ms")] = [round(t, 1) for t in times]


def _load() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


def run(runs: int, onefile: bool, prebuilt: Path | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "runs": runs,
        "machine": f"{platform.machine()} {platform.system()}, {_cpus()} CPUs",
        "load_before": _load(),
    }
    with tempfile.TemporaryDirectory(prefix="certdoctor-krew-bench-") as tmp_s:
        tmp = Path(tmp_s)
        dist = tmp / "dist"
        if prebuilt is None:
            archive = build_archive(dist)
        else:  # an archive built already (tests/test_krew.py passes its own)
            dist.mkdir()
            archive = dist / prebuilt.name
            shutil.copyfile(prebuilt, archive)
        manifest = dist / "certdoctor.yaml"
        render_manifest(dist, manifest)
        k = krew_user(tmp / "home")
        out = k.install(manifest, archive)
        if out.returncode != 0:
            raise SystemExit(f"krew install failed:\n{out.stdout}{out.stderr}")
        env = k.env()
        res["archive_mb"] = round(archive.stat().st_size / 1e6, 1)
        for name, argv in {
            "krew_help_ms": ["kubectl", "certdoctor", "--help"],
            "krew_version_ms": ["kubectl", "certdoctor", "--version"],
            "krew_direct_help_ms": [str(k.root / "bin" / "kubectl-certdoctor"), "--help"],
            "kubectl_client_version_ms": ["kubectl", "version", "--client"],
            "pip_help_ms": [str(ROOT / ".venv" / "bin" / "kubectl-certdoctor"), "--help"],
        }.items():
            _measure(res, name, argv, env, runs)
        if onefile:
            binary = _onefile(tmp / "onefile")
            _measure(res, "onefile_direct_help_ms", [str(binary), "--help"], env, runs)
    res["load_after"] = _load()
    res["target_ms"] = TARGET_MS
    res["met"] = res["krew_help_ms"] < TARGET_MS
    return res


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.krew_start")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--json", type=Path)
    p.add_argument("--archive", type=Path,
                   help="this platform's archive, built already (default: scripts/release build)")
    p.add_argument("--onefile", action="store_true",
                   help="also build and time a one-file binary (the previous format)")
    a = p.parse_args()
    res = run(a.runs, a.onefile, a.archive)
    text = json.dumps(res, indent=2)
    if a.json:
        a.json.write_text(text + "\n")
    print(text)
    print(f"\n| warm, median of {a.runs} | wall ms | CPU ms |\n|---|---|---|")
    for key in ("krew_help_ms", "krew_version_ms", "krew_direct_help_ms",
                "kubectl_client_version_ms", "pip_help_ms", "onefile_direct_help_ms"):
        if key in res:
            print(f"| {key} | {res[key]} | {res[key.replace('_ms', '_cpu_ms')]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
