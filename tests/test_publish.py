"""The sdist and wheel are publishable as built, and the tool installers people use
(pipx, uv) install the wheel into a fresh environment that kubectl then finds.

The wheel is built from the sdist (``python -m build`` without --sdist/--wheel), so a file
missing from the sdist breaks the wheel here rather than for a downstream packager.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

from kubectl_certdoctor import __version__
from tests.test_packaging import _ignore

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
URLS = {"Homepage", "Source", "Issues", "Documentation"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("publish")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)
    out = tmp / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                           str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("kubectl_certdoctor-*.whl")
    return wheel


def _sdist(dist: Path) -> Path:
    (sdist,) = dist.glob("kubectl_certdoctor-*.tar.gz")
    return sdist


def _metadata(dist: Path) -> Message:
    with zipfile.ZipFile(_wheel(dist)) as zf:
        text = zf.read(f"kubectl_certdoctor-{__version__}.dist-info/METADATA").decode()
    return HeaderParser().parsestr(text)


def test_twine_check_is_clean(dist: Path) -> None:
    out = subprocess.run([str(VENV_BIN / "twine"), "check", "--strict", str(_wheel(dist)),
                          str(_sdist(dist))], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("PASSED") == 2, out.stdout
    assert "WARNING" not in out.stdout + out.stderr


def test_metadata_is_complete(dist: Path) -> None:
    md = _metadata(dist)
    assert md["Name"] == "kubectl-certdoctor" and md["Version"] == __version__
    assert md["Summary"] and md["Requires-Python"] == ">=3.11"
    assert md["License-Expression"] == "Apache-2.0"
    assert md.get_all("License-File") == ["LICENSE"]
    assert md["Description-Content-Type"] == "text/markdown"
    assert md.get_payload().lstrip().startswith("# kubectl-certdoctor")
    urls = dict(u.split(", ", 1) for u in md.get_all("Project-URL") or [])
    assert set(urls) >= URLS and all(u.startswith("https://") for u in urls.values())
    classifiers = md.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: expression
    assert md["Author"] or md["Author-email"]
    with zipfile.ZipFile(_wheel(dist)) as zf:
        lic = zf.read(f"kubectl_certdoctor-{__version__}.dist-info/licenses/LICENSE")
        assert lic == (ROOT / "LICENSE").read_bytes()
        entry_points = zf.read(f"kubectl_certdoctor-{__version__}.dist-info/entry_points.txt")
        assert b"kubectl-certdoctor = " in entry_points
        assert b"kubectl_complete-certdoctor = " in entry_points


def test_sdist_carries_license_readme_and_sources(dist: Path) -> None:
    with tarfile.open(_sdist(dist)) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        pkg_info = tar.extractfile(f"kubectl_certdoctor-{__version__}/PKG-INFO")
        assert pkg_info is not None
        md = HeaderParser().parsestr(pkg_info.read().decode())
    assert {"LICENSE", "README.md", "pyproject.toml", "kubectl_certdoctor/cli.py",
            "screens/tree.py"} <= names
    assert md["License-Expression"] == "Apache-2.0"
    assert md.get_all("Project-URL") == _metadata(dist).get_all("Project-URL")


def _installer_env(home: Path, kubectl_dir: Path, *bins: Path) -> dict[str, str]:
    """A fresh user: its own HOME and PATH. The package caches and index settings of this
    machine are kept (PIP_*, certificates), so dependencies come as pip would get them."""
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("PIP_", "SSL_CERT", "REQUESTS_CA", "CURL_CA", "HTTP_PROXY",
                            "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"))}
    env.update({
        "HOME": str(home), "LANG": "C.UTF-8",
        "PATH": ":".join([*map(str, bins), str(kubectl_dir), "/usr/bin", "/bin"]),
        # reuse downloads between runs, never the installed environments
        "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"),
        "UV_CACHE_DIR": str(Path.home() / ".cache" / "uv"),
        "KUBECONFIG": str(home / "kc"),
    })
    if "PIP_FIND_LINKS" in os.environ:
        env["UV_FIND_LINKS"] = os.environ["PIP_FIND_LINKS"]
    return env


def _check_installed(bin_dir: Path, env: dict[str, str]) -> None:
    out = subprocess.run(["kubectl", "plugin", "list"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert str(bin_dir / "kubectl-certdoctor") in out.stdout, out.stdout + out.stderr
    out = subprocess.run(["kubectl", "certdoctor", "--version"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == f"kubectl-certdoctor {__version__}", out.stderr
    comp = subprocess.run(["kubectl_complete-certdoctor", "ch"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert comp.stdout.splitlines() == ["check", ":4"], comp.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_pipx_installs_the_wheel(dist: Path, tmp_path: Path) -> None:
    from tests.support.controlplane import locate_testbin

    home, bin_dir = tmp_path / "home", tmp_path / "home" / ".local" / "bin"
    home.mkdir()
    env = _installer_env(home, locate_testbin(), bin_dir)
    env.update({"PIPX_HOME": str(home / "pipx"), "PIPX_BIN_DIR": str(bin_dir),
                "PIPX_MAN_DIR": str(home / "man")})
    out = subprocess.run([sys.executable, "-m", "pipx", "install", "--python",
                          sys._base_executable, str(_wheel(dist))],
                         env=env, capture_output=True, text=True, timeout=840)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    _check_installed(bin_dir, env)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_uv_tool_installs_the_wheel(dist: Path, tmp_path: Path) -> None:
    from tests.support.controlplane import locate_testbin

    home, bin_dir = tmp_path / "home", tmp_path / "home" / ".local" / "bin"
    home.mkdir()
    env = _installer_env(home, locate_testbin(), bin_dir)
    env.update({"UV_TOOL_DIR": str(home / "uv-tools"), "UV_TOOL_BIN_DIR": str(bin_dir),
                "UV_PYTHON_DOWNLOADS": "never", "UV_NATIVE_TLS": "1"})
    out = subprocess.run([str(VENV_BIN / "uv"), "tool", "install", "--python",
                          sys._base_executable, str(_wheel(dist))],
                         env=env, capture_output=True, text=True, timeout=840)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    _check_installed(bin_dir, env)
