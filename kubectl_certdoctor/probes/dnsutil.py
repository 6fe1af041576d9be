"""Small DNS building blocks over dnspython: one query to one server, name splitting.

Queries go to explicit ``ip:port`` servers so tests can aim them at a
loopback server; an empty server list means the system resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field


@dataclass
class Answer:
    """One query's outcome: rcode-like status and the answer strings."""

    name: str
    rdtype: str
    status: str  # NOERROR, NODATA, NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT, ERROR
    records: list[str] = field(default_factory=list)
    #: CNAME targets seen on the way
    cnames: list[str] = field(default_factory=list)
    server: str = ""
    authoritative: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "NOERROR" and bool(self.records)

    def line(self) -> str:
        recs = ", ".join(self.records) if self.records else "-"
        via = f" @{self.server}" if self.server else ""
        return f"{self.name} {self.rdtype}{via}: {self.status} {recs}"


def split_hostport(s: str) -> tuple[str, int]:
    """'1.2.3.4', '1.2.3.4:8080', 'lb.example.test:80', '[::1]:80', '::1' → (host, port or 0)."""
    s = s.strip()
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 0
    if s.count(":") == 1:
        host, _, port = s.partition(":")
        return host, int(port) if port.isdigit() else 0
    return s, 0


def join_hostport(host: str, port: int) -> str:
    """The inverse of :func:`split_hostport` (brackets for IPv6)."""
    h = f"[{host}]" if ":" in host else host
    return f"{h}:{port}" if port else h


def parse_server(s: str, default_port: int = 53) -> tuple[str, int]:
    """'1.2.3.4', '1.2.3.4:5353', '::1', '[::1]:5353' → (ip, port)."""
    host, port = split_hostport(s)
    return host, port or default_port


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def system_nameservers() -> list[str]:
    """The nameservers of the local resolv.conf (for display and the NS walk)."""
    try:
        import dns.resolver

        return [str(n) for n in dns.resolver.Resolver().nameservers]
    except Exception:
        return []


def query(name: str, rdtype: str, server: str, timeout: float = 3.0,
          recurse: bool = True) -> Answer:
    """Ask ``server`` ('ip[:port]') one question; never raises."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    ip, port = parse_server(server)
    fq = name if name.endswith(".") else name + "."
    q = dns.message.make_query(fq, rdtype)
    if not recurse:
        q.flags &= ~dns.flags.RD
    try:
        resp = dns.query.udp(q, ip, port=port, timeout=timeout)
        if resp.flags & dns.flags.TC:
            resp = dns.query.tcp(q, ip, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return Answer(fq, rdtype, "TIMEOUT", server=server)
    except (OSError, dns.exception.DNSException) as e:
        return Answer(fq, rdtype, "ERROR", [str(e)], server=server)
    rcode = dns.rcode.to_text(resp.rcode())
    want = dns.rdatatype.from_text(rdtype)
    records: list[str] = []
    cnames: list[str] = []
    for rrset in resp.answer:
        for rd in rrset:
            if rrset.rdtype == want:
                records.append(rd.to_text())
            elif rrset.rdtype == dns.rdatatype.CNAME:
                cnames.append(rd.to_text())
    status = rcode
    if rcode == "NOERROR" and not records:
        status = "NODATA"
    return Answer(fq, rdtype, status, records, cnames, server,
                  bool(resp.flags & dns.flags.AA))


def query_any(name: str, rdtype: str, servers: list[str], timeout: float = 3.0) -> Answer:
    """Like a stub resolver: the first server that answers (not TIMEOUT/ERROR) wins."""
    if not servers:
        return system_query(name, rdtype, timeout)
    last = Answer(name, rdtype, "ERROR", ["no nameserver"])
    for s in servers:
        last = query(name, rdtype, s, timeout)
        if last.status not in ("TIMEOUT", "ERROR", "SERVFAIL", "REFUSED"):
            return last
    return last


def system_query(name: str, rdtype: str, timeout: float = 3.0) -> Answer:
    """The workstation's own resolver (resolv.conf), without search-list expansion."""
    import dns.exception
    import dns.resolver

    fq = name if name.endswith(".") else name + "."
    r = dns.resolver.Resolver()
    r.lifetime = timeout
    try:
        ans = r.resolve(fq, rdtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Answer(fq, rdtype, "NXDOMAIN", server="system")
    except dns.exception.Timeout:
        return Answer(fq, rdtype, "TIMEOUT", server="system")
    except dns.exception.DNSException as e:
        return Answer(fq, rdtype, "ERROR", [str(e)], server="system")
    records = [rd.to_text() for rd in ans.rrset] if ans.rrset is not None else []
    return Answer(fq, rdtype, "NOERROR" if records else "NODATA", records, server="system")


def resolve_host(host: str, servers: list[str], timeout: float = 3.0) -> tuple[list[str], str]:
    """Addresses for ``host`` (IPv4 first) and an error text when there are none."""
    host = host.strip("[]")
    if is_ip(host):
        return [host], ""
    if not servers:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as e:
            return [], f"cannot resolve {host}: {e}"
        addrs: list[str] = []
        for _fam, _, _, _, sa in infos:
            if str(sa[0]) not in addrs:
                addrs.append(str(sa[0]))
        addrs.sort(key=lambda a: ":" in a)
        return addrs, ""
    out: list[str] = []
    statuses = []
    for t in ("A", "AAAA"):
        a = query_any(host, t, servers, timeout)
        statuses.append(a.status)
        out += a.records
    if out:
        return out, ""
    return [], f"cannot resolve {host}: {'/'.join(statuses)}"


def parents(name: str) -> list[str]:
    """'a.b.example.test' → ['a.b.example.test.', 'b.example.test.', 'example.test.', 'test.']."""
    labels = [x for x in name.rstrip(".").split(".") if x]
    return [".".join(labels[i:]) + "." for i in range(len(labels))]
