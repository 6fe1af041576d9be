"""One HTTP(S) request over a raw socket, directly or through an HTTP proxy, stage by stage.

httpx hides where a request failed; for egress we need to tell DNS from TCP
from the proxy's CONNECT from TLS from HTTP, with the time of each step.
"""

from __future__ import annotations

import base64
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from kubectl_certdoctor.probes.dnsutil import resolve_host
from kubectl_certdoctor.probes.nethttp import ssl_context


@dataclass
class Attempt:
    """How far one request got."""

    url: str
    mode: str  # 'direct' or 'proxy'
    via: str = ""
    status: int | None = None
    #: '' when it worked, else where it stopped: dns, connect, proxy-dns,
    #: proxy-connect, proxy, tls, http
    stage: str = ""
    error: str = ""
    address: str = ""
    t_dns: float = 0.0
    t_connect: float = 0.0
    t_tls: float = 0.0
    t_total: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.stage and self.status is not None

    def line(self) -> str:
        via = f" via {self.via}" if self.via else ""
        if self.ok:
            tls = f", TLS {self.t_tls * 1000:.0f} ms" if self.t_tls else ""
            tcp = f"TCP {self.t_connect * 1000:.0f} ms"
            return (f"{self.mode}{via}: HTTP {self.status} from {self.address} "
                    f"({tcp}{tls}, total {self.t_total * 1000:.0f} ms)")
        return f"{self.mode}{via}: failed at {self.stage}: {self.error}"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _status_line(sock: socket.socket | ssl.SSLSocket) -> tuple[int, str]:
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    first = buf.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {first[:80]!r}")
    return int(parts[1]), first


def _connect(host: str, port: int, servers: list[str], timeout: float,
             att: Attempt, dns_stage: str, conn_stage: str) -> socket.socket | None:
    t0 = time.monotonic()
    addrs, err = resolve_host(host, servers, timeout)
    att.t_dns = time.monotonic() - t0
    if not addrs:
        att.stage, att.error = dns_stage, err
        return None
    t1 = time.monotonic()
    last = ""
    for a in addrs:
        try:
            s = socket.create_connection((a, port), timeout=timeout)
        except TimeoutError:
            last = f"TCP connect to {a}:{port} timed out after {timeout:.0f}s"
            continue
        except OSError as e:
            last = f"TCP connect to {a}:{port}: {e.strerror or e}"
            continue
        att.t_connect = time.monotonic() - t1
        if not att.address:
            att.address = f"{a}:{port}"
        return s
    att.t_connect = time.monotonic() - t1
    att.stage, att.error = conn_stage, last
    return None


def request(url: str, *, proxy: str = "", servers: list[str] | None = None,
            timeout: float = 5.0, ca_pem: str = "") -> Attempt:
    """GET ``url`` (directly, or through the HTTP proxy URL ``proxy``); never raises."""
    t0 = time.monotonic()
    u = urlsplit(url)
    host = u.hostname or ""
    https = u.scheme == "https"
    port = u.port or (443 if https else 80)
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    hostport = host if u.port is None else f"{host}:{port}"
    att = Attempt(url=url, mode="proxy" if proxy else "direct")
    servers = servers or []
    sock: socket.socket | ssl.SSLSocket | None = None
    try:
        if proxy:
            pu = urlsplit(proxy if "://" in proxy else "http://" + proxy)
            att.via = f"{pu.hostname}:{pu.port or 80}"
            sock = _connect(pu.hostname or "", pu.port or 80, servers, timeout, att,
                            "proxy-dns", "proxy-connect")
            if sock is None:
                return att
            auth = ""
            if pu.username:
                cred = f"{unquote(pu.username)}:{unquote(pu.password or '')}".encode()
                auth = f"Proxy-Authorization: Basic {base64.b64encode(cred).decode()}\r\n"
            if https:
                sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                             f"{auth}\r\n".encode())
                code, line = _status_line(sock)
                if code != 200:
                    att.stage, att.error = "proxy", f"proxy answered CONNECT with {line}"
                    return att
                target = path
            else:
                target = f"http://{hostport}{path}"
        else:
            sock = _connect(host, port, servers, timeout, att, "dns", "connect")
            if sock is None:
                return att
            auth = ""
            target = path
        if https:
            t1 = time.monotonic()
            try:
                sock = ssl_context(ca_pem).wrap_socket(sock, server_hostname=host)
            except (ssl.SSLError, OSError) as e:
                att.stage, att.error = "tls", str(e)
                return att
            att.t_tls = time.monotonic() - t1
        extra = auth if (proxy and not https) else ""
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {hostport}\r\n"
                     f"User-Agent: kubectl-certdoctor\r\n{extra}Connection: close\r\n\r\n"
                     .encode())
        att.status, _ = _status_line(sock)
        if proxy and not https and att.status in (502, 503, 504):
            att.error = f"the proxy answered {att.status}"
    except TimeoutError:
        att.stage, att.error = att.stage or "http", f"no answer within {timeout:.0f}s"
    except (OSError, ValueError) as e:
        att.stage, att.error = att.stage or "http", str(e)
    finally:
        if sock is not None:
            sock.close()
        att.t_total = time.monotonic() - t0
    return att
