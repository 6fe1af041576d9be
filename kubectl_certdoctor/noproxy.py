"""Go's proxy selection (golang.org/x/net/http/httpproxy), which cert-manager uses.

cert-manager is a Go program: whether it sends a request through HTTP(S)_PROXY
is decided by Go's rules, not curl's. Differences that bite people:

* ``example.com`` in NO_PROXY matches ``example.com`` *and* every subdomain;
  ``.example.com`` (and ``*.example.com``) match subdomains only, never the bare
  domain itself.
* IP addresses and CIDRs only match hosts written as IP literals; a CIDR never
  matches a host *name* that resolves into it (no DNS lookup happens).
* An entry may carry a port (``host:port``, ``[v6]:port``) and then only that
  port matches; ``*`` alone disables the proxy entirely.
* ``localhost`` and loopback IPs always go direct.
* https URLs use HTTPS_PROXY only (no fallback to HTTP_PROXY); http URLs use
  HTTP_PROXY; upper-case variables win over lower-case ones.

Transcribed from golang.org/x/net v0.56.0 http/httpproxy/proxy.go (useProxy,
config.init, canonicalAddr, parseProxy). The CGI rule (REQUEST_METHOD) is
deliberately ignored: a controller is never a CGI script.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network

_PORTS = {"http": "80", "https": "443", "socks5": "1080"}


def _split_host_port(s: str) -> tuple[str, str] | None:
    """Go's net.SplitHostPort: None on error (no port, too many colons, bad brackets)."""
    if s.startswith("["):
        end = s.find("]")
        if end < 0 or end + 1 >= len(s) or s[end + 1] != ":":
            return None
        host, port = s[1:end], s[end + 2:]
        if "[" in host or "]" in port or "[" in port:
            return None
        return host, port
    i = s.rfind(":")
    if i < 0:
        return None
    host, port = s[:i], s[i + 1:]
    if ":" in host or "[" in host or "]" in host or "]" in port:
        return None
    return host, port


def _parse_ip(s: str) -> IPAddr | None:
    """net.ParseIP / netip.ParseAddr (zones allowed, as netip allows them)."""
    try:
        return ipaddress.ip_address(s)
    except ValueError:
        return None


def _idna(s: str) -> str:
    if s.isascii():
        return s
    try:
        return ".".join(
            p.encode("idna").decode("ascii") if p and not p.isascii() else p
            for p in s.split(".")
        )
    except UnicodeError:
        return s


@dataclass
class NoProxy:
    """A parsed NO_PROXY value (Go's config.init)."""

    match_all: bool = False
    cidrs: list[IPNet] = field(default_factory=list)
    ips: list[tuple[IPAddr, str]] = field(default_factory=list)
    #: (suffix with leading dot, port, also match the bare host)
    domains: list[tuple[str, str, bool]] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str | None) -> NoProxy:
        np = cls()
        for raw in (value or "").split(","):
            p = raw.strip().lower()
            if not p:
                continue
            if p == "*":
                return cls(match_all=True)
            if "/" in p:
                try:
                    np.cidrs.append(ipaddress.ip_network(p, strict=False))
                    continue
                except ValueError:
                    pass
            hp = _split_host_port(p)
            if hp is not None:
                phost, pport = hp
                if not phost:
                    continue  # malformed (":1"): ignored, as Go does
                if phost.startswith("[") and phost.endswith("]"):
                    phost = phost[1:-1]
            else:
                phost, pport = p, ""
            ip = _parse_ip(phost) if "%" not in phost else None
            if ip is not None:
                np.ips.append((ip, pport))
                continue
            if not phost:
                continue
            if phost.startswith("*."):
                phost = phost[1:]
            match_host = False
            if not phost.startswith("."):
                match_host = True
                phost = "." + phost
            np.domains.append((_idna(phost), pport, match_host))
        return np

    def bypass(self, host: str, port: str) -> bool:
        """True when a request to host:port goes direct (Go's ``!useProxy``)."""
        if host == "localhost":
            return True
        ip = _parse_ip(host)
        if ip is not None and ip.is_loopback:
            return True
        if self.match_all:
            return True
        addr = host.strip().lower()
        if ip is not None:
            plain = ipaddress.ip_address(str(ip).split("%", 1)[0])
            for net in self.cidrs:
                if plain.version == net.version and plain in net:
                    return True
            for want, wport in self.ips:
                if _ip_equal(want, plain) and (not wport or wport == port):
                    return True
            return False  # domain entries never match IP literals
        for suffix, dport, match_host in self.domains:
            hit = addr.endswith(suffix) or (match_host and addr == suffix[1:])
            if hit and (not dport or dport == port):
                return True
        return False


