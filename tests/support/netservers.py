"""Real network servers on loopback for the probe tests.

Every server binds a 127.0.0.x address on a random port, runs in daemon
threads, and is a context manager that stops it. Nothing here ever connects
outside 127.0.0.0/8: the proxy refuses any destination it was not told about.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class _Stoppable:
    """Start in a thread on __enter__, shut down on __exit__."""

    server: socketserver.BaseServer

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HttpBackend(_Stoppable):
    """An ingress stand-in: answers ``routes`` (path → (status, body)), 404 otherwise."""

    def __init__(self, host: str, routes: dict[str, tuple[int, str]], server_name: str,
                 delay: float = 0.0) -> None:
        routes_ = routes
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                outer.hosts.append(self.headers.get("Host", ""))
                path = self.path.split("?", 1)[0]
                status, body = routes_.get(path, (404, "404 page not found\n"))
                data = body.encode()
                self.send_response(status)  # sends "Server: <server_version>"
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a: Any) -> None:
                pass

            server_version = server_name
            sys_version = ""

        self.hits = 0
        self.hosts: list[str] = []
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy a → b until EOF, then half-close b."""
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    t = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    t.start()
    _pipe(client, upstream)
    t.join(timeout=10)
    client.close()
    upstream.close()


def self_signed(hosts: list[str]) -> tuple[str, str]:
    """(cert PEM, key PEM) for ``hosts``: the TLS backend's identity and the client's CA."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


class HttpsBackend(HttpBackend):
    """:class:`HttpBackend` behind TLS with a self-signed certificate for ``cert_hosts``."""

    def __init__(self, host: str, routes: dict[str, tuple[int, str]], server_name: str,
                 cert_hosts: list[str], tmpdir: str) -> None:
        import os
        import ssl

        super().__init__(host, routes, server_name)
        self.ca_pem, key_pem = self_signed(cert_hosts)
        cert_file, key_file = os.path.join(tmpdir, "tls.crt"), os.path.join(tmpdir, "tls.key")
        with open(cert_file, "w") as f:
            f.write(self.ca_pem)
        with open(key_file, "w") as f:
            f.write(key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        srv: Any = self.server
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)


class RoundRobinProxy(_Stoppable):
    """A TCP load balancer (the seed-000 HAProxy): each new connection goes to the next backend."""

    def __init__(self, host: str, backends: list[tuple[str, int]]) -> None:
        cycle = itertools.cycle(backends)
        lock = threading.Lock()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with lock:
                    target = next(cycle)
                up = socket.create_connection(target, timeout=5)
                _relay(self.request, up)

        self.server = socketserver.ThreadingTCPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]


class ConnectProxy(_Stoppable):
    """An HTTP proxy: CONNECT tunnels and absolute-form GETs.

    ``routes`` maps the requested ``host:port`` to a loopback ``(ip, port)``;
    a destination not in it is refused with 502, so the proxy can reach
    "the outside" (a name only it resolves) while nothing leaves loopback.
    """

    def __init__(self, host: str, routes: dict[str, tuple[str, int]]) -> None:
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(65536).decode("latin-1").strip()
                headers = []
                while True:
                    h = self.rfile.readline(65536)
                    if h in (b"\r\n", b"\n", b""):
                        break
                    headers.append(h)
                method, target, _ = ([*line.split(" ", 2), "", "", ""])[:3]
                outer.requests.append(f"{method} {target}")
                for h in headers:
                    name, _, value = h.decode("latin-1").partition(":")
                    if name.strip().lower() == "proxy-authorization":
                        outer.auth.append(value.strip())
                if method == "CONNECT":
                    dest = routes.get(target)
                    if dest is None:
                        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                        return
                    up = socket.create_connection(dest, timeout=5)
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    _relay(self.connection, up)
                    return
                if target.startswith("http://"):
                    rest = target[len("http://"):]
                    hostport, _, path = rest.partition("/")
                    if ":" not in hostport:
                        hostport += ":80"
                    dest = routes.get(hostport)
                    if dest is None:
                        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        return
                    up = socket.create_connection(dest, timeout=5)
                    up.sendall(f"{method} /{path} HTTP/1.1\r\n".encode() + b"".join(headers)
                               + b"\r\n")
                    _relay(self.connection, up)
                    return
                self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        self.requests: list[str] = []
        #: every Proxy-Authorization header received ("Basic <base64>")
        self.auth: list[str] = []
        self.server = socketserver.ThreadingTCPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class DnsServer(_Stoppable):
    """A tiny authoritative+recursive-looking DNS server over UDP (dnspython messages).

    ``records`` maps an absolute name (``"acme.example.test."``, or a wildcard
    ``"*.corp.test."``) to ``{type: [rdata, ...]}``. Unknown names get
    NXDOMAIN; known names without that type get NOERROR/NODATA. Every query
    is logged in ``queries`` as ``"name TYPE"``.
    """

    def __init__(self, host: str, records: dict[str, dict[str, list[str]]]) -> None:
        outer = self
        self.records = {k.lower(): v for k, v in records.items()}
        self.queries: list[str] = []

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                q = dns.message.from_wire(data)
                sock.sendto(outer.answer(q).to_wire(), self.client_address)

        self.server = socketserver.ThreadingUDPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    def _lookup(self, name: str) -> dict[str, list[str]] | None:
        if name in self.records:
            return self.records[name]
        labels = name.split(".")
        for i in range(1, len(labels) - 1):
            wild = "*." + ".".join(labels[i:])
            if wild in self.records:
                return self.records[wild]
        return None

    def answer(self, q: Any) -> Any:
        resp = dns.message.make_response(q)
        resp.flags |= dns.flags.AA | dns.flags.RA
        question = q.question[0]
        name = question.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append(f"{name} {rdtype}")
        node = self._lookup(name)
        if node is None:
            resp.set_rcode(dns.rcode.NXDOMAIN)
            return resp
        values = node.get(rdtype, [])
        if not values and "CNAME" in node and rdtype != "CNAME":
            resp.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", *node["CNAME"]))
            return resp
        if values:
            resp.answer.append(dns.rrset.from_text(name, 60, "IN", rdtype, *values))
        return resp


def wait_port(host: str, port: int, timeout: float = 5.0) -> None:
    """Block until something accepts on host:port."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open")

