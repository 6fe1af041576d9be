"""``upgrade-guidance``: no mutation — which version runs, what changed, how to retry now.

Seed 003: cert-manager before the PR #7105 fix records a Vault client error
("permission denied") as Pending and never requeues the request. Upgrading fixes
future cases; the request already stuck still needs ``clear-failed-requests``.
"""

from __future__ import annotations

from kubectl_certdoctor.fixes.model import FixParams, FixPlan, FixSpec
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.versions import (
    OLDEST_SUPPORTED,
    VAULT_RETRY_FIXED,
    controller_version,
    is_outdated,
    vault_retry_fixed,
)

PR_URL = "https://github.com/cert-manager/cert-manager/pull/7105"
UPGRADE_URL = "https://cert-manager.io/docs/releases/"


def plan_guidance(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    plan = FixPlan("upgrade-guidance", "Upgrade guidance for cert-manager", target,
                   mutating=False)
    found = controller_version(objs)
    fixed = ", ".join(str(v) for v in VAULT_RETRY_FIXED)
    if found is None:
        plan.notes.append("The controller version is unknown (no cert-manager controller "
                          "Deployment with a version tag in view).")
    else:
        v, source = found
        plan.notes.append(f"Running: cert-manager {v} ({source}).")
        if vault_retry_fixed(v):
            plan.notes.append(f"{v} includes PR #7105: Vault client errors are retried.")
        else:
            plan.notes.append(
                f"{v} lacks PR #7105 ({PR_URL}): when the Vault client cannot be initialised "
                "(e.g. a transient 403 permission denied), the CertificateRequest stays Pending "
                "and is never retried, so the certificate can expire.")
            plan.notes.append(f"Fixed in v1.16.0, backported to {fixed}: upgrade to the "
                              f"latest patch of your minor ({v.major}.{v.minor}) that has it, or "
                              "to a supported release.")
        if is_outdated(v):
            plan.notes.append(f"{v} is out of support (oldest supported line: "
                              f"v{OLDEST_SUPPORTED[0]}.{OLDEST_SUPPORTED[1]}); upgrade one minor "
                              f"version at a time following {UPGRADE_URL}.")
    plan.notes.append("To retry now without upgrading: clear-failed-requests on the "
                      "Certificate (deletes the stuck/failed request), or renew when no request "
                      "is in flight.")
    plan.suggest = ["clear-failed-requests", "renew"]
    return plan


SPEC = FixSpec(
    id="upgrade-guidance",
    title="What to upgrade and why (no change to the cluster)",
    resolves=("VAULT_PERMISSION_DENIED_NOT_RETRIED", "CERT_MANAGER_OUTDATED"),
    mutating=False,
    target_kinds=("Deployment", "Certificate", "CertificateRequest"),
    planner=plan_guidance,
    reads=("Deployment",),
    doc="Prints the controller version, the change notes of cert-manager PR #7105 and how to "
        "retry now.",
)
