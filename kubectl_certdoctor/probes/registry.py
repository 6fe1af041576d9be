"""Every probe by id (the ids are public: findings name them in ``probes``)."""

from __future__ import annotations

from kubectl_certdoctor.probes import account, backends, dns, egress, hairpin, http01, noproxy_probe
from kubectl_certdoctor.probes.base import ProbeSpec

PROBES: dict[str, ProbeSpec] = {
    s.id: s
    for s in (
        http01.SPEC,
        backends.SPEC,
        hairpin.SPEC,
        dns.SPEC,
        egress.SPEC,
        noproxy_probe.SPEC,
        account.SPEC,
    )
}


def probes_for_codes(codes: list[str]) -> list[ProbeSpec]:
    """The probes that can confirm any of these finding codes, in registry order."""
    return [s for s in PROBES.values() if set(s.confirms) & set(codes)]
