"""Build the test node's two container images as one docker-archive tarball.

Nothing can be pulled on the test machines, so the images are assembled from the
host's own Debian binaries (``scripts/nodebin`` installs them):

* ``certdoctor.test/pause:<tag>``: Debian's static busybox; its entrypoint waits
  for SIGTERM (the sandbox image containerd starts for every pod);
* ``certdoctor.test/probe:<tag>``: the same busybox layer (sh, sed, tr, awk, head,
  mktemp, ...) plus curl and dig with the shared libraries ``ldd`` lists, which is
  every tool the debug-pod scripts in ``kubectl_certdoctor/probes/podscript.py`` call.

The tarball (manifest.json, config JSON, uncompressed layer tars) imports with
``ctr -n k8s.io images import``. Layers are deterministic (mtime 0, root owner).

Usage: python3 hack/node/images.py OUT.tar TAG
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

TOOLS = ("curl", "dig")
PAUSE_CMD = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; sleep 2147483647 & wait"]
ENV = ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]


class Layer:
    """An uncompressed layer tar built in memory."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        # closed by done()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.GNU_FORMAT)  # noqa: SIM115
        self.seen: set[str] = set()

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = kind, mode, 0, 0, 0
        ti.uname = ti.gname = "root"
        return ti

    def dir(self, path: str, mode: int = 0o755) -> None:
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.seen:
                self.seen.add(d)
                self.tar.addfile(self._info(d, tarfile.DIRTYPE, mode if d == path else 0o755))

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        path = path.strip("/")
        if path in self.seen:
            return
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        ti = self._info(path, tarfile.REGTYPE, mode)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))

    def symlink(self, path: str, target: str) -> None:
        path = path.strip("/")
        if path in self.seen:
            return
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        ti = self._info(path, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tar.addfile(ti)

    def done(self) -> bytes:
        self.tar.close()
        return self.buf.getvalue()


def which(cmd: str) -> str:
    path = shutil.which(cmd, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if not path:
        sys.exit(f"images.py: {cmd} is not installed")
    return path


def base_layer() -> bytes:
    """busybox and its applets, the directories a container expects, a nobody user."""
    layer = Layer()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "root",
              "var", "home"):
        layer.dir(d)
    layer.dir("tmp", 0o1777)
    layer.dir("var/tmp", 0o1777)
    bb = which("busybox")
    layer.file("bin/busybox", Path(bb).read_bytes(), 0o755)
    applets = subprocess.run([bb, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        if a != "bin/busybox":
            layer.symlink(a, "/bin/busybox")
    layer.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                             b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    layer.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    layer.file("etc/nsswitch.conf", b"hosts: files dns\n")
    return layer.done()


def tools_layer() -> bytes:
    """curl and dig at their Debian paths with every library ldd resolves for them."""
    layer = Layer()
    libs: dict[str, str] = {}
    for tool in TOOLS:
        path = which(tool)
        layer.file(f"usr/bin/{tool}", Path(path).read_bytes(), 0o755)
        out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.search(r"(/\S+) \(0x", line)
            if m:
                libs[m.group(1)] = os.path.realpath(m.group(1))
    for shown, real in sorted(libs.items()):
        # the path as the loader looks for it (a real directory here, no merged-usr links)
        layer.file(shown, Path(real).read_bytes(), 0o755)
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if ca.exists():
        layer.file(str(ca), ca.read_bytes())
    return layer.done()


def write_archive(out: Path, tag: str) -> None:
    layers = {"base": base_layer(), "tools": tools_layer()}
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in layers.items()}
    images: dict[str, tuple[list[str], dict[str, Any]]] = {
        f"certdoctor.test/pause:{tag}": (["base"], {"Entrypoint": PAUSE_CMD}),
        f"certdoctor.test/probe:{tag}": (["base", "tools"],
                                         {"Entrypoint": None, "Cmd": ["/bin/sh"]}),
    }
    manifest = []
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tar:
        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
            tar.addfile(ti, io.BytesIO(data))

        for k, data in layers.items():
            add(f"{digests[k]}/layer.tar", data)
        for ref, (names, cfg) in images.items():
            config = {
                "architecture": "amd64", "os": "linux",
                "config": {"Env": ENV, "WorkingDir": "/", **cfg},
                "rootfs": {"type": "layers",
                           "diff_ids": [f"sha256:{digests[n]}" for n in names]},
                "history": [{"created_by": f"hack/node/images.py ({n} layer)"} for n in names],
            }
            raw = json.dumps(config, sort_keys=True).encode()
            cfg_name = f"{hashlib.sha256(raw).hexdigest()}.json"
            add(cfg_name, raw)
            manifest.append({"Config": cfg_name, "RepoTags": [ref],
                             "Layers": [f"{digests[n]}/layer.tar" for n in names]})
        add("manifest.json", json.dumps(manifest).encode())
    tmp.replace(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    write_archive(Path(sys.argv[1]), sys.argv[2])
