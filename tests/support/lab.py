"""The lab: cert-manager's real controllers, Pebble and bind9 on loopback.

Hand-written scenario YAML can drift from what cert-manager really writes, so
the lab runs the real thing against a test API server: our wiring of
cert-manager's controllers (``lab/controller``, built by ``scripts/labbin``),
Pebble (Let's Encrypt's test ACME server, with a listener certificate we
generate and hand to the ACME issuers as ``caBundle``) and Debian's bind9,
authoritative for ``lab.test`` with TSIG-signed dynamic updates (the RFC2136
DNS-01 provider's target). A small HTTP server on ``127.0.0.80:80`` plays an
ingress controller's default backend (404 for unknown paths), which is where
``web.lab.test`` points, so HTTP-01 self checks fail the way they do in the field.

Every process runs in its own session; their PIDs and start times are kept in
``<workdir>/lab.json`` so ``stop()`` works from another process too
(``scripts/lab down``) and can prove nothing is left behind.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.server
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LAB_ZONE = "lab.test"
TSIG_KEY_NAME = "lab-tsig"
#: the loopback address of the "ingress controller default backend"
BACKEND_ADDR = "127.0.0.80"
#: where the lab's cluster-scoped issuers keep their secrets
CLUSTER_RESOURCE_NAMESPACE = "cert-manager"
#: Pebble refuses orders for this name (its domainBlocklist): a real rejected order
BLOCKED_DOMAIN = f"blocked.{LAB_ZONE}"
#: the EAB key the second Pebble knows (no issuer of the lab presents it)
EAB_KID = "lab-partner"


class LabError(RuntimeError):
    """The lab could not start or stop cleanly; the message names the part and its log."""


def labbin() -> Path:
    """Build (once) and locate the controller and Pebble via ``scripts/labbin``."""
    out = subprocess.run(
        [str(REPO / "scripts" / "labbin")], check=False, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise LabError(f"scripts/labbin failed:\n{out.stderr[-4000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def named_binary() -> str:
    """Debian's bind9 puts ``named`` in /usr/sbin, often off a non-root PATH."""
    found = shutil.which("named") or (
        "/usr/sbin/named" if Path("/usr/sbin/named").exists() else None
    )
    if not found:
        raise LabError("bind9 is not installed (apt-get install -y bind9 bind9-utils)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host`` (also used for bind9's UDP, checked below)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((host, port))
            except OSError:
                continue
        return port
    raise LabError("no free loopback port")


# --------------------------------------------------------------------------- processes


@dataclass
class ProcInfo:
    """One lab process: enough to find it again (and not a recycled PID) from elsewhere."""

    name: str
    pid: int
    start_ticks: int
    log: str


def _start_ticks(pid: int) -> int | None:
    """Process start time from /proc (field 22), or None if the PID is gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def alive(proc: ProcInfo) -> bool:
    """True if this exact process (same PID and start time) still runs."""
    return _start_ticks(proc.pid) == proc.start_ticks


def _spawn(
    name: str,
    argv: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[subprocess.Popen[bytes], ProcInfo]:
    with log.open("ab") as out:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    ticks = _start_ticks(popen.pid)
    if ticks is None:
        popen.wait(5)
        raise LabError(f"{name} exited at once; see {log}")
    return popen, ProcInfo(name, popen.pid, ticks, str(log))


def terminate(
    proc: ProcInfo, popen: subprocess.Popen[bytes] | None = None, grace: float = 10.0
) -> None:
    """SIGTERM the process (its whole group if it leads one), SIGKILL after ``grace`` seconds."""
    if not alive(proc):
        if popen is not None:
            popen.poll()
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            # our processes lead their own session; others (the control plane's) may not
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)
            else:
                os.kill(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if popen is not None:
                popen.poll()
            if not alive(proc):
                return
            time.sleep(0.05)
    if popen is not None:
        popen.wait(5)
    if alive(proc):
        raise LabError(f"{proc.name} (pid {proc.pid}) survived SIGKILL")


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    log: str | None = None,
    watch: ProcInfo | None = None,
) -> None:
    """Poll ``check`` until true; fail with the log's tail if it times out or ``watch`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        if watch is not None and not alive(watch):
            break
        time.sleep(0.2)
    tail = ""
    if log:
        tail = "\n" + "\n".join(Path(log).read_text(errors="replace").splitlines()[-30:])
    raise LabError(f"{what} did not come up within {timeout:.0f}s{tail}")


# --------------------------------------------------------------------------- PKI


def _listener_pki(directory: Path) -> bytes:
    """A fresh CA and a 127.0.0.1/localhost listener certificate for Pebble; returns the CA PEM.

    Pebble ships a listener certificate that expires (2027-10-03) and that every
    Pebble user shares; ours is minted per lab and trusted only via ``caBundle``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "certdoctor lab pebble listener CA")]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pebble.lab.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                    x509.DNSName("pebble.lab.test"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem)
    (directory / "ca.pem").write_bytes(ca_pem)
    (directory / "cert.pem").write_bytes(leaf.public_bytes(pem))
    key_path = directory / "key.pem"
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return ca_pem


# --------------------------------------------------------------------------- the lab


@dataclass
class LabState:
    """What a running lab looks like from outside: ports, files, processes."""

    workdir: str
    kubeconfig: str
    dns_port: int = 0
    pebble_port: int = 0
    pebble_mgmt_port: int = 0
    #: a second Pebble that requires External Account Binding for every new account
    pebble_eab_port: int = 0
    pebble_eab_mgmt_port: int = 0
    unreachable_port: int = 0
    metrics_port: int = 0
    healthz_port: int = 0
    tsig_secret: str = ""
    pebble_ca_pem: str = ""
    backend: bool = False
    procs: list[ProcInfo] = field(default_factory=list)

    @property
    def acme_url(self) -> str:
        return f"https://127.0.0.1:{self.pebble_port}/dir"

    @property
    def acme_eab_url(self) -> str:
        return f"https://127.0.0.1:{self.pebble_eab_port}/dir"

    @property
    def unreachable_url(self) -> str:
        return f"https://127.0.0.1:{self.unreachable_port}/dir"

    @property
    def dns_server(self) -> str:
        return f"127.0.0.1:{self.dns_port}"

    def save(self) -> None:
        Path(self.workdir, "lab.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, workdir: Path) -> LabState:
        raw = json.loads((workdir / "lab.json").read_text())
        procs = [ProcInfo(**p) for p in raw.pop("procs")]
        return cls(**raw, procs=procs)


class Lab:
    """bind9 + Pebble + cert-manager's controllers for one API server (admin kubeconfig)."""

    def __init__(
        self, kubeconfig: Path | str, workdir: Path | str, bindir: Path | None = None
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.bindir = bindir
        self.state = LabState(workdir=str(self.workdir), kubeconfig=str(kubeconfig))
        self._popens: dict[int, subprocess.Popen[bytes]] = {}

    @classmethod
    def attach(cls, workdir: Path) -> Lab:
        """A handle on a lab started by another process (``scripts/lab down|status``)."""
        state = LabState.load(workdir)
        lab = cls(state.kubeconfig, workdir)
        lab.state = state
        return lab

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start DNS, the default backend, Pebble and the controller; stop all on failure."""
        bindir = self.bindir or labbin()
        try:
            self._start_dns()
            self._start_backend()
            self._start_pebble(bindir / "pebble")
            self._start_pebble(bindir / "pebble", eab=True)
            self._start_controller(bindir / "cert-manager-controller")
        except BaseException:
            self.stop()
            raise
        self.state.save()

    def stop(self) -> None:
        """Stop every lab process (controller first) and check none is left."""
        for proc in reversed(self.state.procs):
            terminate(proc, self._popens.get(proc.pid))
        leftover = self.leftover()
        if leftover:
            raise LabError(f"lab processes still running: {leftover}")
        self.state.procs = []
        if (self.workdir / "lab.json").exists():
            self.state.save()

    def leftover(self) -> list[str]:
        """Names and PIDs of lab processes still alive (empty after a clean stop)."""
        return [f"{p.name}:{p.pid}" for p in self.state.procs if alive(p)]

    def status(self) -> dict[str, bool]:
        """Process name → running."""
        return {p.name: alive(p) for p in self.state.procs}

    def _track(self, popen: subprocess.Popen[bytes], info: ProcInfo) -> ProcInfo:
        self._popens[info.pid] = popen
        self.state.procs.append(info)
        self.state.save()
        return info

    # -- bind9 -----------------------------------------------------------------

    def _start_dns(self) -> None:
        """bind9, authoritative for lab.test only, no recursion, TSIG-guarded updates."""
        d = self.workdir / "dns"
        d.mkdir(exist_ok=True)
        self.state.dns_port = free_port()
        self.state.tsig_secret = base64.b64encode(secrets.token_bytes(32)).decode()
        (d / "tsig.key").write_text(
            f'key "{TSIG_KEY_NAME}" {{\n  algorithm hmac-sha256;\n'
            f'  secret "{self.state.tsig_secret}";\n}};\n'
        )
        (d / "tsig.key").chmod(0o600)
        (d / f"{LAB_ZONE}.zone").write_text(
            "$TTL 5\n"
            f"@    IN SOA ns1.{LAB_ZONE}. hostmaster.{LAB_ZONE}. 1 60 60 600 5\n"
            f"@    IN NS  ns1.{LAB_ZONE}.\n"
            "ns1  IN A   127.0.0.1\n"
            f"web  IN A   {BACKEND_ADDR}\n"
            "pebble IN A 127.0.0.1\n"
        )
        (d / "named.conf").write_text(f"""include "{d}/tsig.key";
options {{
  directory "{d}";
  listen-on port {self.state.dns_port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{d}/named.pid";
  session-keyfile "{d}/session.key";
  managed-keys-directory "{d}";
  recursion no;
  allow-query {{ 127.0.0.1; }};
  allow-transfer {{ none; }};
  dnssec-validation no;
  notify no;
}};
controls {{ }};
zone "{LAB_ZONE}" {{
  type primary;
  file "{LAB_ZONE}.zone";
  allow-update {{ key "{TSIG_KEY_NAME}"; }};
}};
""")
        log = self.workdir / "named.log"
        argv = [named_binary(), "-g", "-c", str(d / "named.conf")]
        info = self._track(*_spawn("named", argv, log))
        wait_until(
            "bind9", lambda: self.resolve(f"ns1.{LAB_ZONE}") == ["127.0.0.1"], 20, str(log), info
        )

    def resolve(self, name: str, rdtype: str = "A") -> list[str]:
        """Ask the lab's bind9 directly (the way cert-manager's self check does)."""
        import dns.message
        import dns.query
        import dns.rcode

        reply = dns.query.udp(
            dns.message.make_query(name, rdtype), "127.0.0.1", port=self.state.dns_port, timeout=1
        )
        if reply.rcode() != dns.rcode.NOERROR:
            return []
        return [rd.to_text() for rrset in reply.answer for rd in rrset]

    # -- default backend ------------------------------------------------------------

    def _start_backend(self) -> None:
        """The 404 "default backend" on 127.0.0.80:80 (skipped if port 80 is not ours to bind)."""
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((BACKEND_ADDR, 80))
        except OSError:
            self.state.backend = False
            return
        log = self.workdir / "backend.log"
        info = self._track(
            *_spawn(
                "backend",
                [sys.executable, "-m", "tests.support.lab", "backend", BACKEND_ADDR, "80"],
                log,
                cwd=REPO,
            )
        )
        self.state.backend = True

        def answers_404() -> bool:
            try:
                urllib.request.urlopen(f"http://{BACKEND_ADDR}/", timeout=1)
            except urllib.error.HTTPError as err:
                return err.code == 404
            return False

        wait_until("default backend", answers_404, 10, str(log), info)

    # -- Pebble ----------------------------------------------------------------

    def _start_pebble(self, binary: Path, eab: bool = False) -> None:
        """Pebble; with ``eab`` a second instance whose policy requires External Account
        Binding (``externalAccountBindingRequired``, one MAC key no issuer presents)."""
        d = self.workdir / "pebble"
        d.mkdir(exist_ok=True)
        if not eab:
            self.state.pebble_ca_pem = _listener_pki(d).decode()
            self.state.pebble_port = free_port()
            self.state.pebble_mgmt_port = free_port()
            self.state.unreachable_port = free_port()  # reserved, never listened on
            port, mgmt, name, url = (
                self.state.pebble_port, self.state.pebble_mgmt_port, "pebble", self.state.acme_url)
        else:
            self.state.pebble_eab_port = free_port()
            self.state.pebble_eab_mgmt_port = free_port()
            port, mgmt, name, url = (
                self.state.pebble_eab_port,
                self.state.pebble_eab_mgmt_port,
                "pebble-eab",
                self.state.acme_eab_url,
            )
        mac = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        config = {
            "pebble": {
                "listenAddress": f"127.0.0.1:{port}",
                "managementListenAddress": f"127.0.0.1:{mgmt}",
                "certificate": str(d / "cert.pem"),
                "privateKey": str(d / "key.pem"),
                "httpPort": 80,
                "tlsPort": 443,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": eab,
                "externalAccountMACKeys": {EAB_KID: mac} if eab else {},
                "domainBlocklist": [BLOCKED_DOMAIN],
                "retryAfter": {"authz": 1, "order": 1},
                "keyAlgorithm": "ecdsa",
                "profiles": {"default": {"description": "lab default", "validityPeriod": 7776000}},
            }
        }
        (d / f"{name}-config.json").write_text(json.dumps(config, indent=2))
        log = self.workdir / f"{name}.log"
        info = self._track(
            *_spawn(
                name,
                [
                    str(binary),
                    "-config",
                    str(d / f"{name}-config.json"),
                    "-dnsserver",
                    self.state.dns_server,
                ],
                log,
                env={
                    "PEBBLE_VA_NOSLEEP": "1",
                    "PEBBLE_WFE_NONCEREJECT": "0",
                    "PEBBLE_AUTHZREUSE": "0",
                },
                cwd=d,
            )
        )
        ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))

        def directory_ok() -> bool:
            with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
                return "newOrder" in json.load(resp)

        wait_until(name, directory_ok, 20, str(log), info)

    # -- controller ---------------------------------------------------------------

    def _start_controller(self, binary: Path) -> None:
        self.state.metrics_port = free_port()
        self.state.healthz_port = free_port()
        log = self.workdir / "controller.log"
        info = self._track(
            *_spawn(
                "controller",
                [
                    str(binary),
                    f"--kubeconfig={self.state.kubeconfig}",
                    f"--cluster-resource-namespace={CLUSTER_RESOURCE_NAMESPACE}",
                    f"--acme-http01-solver-nameservers={self.state.dns_server}",
                    f"--dns01-recursive-nameservers={self.state.dns_server}",
                    "--dns01-recursive-nameservers-only",
                    "--dns01-check-retry-period=2s",
                    f"--metrics-listen-address=127.0.0.1:{self.state.metrics_port}",
                    f"--internal-healthz-listen-address=127.0.0.1:{self.state.healthz_port}",
                    "--v=2",
                ],
                log,
            )
        )

        def live() -> bool:
            url = f"http://127.0.0.1:{self.state.healthz_port}/livez"
            with urllib.request.urlopen(url, timeout=1) as resp:
                return bool(resp.status == 200)

        wait_until("cert-manager controller", live, 30, str(log), info)


# --------------------------------------------------------------------------- backend


class _DefaultBackend(http.server.BaseHTTPRequestHandler):
    """What an ingress controller answers for a host/path it has no route for."""

    def do_GET(self) -> None:
        body = b"default backend - 404\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")
        sys.stderr.flush()


def _serve_backend(addr: str, port: int) -> None:
    server = http.server.ThreadingHTTPServer((addr, port), _DefaultBackend)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def iter_logs(workdir: Path) -> Iterator[Path]:
    """The lab's log files, for printing when something fails."""
    yield from sorted(workdir.glob("*.log"))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "backend":
        _serve_backend(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: python -m tests.support.lab backend ADDR PORT")