def _ip_equal(a: IPAddr, b: IPAddr) -> bool:
    """net.IP.Equal: an IPv4 address equals its IPv4-mapped IPv6 form."""
    def v4(x: IPAddr) -> IPAddr:
        if isinstance(x, ipaddress.IPv6Address) and x.ipv4_mapped is not None:
            return x.ipv4_mapped
        return x
    return v4(a) == v4(b)


def matches_no_proxy(host: str, port: str | int, no_proxy: str | None) -> bool:
    """Does Go send a request for host:port direct (bypassing the proxy)?

    True for localhost/loopback (always direct) and for hosts NO_PROXY covers.
    ``host`` is a bare name or IP (IPv6 without brackets; brackets are stripped).
    """
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    return NoProxy.parse(no_proxy).bypass(_idna(h), str(port))


def _env(env: Mapping[str, str], *names: str) -> str:
    for n in names:
        v = env.get(n)
        if v:
            return v
    return ""


def parse_proxy(value: str) -> str | None:
    """Go's parseProxy: a bare 'host:port' or 'host' means http://host:port."""
    if not value:
        return None
    if "://" not in value:
        return "http://" + value
    scheme, rest = value.split("://", 1)
    if not scheme or not rest.split("/", 1)[0]:
        return "http://" + value
    return value


def _url_host_port(url: str) -> tuple[str, str, str]:
    """(scheme, hostname, port) as Go's url.URL Hostname()/Port() give them."""
    scheme, _, rest = url.partition("://")
    if not _:
        return "", "", ""
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    hostport = authority.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        end = hostport.find("]")
        host = hostport[1:end] if end > 0 else hostport[1:]
        tail = hostport[end + 1:] if end > 0 else ""
        port = tail[1:] if tail.startswith(":") and tail[1:].isdigit() else ""
    else:
        i = hostport.rfind(":")
        if i >= 0 and (hostport[i + 1:].isdigit() or hostport[i + 1:] == ""):
            host, port = hostport[:i], hostport[i + 1:]
        else:
            host, port = hostport, ""
    return scheme.lower(), unquote(host), port


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL Go would use for ``url`` given environment ``env``, or None for direct.

    ``env`` holds the controller's variables (HTTP_PROXY/http_proxy, HTTPS_PROXY/
    https_proxy, NO_PROXY/no_proxy).
    """
    scheme, host, port = _url_host_port(url)
    if scheme == "https":
        proxy = parse_proxy(_env(env, "HTTPS_PROXY", "https_proxy"))
    elif scheme == "http":
        proxy = parse_proxy(_env(env, "HTTP_PROXY", "http_proxy"))
    else:
        proxy = None
    if proxy is None:
        return None
    port = port or _PORTS.get(scheme, "")
    if NoProxy.parse(_env(env, "NO_PROXY", "no_proxy")).bypass(_idna(host), port):
        return None
    return proxy


def proxy_env(env: Mapping[str, str]) -> dict[str, str]:
    """The effective HTTP_PROXY / HTTPS_PROXY / NO_PROXY values (upper-case wins)."""
    return {
        "HTTP_PROXY": _env(env, "HTTP_PROXY", "http_proxy"),
        "HTTPS_PROXY": _env(env, "HTTPS_PROXY", "https_proxy"),
        "NO_PROXY": _env(env, "NO_PROXY", "no_proxy"),
    }


def bypass_entry(url: str) -> str:
    """The NO_PROXY entry that makes Go send ``url`` direct: the IP itself, or a domain
    suffix. Go matches ``.svc`` only against names that end in ``.svc``, so names under
    ``cluster.local`` (``x.ns.svc.cluster.local``) need ``.cluster.local``."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if _parse_ip(host) is not None:
        return host
    if host.endswith(".svc"):
        return ".svc"
    if host.endswith(".cluster.local"):
        return ".cluster.local"
    return host


def proxy_variable(url: str, env: Mapping[str, str]) -> str | None:
    """The NAME of the variable whose value Go would use as the proxy for ``url`` (e.g.
    ``HTTPS_PROXY`` or, when that is empty, ``https_proxy``), or None for direct.

    Lets a debug pod be told *which* of its own variables to hand to curl (``--proxy
    "$NAME"``) when the value itself is not known here: a ``valueFrom`` reference the
    kubelet resolves, or a value the snapshot shows redacted. Such variables may be given
    any non-empty placeholder in ``env``; only NO_PROXY's value matters for the decision.
    """
    if proxy_for(url, env) is None:
        return None
    scheme = _url_host_port(url)[0]
    names = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    for n in names:
        if env.get(n):
            return n
    return None
