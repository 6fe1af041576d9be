"""HTTP fetches from the workstation with our own name resolution.

httpx is asked for ``http://<address>/path`` with the real ``Host`` header
(and SNI), so a fetch can be aimed at one entry point, or resolved through
an explicit DNS server, and the address actually used is known. Redirects
are followed by hand to record each hop, as cert-manager's self-check
follows them.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from kubectl_certdoctor.probes.dnsutil import resolve_host, split_hostport

MAX_BODY = 512


@dataclass
class Fetch:
    """One fetch, after redirects."""

    url: str
    status: int | None = None
    server: str = ""
    body: str = ""
    address: str = ""
    elapsed: float = 0.0
    redirects: list[str] = field(default_factory=list)
    error: str = ""
    #: '', 'dns', 'connect', 'refused', 'timeout', 'tls', 'http'
    error_kind: str = ""
    #: the raw final body equals the key byte for byte (None: no key given / not known)
    exact: bool | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.url} via {self.address or '?'}: {self.error_kind} error: {self.error}"
        hops = f", {len(self.redirects)} redirect(s)" if self.redirects else ""
        srv = f", server {self.server}" if self.server else ""
        return (f"{self.url} via {self.address}: HTTP {self.status}{srv}{hops}, "
                f"{self.elapsed * 1000:.0f} ms")

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ssl_context(ca_pem: str = "") -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_pem.strip():
        ctx.load_verify_locations(cadata=ca_pem)
    return ctx


def _classify(exc: Exception) -> tuple[str, str]:
    import httpx

    msg = str(exc) or exc.__class__.__name__
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", msg
    if isinstance(exc, httpx.ConnectError):
        low = msg.lower()
        if "refused" in low:
            return "refused", msg
        if "ssl" in low or "certificate" in low:
            return "tls", msg
        return "connect", msg
    return "http", msg


def fetch(
    url: str,
    *,
    servers: list[str] | None = None,
    connect_to: str = "",
    timeout: float = 5.0,
    max_redirects: int = 10,
    ca_pem: str = "",
    verify: bool = True,
    key: str = "",
) -> Fetch:
    """GET ``url``; ``connect_to`` pins the first hop's address (an entry point).

    ``verify=False`` is cert-manager's self-check: a redirect to HTTPS with an invalid
    certificate is followed. With ``key``, :attr:`Fetch.exact` says whether the raw body
    is exactly the key (cert-manager compares the bytes, whitespace included)."""
    import httpx

    start = time.monotonic()
    result = Fetch(url=url)
    current = httpx.URL(url)
    pinned, pinned_port = split_hostport(connect_to) if connect_to else ("", 0)
    with httpx.Client(verify=ssl_context(ca_pem) if verify else False, timeout=timeout,
                      follow_redirects=False, trust_env=False) as client:
        for _hop in range(max_redirects + 1):
            host = current.host
            if pinned:
                addrs, err = resolve_host(pinned, servers or [], timeout)
            else:
                addrs, err = resolve_host(host, servers or [], timeout)
            if not addrs:
                result.error, result.error_kind = err, "dns"
                break
            addr = addrs[0]
            default_port = 443 if current.scheme == "https" else 80
            hostport = host if current.port in (None, default_port) else f"{host}:{current.port}"
            target = current.copy_with(host=addr)
            if pinned_port:
                target = target.copy_with(port=pinned_port)
            result.address = addr if not pinned_port else f"{addr}:{pinned_port}"
            try:
                resp = client.get(target, headers={"Host": hostport,
                                                   "User-Agent": "kubectl-certdoctor"},
                                  extensions={"sni_hostname": host})
            except Exception as e:  # httpx raises many types; all are a result here
                result.error_kind, result.error = _classify(e)
                break
            result.status = resp.status_code
            result.server = resp.headers.get("server", "")
            result.body = resp.text[:MAX_BODY]
            if key:
                result.exact = resp.content == key.encode()
            loc = resp.headers.get("location")
            if resp.is_redirect and loc:
                current = current.join(loc)
                result.redirects.append(str(current))
                pinned, pinned_port = "", 0  # later hops resolve normally
                continue
            break
        else:
            result.error, result.error_kind = f"more than {max_redirects} redirects", "http"
    result.elapsed = time.monotonic() - start
    return result


#: curl exit codes → our error kinds
CURL_ERRORS = {5: "dns", 6: "dns", 7: "connect", 28: "timeout", 35: "tls", 60: "tls",
               47: "http", 52: "http", 56: "connect", 97: "connect"}


def fetch_from_curl(d: dict[str, Any], url: str) -> Fetch:
    """Rebuild a :class:`Fetch` from the pod script's ``fetch`` JSON."""
    parts = str(d.get("w", "")).split()
    f = Fetch(url=url)
    code = parts[0] if parts else "000"
    if code.isdigit() and code != "000":
        f.status = int(code)
    f.address = parts[1] if len(parts) > 1 else ""
    try:
        f.elapsed = float(parts[4]) if len(parts) > 4 else 0.0
        hops = int(parts[5]) if len(parts) > 5 else 0
    except ValueError:
        hops = 0
    final = str(d.get("url", ""))
    if hops:
        f.redirects = [f"(hop {i + 1})" for i in range(hops - 1)] + [final]
    f.server = str(d.get("server", ""))
    f.body = str(d.get("body", ""))
    exact = d.get("exact")
    f.exact = exact if isinstance(exact, bool) else None
    rc = int(d.get("rc") or 0)
    if rc:
        err = str(d.get("err", "")) or f"curl exit code {rc}"
        kind = CURL_ERRORS.get(rc, "http")
        if kind == "connect" and "refused" in err.lower():
            kind = "refused"
        f.error, f.error_kind = err, kind
    return f
