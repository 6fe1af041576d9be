"""Diagnosis rules: pure functions over the object graph that return findings.

Each rule is ``(graph, now) -> list[Finding]``; rules never do IO and never
raise on malformed objects (tests feed them garbage). ``run_rules`` runs them
all and sorts worst first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.rules import (
    acme,
    acme_account,
    acme_orders,
    acme_solvers,
    certificates,
    components,
    dns01,
    dns01_config,
    dns01_provider,
    external,
    http01,
    issuer_setup,
    issuers,
    proxy,
    renewal,
    requests,
    secrets,
    shim,
    solver_pods,
    stuck,
    vault,
    versions,
)
from kubectl_certdoctor.rules.finding import RANK, Finding, Severity
from kubectl_certdoctor.rules.targets import attach_targets

Rule = Callable[[Graph, datetime], list[Finding]]

#: rules that judge one Certificate chain at a time (its Certificate, CertificateRequests,
#: Orders, Challenges, plus what they read around it: the issuer, the ingress set-up, the
#: Events of the chain's objects, its Challenges' solver Pods, the Secrets it or its issuer
#: names, the controller): after a change, ``analysis.Analyser`` runs these again for the
#: changed chains only, and ``graph_patch`` marks a chain changed when any of those inputs
#: changes (or rebuilds). A rule belongs here only if every finding it returns is on a node
#: of the chains it iterated over (``graph.of_kind`` of a chain kind), and it reads no other
#: chain.
CHAIN_RULES: tuple[Rule, ...] = (
    issuers.issuer_not_found,
    acme.acme_order_failed,
    acme.acme_rate_limited,
    http01.self_check_404,
    http01.wrong_ingress_class,
    http01.multiple_ingress_backends,
    http01.self_check_timeout,
    http01.self_check_redirect,
    dns01.dns01_propagation_pending,
    requests.request_failed,
    requests.request_denied,
    requests.request_not_approved,
    requests.vault_not_retried,
    certificates.issuance_backoff,
    certificates.certificate_expiring,
    certificates.certificate_expired,
    certificates.renew_before_too_short,
    certificates.secret_mismatch,
    # -- DNS-01 chain rules --
    dns01_provider.dns01_provider_permission_denied,
    dns01_provider.dns01_provider_credentials_invalid,
    dns01_provider.dns01_zone_not_found,
    dns01_provider.dns01_credentials_secret_not_found,
    dns01_provider.dns01_webhook_solver_unavailable,
    dns01_provider.dns01_ambient_credentials_disabled,
    # -- ACME chain rules --
    acme_solvers.acme_no_matching_solver,
    acme_solvers.acme_wildcard_needs_dns01,
    acme_solvers.http01_solver_ingress_rejected,
    acme_solvers.http01_gateway_route_not_accepted,
    acme_orders.acme_authorization_invalid,
    acme_orders.acme_caa_forbids,
    acme_orders.acme_dns_lookup_failed,
    acme_orders.acme_unsupported_identifier,
    acme_orders.common_name_too_long,
    http01.self_check_wrong_status,
    # -- Secret/key/renewal/Vault chain rules --
    vault.vault_auth_failed_requests,
    secrets.secret_is_acme_account_key,
    secrets.secret_is_ca_issuer_keypair,
    # -- solver pod and DNS-01 configuration chain rules --
    solver_pods.http01_solver_pod_rejected,
    solver_pods.http01_solver_pod_not_running,
    dns01_config.dns01_cname_not_followed,
    dns01_config.dns01_provider_config_invalid,
    # -- ingress-shim, external issuer and approval chain rules --
    external.external_issuer_not_responding,
    external.external_issuer_not_ready,
    external.external_issuer_permission_denied,
    renewal.certificate_renewal_loop,
    secrets.private_key_cannot_regenerate,
    secrets.secret_written_by_other_controller,
)
#: rules about issuers, the controller and anything that reads across chains (two
#: Certificates sharing a Secret): they run on every analysis, incremental or full, over
#: the whole graph, so each must stay cheap at 10,000 Certificates (iterate issuers and
#: components, or use the graph's indexes; never a per-object walk with costly look-ups).
#: A rule whose finding may land on a chain object but that reads another chain belongs
#: here, not in CHAIN_RULES.
WIDE_RULES: tuple[Rule, ...] = (
    issuers.issuer_not_ready,
    acme.acme_server_unreachable,
    acme.acme_account_server_mismatch,
    proxy.no_proxy_gap,
    versions.cert_manager_outdated,
    # -- DNS-01 wide rules --
    # -- ACME wide rules --
    acme_account.acme_account_key_secret_unreadable,
    acme_account.acme_account_registration_rejected,
    # -- Secret/key/renewal/Vault wide rules --
    secrets.secret_shared_by_certificates,
    vault.vault_auth_failed,
    vault.vault_path_issue_not_sign,
    # -- issuer set-up wide rules --
    issuer_setup.issuer_server_tls_untrusted,
    issuer_setup.ca_issuer_secret_not_found,
    issuer_setup.ca_issuer_keypair_invalid,
    components.webhook_not_running,
    # -- solver pod and DNS-01 configuration wide rules --
    # -- ingress-shim, external issuer and approval wide rules --
    shim.ingress_shim_no_tls,
    shim.gateway_shim_disabled,
    # -- controller/webhook wide rules --
    components.controller_not_running,
    components.webhook_ca_not_injected,
)
RULES: tuple[Rule, ...] = CHAIN_RULES + WIDE_RULES


def sort_key(f: Finding) -> tuple[int, str, Ref]:
    return (-RANK[f.severity], f.code, f.object)


def run_rules(graph: Graph, now: datetime, rules: Iterable[Rule] = RULES) -> list[Finding]:
    """Every rule's findings, worst first (then by code and object). With the full rule set
    the fallback runs last: a stuck Certificate no rule explained still gets a finding."""
    out: list[Finding] = []
    for rule in rules:
        out.extend(rule(graph, now))
    if rules is RULES:
        out = step_back(out)
        out.extend(stuck.unexplained(graph, now, out))
    attach_targets(graph, out)
    return sorted(out, key=sort_key)


#: a finding that is only a vaguer name or a consequence of a cause reported on the same
#: object steps back for it: the generic ISSUER_NOT_READY for any other error on the issuer
#: (VAULT_AUTH_FAILED, CA_ISSUER_SECRET_NOT_FOUND…: ``ANY_ERROR``); the self-check's 5xx when
#: the solver Pod is not running (rules/solver_pods.py); a renewal window too short for
#: retries when the Certificate already renews in a loop. Applied to chain and wide findings
#: together, by ``run_rules`` and by analysis.py on the full and the incremental path alike.
ANY_ERROR: frozenset[str] = frozenset({"*"})
DNS01_CONFIG_CODES: frozenset[str] = frozenset({dns01_config.CONFIG, dns01_config.CNAME})
DNS01_PROVIDER_CODES: tuple[str, ...] = (
    dns01_provider.PERM, dns01_provider.CREDS, dns01_provider.ZONE, dns01_provider.SECRET,
    dns01_provider.WEBHOOK, dns01_provider.AMBIENT)
STEPS_BACK_FOR: dict[str, frozenset[str]] = {
    "ISSUER_NOT_READY": ANY_ERROR,
    "HTTP01_SELF_CHECK_WRONG_STATUS": frozenset({"HTTP01_SOLVER_POD_NOT_RUNNING"}),
    "RENEW_BEFORE_TOO_SHORT": frozenset({"CERTIFICATE_RENEWAL_LOOP"}),
    # a DNS-01 provider's answer is a consequence when the solver's configuration is
    # wrong (rules/dns01_config.py: placeholder project/zone, an unfollowed CNAME)
    **{code: DNS01_CONFIG_CODES for code in DNS01_PROVIDER_CODES},
}


def _has_own_cause(f: Finding) -> bool:
    """A 403/401 self-check has a cause of its own, whatever the solver Pod does."""
    return f.code == "HTTP01_SELF_CHECK_WRONG_STATUS" and \
        not str(f.data.get("status", "")).startswith("5")


def step_back(findings: list[Finding]) -> list[Finding]:
    """Drop the findings ``STEPS_BACK_FOR`` names where their cause is on the same object."""
    causes = {(f.object, f.code) for f in findings}
    errors = {f.object for f in findings
              if f.severity is Severity.ERROR and f.code not in STEPS_BACK_FOR}

    def steps_back(f: Finding) -> bool:
        wanted = STEPS_BACK_FOR.get(f.code)
        if wanted is None or _has_own_cause(f):
            return False
        if "*" in wanted:
            return f.object in errors
        return any((f.object, c) in causes for c in wanted)

    return [f for f in findings if not steps_back(f)]


def wide_and_fallback(graph: Graph, now: datetime, chain: Iterable[Finding]) -> list[Finding]:
    """The wide rules and the fallback over the whole graph, given every chain finding."""
    out = wide_findings(graph, now)
    return [*out, *fallback(graph, now, [*chain, *out])]


def wide_findings(graph: Graph, now: datetime) -> list[Finding]:
    """The wide rules over the whole graph (targets attached): what a live pass runs in
    full every time (``analysis.Analyser``)."""
    out: list[Finding] = []
    for rule in WIDE_RULES:
        out.extend(rule(graph, now))
    attach_targets(graph, out)
    return out


def fallback(graph: Graph, now: datetime, findings: Iterable[Finding]) -> list[Finding]:
    """``stuck.unexplained`` over every Certificate, given every other finding (targets
    attached); a live pass judges only the chains it must (``stuck.judge``)."""
    out = stuck.unexplained(graph, now, findings)
    attach_targets(graph, out)
    return out


def findings_by_object(findings: Iterable[Finding]) -> dict[Ref, list[Finding]]:
    """Findings grouped per object, each list worst first (for badges in the tree)."""
    out: dict[Ref, list[Finding]] = {}
    for f in sorted(findings, key=sort_key):
        out.setdefault(f.object, []).append(f)
    return out


def worst(findings: Iterable[Finding]) -> Severity | None:
    best: Severity | None = None
    for f in findings:
        if best is None or f.severity.rank > best.rank:
            best = f.severity
    return best


__all__ = ["CHAIN_RULES", "RULES", "WIDE_RULES", "Finding", "Severity", "fallback",
           "findings_by_object", "run_rules", "step_back", "wide_and_fallback",
           "wide_findings", "worst"]
