"""``account``: does the ACME account belong to the issuer's server?

cert-manager records the account URL in the issuer's ``status.acme.uri``
(pkg/issuer/acme/setup.go, v1.21.1) and re-registers when its host differs
from ``spec.acme.server``'s host — the "ACME server URL host and ACME private
key registration host differ" line of seed 004. The account Secret is
sanitized in our snapshot, so only its presence is checked, never its key.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.probes.base import (
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Vantage,
    VantageResult,
    Verdict,
)
from kubectl_certdoctor.probes.common import combine
from kubectl_certdoctor.probes.nethttp import fetch_from_curl
from kubectl_certdoctor.probes.podrunner import PodPlacement
from kubectl_certdoctor.probes.runner import in_pods
from kubectl_certdoctor.probes.targets import params_from

CODE = "ACME_ACCOUNT_SERVER_MISMATCH"
UNREACHABLE = "ACME_SERVER_UNREACHABLE"
_NEW_ACCOUNT = re.compile(r'"newAccount"\s*:\s*"([^"]*)"')


def compare(server: str, account_uri: str, email: str = "", registered_email: str = "",
            secret: str = "", secret_found: bool | None = None) -> VantageResult:
    """Compare hosts exactly as setup.go does (url.Parse(...).Host, port included)."""
    s_host = urlsplit(server).netloc.rsplit("@", 1)[-1]
    a_host = urlsplit(account_uri).netloc.rsplit("@", 1)[-1]
    ev = [f"spec.acme.server {server or '-'} (host {s_host or '-'})",
          f"status.acme.uri {account_uri or '-'} (host {a_host or '-'})"]
    if secret:
        state = {True: "present", False: "MISSING", None: "not visible"}[secret_found]
        ev.append(f"account key Secret {secret}: {state}")
    if email or registered_email:
        ev.append(f"spec.acme.email {email or '-'}, last registered {registered_email or '-'}")
    data: dict[str, object] = {"server_host": s_host, "account_host": a_host}
    if not server:
        return VantageResult("local", Verdict.INCONCLUSIVE, "not an ACME issuer", ev, data)
    if not account_uri:
        why = "the account Secret is missing" if secret_found is False else (
            "cert-manager has not registered it yet, or registration keeps failing")
        return VantageResult("local", Verdict.INCONCLUSIVE,
                             f"no account registered ({why})", ev, data)
    if s_host != a_host:
        data["confirms"] = [CODE]
        return VantageResult(
            "local", Verdict.FAIL,
            f"account registered at {a_host} but the issuer points at {s_host}: cert-manager "
            "re-registers on every sync (\"ACME server URL host and ACME private key "
            "registration host differ\"); if that keeps failing, the server is unreachable "
            "from the controller — run the egress and dns probes", ev, data)
    if email and registered_email and email != registered_email:
        return VantageResult("local", Verdict.PASS,
                             f"account host matches ({a_host}); the email changed since "
                             "registration, cert-manager will update it", ev, data)
    return VantageResult("local", Verdict.PASS, f"account host matches the server ({s_host})",
                         ev, data)


def from_directory(vantage: str, base: VantageResult, d: dict[str, Any],
                   server: str) -> VantageResult:
    """The registration check seen from a pod: the ACME directory must answer there (the
    controller fetches it before every account check) and name its newAccount endpoint."""
    f = fetch_from_curl(d.get("fetch") or {}, server)
    m = _NEW_ACCOUNT.search(str((d.get("fetch") or {}).get("match", "")))
    ev = [f"GET {server}: {f.line()}", *base.evidence]
    data = dict(base.data)
    if f.error or f.status != 200:
        data["confirms"] = [UNREACHABLE]
        why = f.error or f"HTTP {f.status}"
        return VantageResult(vantage, Verdict.FAIL, f"the ACME directory does not answer from "
                             f"here ({why}): cert-manager cannot verify or register the "
                             "account", ev, data)
    if not m:
        return VantageResult(vantage, Verdict.FAIL, f"{server} answers but is not an ACME "
                             "directory (no newAccount)", ev, data)
    data["new_account"] = m.group(1)
    ev.insert(1, f"directory newAccount: {m.group(1)}")
    summary = f"directory reachable; {base.summary}"
    return VantageResult(vantage, base.verdict, summary, ev, data)


def execute(ctx: ProbeContext) -> ProbeResult:
    p = ctx.params
    if not p.server:
        raise UsageError("account needs an ACME Issuer or ClusterIssuer as target")
    vr = compare(p.server, p.account_uri, p.email, p.registered_email, p.account_secret,
                 p.account_secret_found)
    results: dict[str, VantageResult] = ctx.partial
    if ctx.runnable(Vantage.LOCAL):
        results["local"] = vr

    def interpret(v: Vantage, d: dict[str, Any]) -> VantageResult:
        return from_directory(v.value, vr, d, p.server)

    def env_for(v: Vantage, placement: PodPlacement) -> tuple[dict[str, str], list[str]]:
        from kubectl_certdoctor.probes.http01 import pod_proxy

        return pod_proxy(p.server, placement, p.no_proxy)

    results.update(in_pods(ctx, {"URL": p.server}, interpret, "account", env_for))
    return combine("account", results)


SPEC = ProbeSpec(
    id="account",
    title="ACME account registration host vs the issuer's server",
    confirms=(CODE, UNREACHABLE),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="Issuer/<name> or ClusterIssuer/<name>",
)
