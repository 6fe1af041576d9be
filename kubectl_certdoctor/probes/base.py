"""The probe model: what a probe is, what it reports, and the events it streams.

A probe answers one question ("does the self-check URL serve the key?") from
one or more vantage points. Results keep every vantage point's answer so the
CLI and the TUI can show them side by side: the seed failures are exactly the
cases where the workstation and the cluster disagree.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.options import DEFAULT_PROBE_IMAGE

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from kubectl_certdoctor.objects import ObjectSet, Ref
    from kubectl_certdoctor.probes.podrunner import PodPlacement


def mask_userinfo(url: str) -> str:
    """``http://user:secret@proxy:3128`` → ``http://user:***@proxy:3128`` for display."""
    if "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    masked = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return f"{scheme}://{masked}" if sep else masked


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Vantage(StrEnum):
    """Where a probe runs from."""

    LOCAL = "local"
    POD = "pod"
    CERT_MANAGER = "cert-manager"


ALL_VANTAGES: tuple[Vantage, ...] = (Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER)
POD_VANTAGES: tuple[Vantage, ...] = (Vantage.POD, Vantage.CERT_MANAGER)


class Cancelled(Exception):
    """Raised inside a probe when the user cancelled it or its timeout passed."""


@dataclass
class Params:
    """Everything a probe may need; each probe reads the fields it knows.

    Filled from a selected object (``params_from``) or a CLI target; tests set
    the resolver/port fields so traffic stays on loopback.
    """

    #: the domain / host a probe is about (http01, dns, hairpin)
    domain: str = ""
    #: HTTP-01 token and the expected body (Challenge spec.key)
    token: str = ""
    key: str = ""
    #: "HTTP-01" or "DNS-01" when taken from a Challenge
    challenge_type: str = ""
    #: full URL when the probe is about one URL (http01, hairpin, egress)
    url: str = ""
    #: TCP port for http01 fetches (80 in the real world)
    port: int = 80
    #: candidate entry points (IPs/hostnames) for http01-backends
    candidates: list[str] = field(default_factory=list)
    #: where each candidate came from, e.g. {"192.0.2.1": "Service ingress/nginx"}
    candidate_sources: dict[str, str] = field(default_factory=dict)
    samples: int = 20
    #: resolvers as "ip" or "ip:port"; empty = the system resolver
    nameservers: list[str] = field(default_factory=list)
    #: resolv.conf emulation for the pod's resolver (dns probe)
    search: list[str] = field(default_factory=list)
    ndots: int = 5
    #: port of the zone's authoritative servers found by the NS walk (53 in the real world)
    dns_port: int = 53
    #: override the debug pod's own resolv.conf (tests, or trying a dnsConfig change)
    pod_nameserver: str = ""
    pod_search: list[str] = field(default_factory=list)
    pod_ndots: int = 0
    #: egress targets (URLs) and the proxy settings of the controller
    targets: list[str] = field(default_factory=list)
    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    #: in-cluster endpoints the controller talks to (API server, webhook): must bypass a proxy
    internal_targets: list[str] = field(default_factory=list)
    #: every challenge domain in scope (the self-check fetches them)
    challenge_domains: list[str] = field(default_factory=list)
    #: PEM CA bundle for TLS targets (the issuer's caBundle); "" = system store
    ca_pem: str = ""
    #: account probe: the issuer's server and recorded account URI
    server: str = ""
    account_uri: str = ""
    email: str = ""
    registered_email: str = ""
    account_secret: str = ""
    account_secret_found: bool | None = None
    #: per-operation network timeout (seconds)
    timeout: float = 5.0
    #: free-form notes on where the parameters came from (shown as evidence)
    origin: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in ("", [], {}, None)}
        for k in ("http_proxy", "https_proxy"):
            if k in out:
                out[k] = mask_userinfo(out[k])
        out.pop("ca_pem", None)
        return out


@dataclass
class Progress:
    """One streamed progress line."""

    message: str
    vantage: str = ""
    at: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        return f"[{self.vantage}] {self.message}" if self.vantage else self.message


