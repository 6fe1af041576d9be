"""cert-manager's own messages and behaviour, per release, read from its source.

Why this exists: the rules quote cert-manager's condition messages and reasons and rely
on behaviour that changed between releases (which path writes "Failed to verify ACME
account", when a Vault init error started being retried, the backoff bounds, pathType
Exact, the shared-secretName owner check ...). Written from memory, those drift from
the real code. ``scripts/gen_cm_semantics.py`` reads cert-manager's git tags (latest
patch of every minor v1.0 ... v1.21, plus the patch releases where something changed)
and ships the result as ``cm_semantics.json``; this module answers the rules'
questions from that file, each answer with a ``file@tag`` citation::

    fact("vault.certificaterequest.init_error_requeued", v)   # FactAtTag | None
    since("http01.ingress.path_type_exact")                   # "v1.18.0"
    cite("acme.setup.message.verify_failed")                  # "pkg/issuer/acme/setup.go@v1.21.1"

A version is answered from the evaluated tag of its minor: the newest tag not newer than
it, or the minor's oldest evaluated tag when it predates them all (v1.12.5 → v1.12.11).
Versions outside the evaluated range use the nearest end; an unknown version (None) is
answered for the newest tag. The JSON is loaded lazily, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TypeAlias

from kubectl_certdoctor.versions import Version, parse_version

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"

DATA_FILE = "cm_semantics.json"


@dataclass(frozen=True)
class FactAtTag:
    """One fact as cert-manager's source states it at one release tag."""

    name: str
    tag: Version
    #: the template (str), a flag (bool), a list, or named parts (dict, e.g. reason/template)
    value: JSONValue
    #: repository path where it was found
    file: str
    #: what the structural analysis saw (special facts only)
    evidence: str | None = None

    @property
    def citation(self) -> str:
        """'pkg/issuer/acme/setup.go@v1.21.1'."""
        return f"{self.file}@{self.tag}"

    @property
    def template(self) -> str | None:
        """The message text: the value itself, or its 'template' part; None otherwise."""
        if isinstance(self.value, str):
            return self.value
        if isinstance(self.value, dict):
            t = self.value.get("template")
            return t if isinstance(t, str) else None
        return None

    @property
    def enabled(self) -> bool:
        """The value as a flag (a boolean fact, or any non-empty value)."""
        return bool(self.value)


@dataclass(frozen=True)
class _Fact:
    description: str
    by_tag: dict[Version, FactAtTag | None]
    changes: tuple[Version, ...]


@dataclass(frozen=True)
class _Data:
    tags: tuple[Version, ...]
    facts: dict[str, _Fact]


def _version(tag: str) -> Version:
    v = parse_version(tag)
    if v is None:
        raise ValueError(f"{DATA_FILE}: bad tag {tag!r}")
    return v


@lru_cache(maxsize=1)
def _data() -> _Data:
    raw = resources.files("kubectl_certdoctor.rules").joinpath(DATA_FILE).read_text("utf-8")
    doc = json.loads(raw)
    tags = tuple(sorted(_version(t) for t in doc["source"]["tags"]))
    facts: dict[str, _Fact] = {}
    for name, f in doc["facts"].items():
        by_tag: dict[Version, FactAtTag | None] = {}
        for tag, rec in f["by_tag"].items():
            v = _version(tag)
            by_tag[v] = (FactAtTag(name, v, rec["value"], str(rec["file"]), rec.get("evidence"))
                         if rec["present"] else None)
        changes = tuple(_version(c["tag"]) for c in f["changes"])
        facts[name] = _Fact(str(f["description"]), by_tag, changes)
    return _Data(tags, facts)


def _fact(name: str) -> _Fact:
    try:
        return _data().facts[name]
    except KeyError:
        raise KeyError(f"unknown cert-manager fact {name!r}") from None


def names() -> tuple[str, ...]:
    """Every fact name in the data file, sorted."""
    return tuple(sorted(_data().facts))


def tags() -> tuple[Version, ...]:
    """The release tags the facts were read at, oldest first."""
    return _data().tags


def describe(name: str) -> str:
    return _fact(name).description


def tag_for(version: Version | None) -> Version:
    """The evaluated tag that answers for `version` (see the module docstring)."""
    all_tags = _data().tags
    if version is None or version > all_tags[-1]:
        return all_tags[-1]
    same_minor = [t for t in all_tags if (t.major, t.minor) == (version.major, version.minor)]
    if same_minor:
        older = [t for t in same_minor if t <= version]
        return older[-1] if older else same_minor[0]
    older = [t for t in all_tags if t <= version]
    return older[-1] if older else all_tags[0]


def fact(name: str, version: Version | None = None) -> FactAtTag | None:
    """The fact at the tag answering for `version`; None when the source lacks it there.

    Raises KeyError for a name that is not in the data file.
    """
    return _fact(name).by_tag.get(tag_for(version))


def present(name: str, version: Version | None = None) -> bool:
    return fact(name, version) is not None


def enabled(name: str, version: Version | None = None) -> bool:
    """A boolean fact's value at `version` (False when absent there)."""
    f = fact(name, version)
    return f is not None and f.enabled


def template(name: str, version: Version | None = None) -> str | None:
    """The message template at `version` (None when absent or not a message)."""
    f = fact(name, version)
    return f.template if f is not None else None


def versions_of(name: str) -> tuple[Version, ...]:
    """The evaluated tags where the fact is present, oldest first."""
    f = _fact(name)
    return tuple(t for t in _data().tags if f.by_tag.get(t) is not None)


def since(name: str) -> str:
    """First evaluated tag where the fact is present ('v1.18.0').

    Only the tags in tags() were read: for a behaviour backported to older minors this is
    the oldest backport (see versions_of / history). Raises LookupError if never present.
    """
    found = versions_of(name)
    if not found:
        raise LookupError(f"{name!r} is not present in any evaluated cert-manager release")
    return str(found[0])


def history(name: str) -> tuple[tuple[Version, FactAtTag | None], ...]:
    """(tag, fact or None) at each evaluated tag where the fact appeared, went or changed."""
    f = _fact(name)
    return tuple((t, f.by_tag.get(t)) for t in f.changes)


def cite(name: str, version: Version | None = None) -> str:
    """'file@tag' for the fact at `version`; when absent there, the newest tag having it.

    Raises LookupError if the fact is present in no evaluated release.
    """
    f = fact(name, version)
    if f is not None:
        return f.citation
    found = versions_of(name)
    if not found:
        raise LookupError(f"{name!r} is not present in any evaluated cert-manager release")
    newest = _fact(name).by_tag[found[-1]]
    assert newest is not None
    return newest.citation
