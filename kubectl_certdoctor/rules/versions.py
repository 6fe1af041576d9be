"""CERT_MANAGER_OUTDATED: the controller runs a release line that is no longer supported."""

from __future__ import annotations

from datetime import datetime

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import Ref, name, namespace
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.versions import (
    controller_deployment,
    controller_version,
    is_outdated,
    oldest_supported,
)


def cert_manager_outdated(graph: Graph, now: datetime) -> list[Finding]:
    found = controller_version(graph.objs)
    if found is None or not is_outdated(found[0], now.date()):
        return []
    version, source = found
    dep = controller_deployment(graph.objs) or {}
    major, minor = oldest_supported(now.date())
    oldest = f"{major}.{minor}"
    return [make("CERT_MANAGER_OUTDATED", Ref("Deployment", namespace(dep), name(dep)),
                 [source], data={"version": str(version)},
                 version=str(version), oldest=oldest)]