@dataclass
class VantageResult:
    """What one vantage point saw."""

    vantage: str
    verdict: Verdict
    summary: str
    evidence: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    raw: str = ""
    #: not run: greyed out with this reason (read-only, forbidden, bundle)
    skipped: str = ""
    elapsed: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "vantage": self.vantage,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "data": self.data,
            "raw": self.raw,
            "skipped": self.skipped,
            "elapsed": round(self.elapsed, 3),
        }


@dataclass
class VantageDone(Progress):
    """One vantage finished: its result, streamed as soon as it is known (each vantage
    finishes on its own; the screen shows its verdict while the others still run). A
    ``Progress`` so every consumer of the stream (the CLI's lines) shows it as one."""

    result: VantageResult | None = None


class VantageResults(dict[str, VantageResult]):
    """``ProbeContext.partial``: every probe stores a vantage's result here the moment it
    has one, so storing it is what streams it (one mechanism for every probe, no probe
    has to remember to announce its results)."""

    def __init__(self, emit: Callable[[Progress], None]) -> None:
        super().__init__()
        self._emit = emit

    def __setitem__(self, key: str, value: VantageResult) -> None:
        if self.get(key) is value:
            return
        super().__setitem__(key, value)
        what = f"not run: {value.skipped}" if value.skipped else \
            f"done: {value.verdict.value} — {value.summary}"
        self._emit(VantageDone(what, key, result=value))

    def update(self, *args: Any, **kw: Any) -> None:
        for k, v in dict(*args, **kw).items():
            self[k] = v


@dataclass
class ProbeResult:
    """The end of a probe run."""

    probe: str
    verdict: Verdict
    summary: str
    evidence: list[str] = field(default_factory=list)
    raw: str = ""
    vantages: dict[str, VantageResult] = field(default_factory=dict)
    #: finding codes this run confirmed (fail verdicts that prove a finding)
    confirms: list[str] = field(default_factory=list)
    params: Params | None = None
    elapsed: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "confirms": list(self.confirms),
            "vantages": {k: v.to_json() for k, v in self.vantages.items()},
            "params": self.params.to_json() if self.params else {},
            "raw": self.raw,
            "elapsed": round(self.elapsed, 3),
        }


@dataclass
class ProbeContext:
    """What a running probe may use: parameters, vantages, progress, cancel, pods."""

    probe_id: str
    params: Params
    #: vantages to run, each mapped to '' (runnable) or the reason it is greyed out
    vantages: dict[Vantage, str]
    cancel: threading.Event
    emit: Callable[[Progress], None]
    api_client: ApiClient | None = None
    placements: dict[Vantage, PodPlacement] = field(default_factory=dict)
    image: str = DEFAULT_PROBE_IMAGE
    deadline: float = 0.0
    #: vantage results so far: kept when the run is cancelled or times out half-way;
    #: storing one streams it (``VantageResults``)
    partial: dict[str, VantageResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.partial, VantageResults):
            known, self.partial = self.partial, VantageResults(self.emit)
            self.partial.update(known)

    def progress(self, message: str, vantage: str = "") -> None:
        self.emit(Progress(message, vantage))

    def check(self) -> None:
        """Raise :class:`Cancelled` when the run was cancelled or timed out."""
        if self.cancel.is_set():
            raise Cancelled("cancelled")
        if self.deadline and time.monotonic() > self.deadline:
            raise Cancelled("timed out")

    def remaining(self, cap: float) -> float:
        """Seconds left before the deadline, at most ``cap``."""
        if not self.deadline:
            return cap
        return max(0.1, min(cap, self.deadline - time.monotonic()))

    def runnable(self, v: Vantage) -> bool:
        return v in self.vantages and not self.vantages[v]


ParamsFrom = Callable[["ObjectSet", "Ref | None"], Params]
Execute = Callable[[ProbeContext], ProbeResult]


@dataclass(frozen=True)
class ProbeSpec:
    """A registered probe."""

    id: str
    title: str
    #: finding codes a failing run confirms
    confirms: tuple[str, ...]
    vantages: tuple[Vantage, ...]
    execute: Execute
    params_from: ParamsFrom
    #: what the probe needs as a target, for help text
    target_help: str = ""
    default_timeout: float = 60.0
