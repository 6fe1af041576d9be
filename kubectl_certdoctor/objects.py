"""Plain Kubernetes objects (dicts as the API serves them) and safe access to them.

Objects stay the JSON dicts the API server or a bundle gave us: no model
classes, so a malformed or newer object never fails to load. Every accessor
here tolerates missing fields and wrong types, because rules and screens run
on whatever the cluster holds.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True, order=True, slots=True)
class Ref:
    """Identifies one object: kind, namespace ('' when cluster-scoped), name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> "Ref":
        md = dig(obj, "metadata", default={})
        return cls(
            text(obj.get("kind")), text(dig(md, "namespace")), text(dig(md, "name"))
        )


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """``obj[p0][p1]…`` or ``default`` when any step is missing or of the wrong type."""
    cur = obj
    for p in path:
        if type(cur) is dict and type(p) is str:  # the common case: skip the ABC checks
            if p not in cur:
                return default
            cur = cur[p]
            continue
        if isinstance(p, int):
            if isinstance(cur, list) and -len(cur) <= p < len(cur):
                cur = cur[p]
            else:
                return default
        elif isinstance(cur, Mapping) and p in cur:
            cur = cur[p]
        else:
            return default
    return default if cur is None else cur


def text(value: Any) -> str:
    """A string field, '' when missing or not a scalar."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 timestamp → aware datetime; None when missing or malformed."""
    if not isinstance(value, str) or not value:
        return None
    s = value.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def name(obj: Mapping[str, Any]) -> str:
    return text(dig(obj, "metadata", "name"))


def namespace(obj: Mapping[str, Any]) -> str:
    return text(dig(obj, "metadata", "namespace"))


def uid(obj: Mapping[str, Any]) -> str:
    return text(dig(obj, "metadata", "uid"))


def labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): text(v) for k, v in as_dict(dig(obj, "metadata", "labels")).items()}


def annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): text(v) for k, v in as_dict(dig(obj, "metadata", "annotations")).items()}


def owner_refs(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [o for o in as_list(dig(obj, "metadata", "ownerReferences")) if isinstance(o, dict)]


def conditions(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in as_list(dig(obj, "status", "conditions")) if isinstance(c, dict)]


def condition(obj: Mapping[str, Any], ctype: str) -> dict[str, Any] | None:
    """The status condition of type ``ctype``, if any."""
    for c in conditions(obj):
        if c.get("type") == ctype:
            return c
    return None


def condition_status(obj: Mapping[str, Any], ctype: str) -> str:
    """'True', 'False', 'Unknown', or '' when the condition is absent."""
    c = condition(obj, ctype)
    return text(c.get("status")) if c else ""


@dataclass
class ObjectSet:
    """Every object the tool knows, by kind then by (namespace, name).

    Built by the live store (a consistent snapshot) or by loading a bundle;
    the graph, rules and screens read only this.
    """

    objects: dict[str, dict[tuple[str, str], Obj]] = field(default_factory=dict)
    #: where it came from: 'live', 'bundle:<path>', 'demo:<scenario>'
    source: str = "live"
    #: kubeconfig context (live) or the one recorded in the bundle
    context: str = ""
    #: the live store's change counter when this snapshot was taken (-1: not a snapshot)
    generation: int = -1
    #: what can say which objects changed between two generations (the live store:
    #: ``changes(since, until)``); None for bundles and anything built by hand
    changelog: Any = field(default=None, repr=False, compare=False)
    #: the moment this snapshot describes, when it is not "now": a bundle is judged at its
    #: capture time (ages, backoffs and expiry as they were then), see ``bundle.load_bundle``
    observed_at: datetime | None = None
    #: kinds that could not be read (forbidden, or the read failed): that no object of such
    #: a kind is here proves nothing, and rules that key on an absence must not fire
    unseen: frozenset[str] = frozenset()

    def add(self, obj: Obj, kind: str | None = None) -> None:
        k = kind or text(obj.get("kind"))
        if not k:
            return
        self.objects.setdefault(k, {})[(namespace(obj), name(obj))] = obj

    def remove(self, kind: str, ns: str, nm: str) -> None:
        self.objects.get(kind, {}).pop((ns, nm), None)

    def get(self, kind: str, ns: str, nm: str) -> Obj | None:
        return self.objects.get(kind, {}).get((ns, nm))

    def of_kind(self, kind: str) -> list[Obj]:
        return list(self.objects.get(kind, {}).values())

    def kinds(self) -> list[str]:
        return sorted(self.objects)

    def __iter__(self) -> Iterator[Obj]:
        for per_kind in self.objects.values():
            yield from per_kind.values()

    def __len__(self) -> int:
        return sum(len(v) for v in self.objects.values())

    @classmethod
    def from_objects(cls, objs: Iterable[Obj], **kw: Any) -> "ObjectSet":
        s = cls(**kw)
        for o in objs:
            if isinstance(o, dict):
                s.add(o)
        return s


def b64_bytes(value: Any) -> bytes | None:
    """A Secret or CSR data value decoded from base64 (None when absent or not base64)."""
    raw = text(value)
    if not raw:
        return None
    import base64
    import binascii

    try:
        return base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError):
        return None


def first_certificate(pem: bytes | None) -> Any:
    """The first X.509 certificate of a PEM blob (a ``cryptography`` Certificate), or None
    when there is none or it does not parse."""
    if not pem:
        return None
    try:
        from cryptography import x509

        return x509.load_pem_x509_certificate(pem)
    except Exception:  # any malformed certificate is "none"
        return None
