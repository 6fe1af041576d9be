"""The Finding: what a rule concluded, the evidence, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kubectl_certdoctor.objects import Ref


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: sort findings worst first."""
        return RANK[self]


#: Severity → rank, a plain dict: sorting 5,000 findings per live pass must not go through
#: the enum's descriptor machinery
RANK: dict[str, int] = {"error": 2, "warning": 1, "info": 0}


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnosed cause on one object. ``code`` is public API: never rename one."""

    code: str
    severity: Severity
    object: Ref
    title: str
    explanation: str
    evidence: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    #: what to do, in plain words (the catalog's ``fix`` text, filled in for this object)
    remedy: str = ""
    #: machine-readable extras for probes/fixes (e.g. next retry time, hosts)
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "object": {
                "kind": self.object.kind,
                "namespace": self.object.namespace,
                "name": self.object.name,
            },
            "title": self.title,
            "explanation": self.explanation,
            "evidence": list(self.evidence),
            "probes": list(self.probes),
            "fixes": list(self.fixes),
            "remedy": self.remedy,
        }
