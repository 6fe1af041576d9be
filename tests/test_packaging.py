"""The wheel ships what the source tree holds: every module (``screens/`` as
``kubectl_certdoctor.screens``, never a stray top-level ``screens`` package), the
scenario YAML, styles, and the ``kubectl-certdoctor`` console script."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: top-level entries that are not sources (and may be large or busy)
_SKIP_TOP = {".venv", ".git", "build", "dist", ".lab", "test-results", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", ".hypothesis", "lab", "hack"}


def _ignore(directory: str, names: list[str]) -> list[str]:
    top = Path(directory) == ROOT
    return [n for n in names if n == "__pycache__" or n.endswith(".egg-info")
            or (top and n in _SKIP_TOP)]


def _source_files(top: str, pattern: str) -> set[Path]:
    return {p.relative_to(ROOT / top) for p in (ROOT / top).rglob(pattern)
            if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build from a copy of the tree, so parallel builds never share build/ or egg-info."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)
    out = tmp / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                           "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("kubectl_certdoctor-*.whl"))
    assert len(wheels) == 1, wheels
    return zipfile.ZipFile(wheels[0])


def _names(wheel: zipfile.ZipFile) -> set[str]:
    return set(wheel.namelist())


def test_every_package_module_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    want = {f"kubectl_certdoctor/{p.as_posix()}" for p in _source_files("kubectl_certdoctor",
                                                                         "*.py")}
    assert "kubectl_certdoctor/cli.py" in want
    missing = sorted(want - _names(wheel))
    assert not missing, f"modules missing from the wheel (pyproject packages?): {missing}"


def test_screens_ship_inside_the_package(wheel: zipfile.ZipFile) -> None:
    want = {f"kubectl_certdoctor/screens/{p.as_posix()}"
            for p in _source_files("screens", "*.py")}
    assert want, "screens/ has no modules"
    assert not sorted(want - _names(wheel))
    stray = sorted(n for n in _names(wheel)
                   if n.split("/", 1)[0] in ("screens", "tests", "scripts", "lab"))
    assert not stray, f"stray top-level entries: {stray}"


def test_scenarios_and_styles_are_included(wheel: zipfile.ZipFile) -> None:
    yamls = {f"kubectl_certdoctor/scenarios/{p.as_posix()}"
             for p in _source_files("kubectl_certdoctor/scenarios", "*.yaml")}
    assert yamls, "the scenario library has no YAML files"
    assert not sorted(yamls - _names(wheel)), "scenario YAML missing (package-data?)"
    styles = {f"kubectl_certdoctor/{p.as_posix()}"
              for p in _source_files("kubectl_certdoctor", "*.tcss")}
    styles |= {f"kubectl_certdoctor/screens/{p.as_posix()}"
               for p in _source_files("screens", "*.tcss")}
    assert not sorted(styles - _names(wheel))
    assert "kubectl_certdoctor/py.typed" in _names(wheel)


def test_console_script_entry_point(wheel: zipfile.ZipFile) -> None:
    ep_name = next(n for n in _names(wheel) if n.endswith(".dist-info/entry_points.txt"))
    cp = configparser.ConfigParser()
    cp.read_string(wheel.read(ep_name).decode())
    scripts = dict(cp["console_scripts"])
    assert scripts["kubectl-certdoctor"] == "kubectl_certdoctor.entry:main"
