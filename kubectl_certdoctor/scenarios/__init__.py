"""The scenario library: the field reports as plain Kubernetes object graphs.

Each scenario is a ``v1 List`` YAML file next to this module (as ``kubectl get -o yaml``
prints it); ``index.yaml`` is the single source of truth for its title, story, namespace,
capture time and the finding codes the rules must report. ``--demo`` and the tests load them
through here. With ``now``, every timestamp is shifted by ``now - captured_at`` so a scenario
looks freshly captured (a certificate "expiring in 30h" stays so); the certificates in the
Secrets move with them (``_shift_pem``: same subject, issuer, key, serial and extensions,
validity shifted, re-signed by a throwaway key), so a Secret's certificate never contradicts
its Certificate's ``status.notAfter``. Loading never touches the network.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.objects import Obj, ObjectSet, dig, parse_time

#: the library's directory on disk (tests glob it); reading goes through importlib.resources
#: so the package data is found wherever it is installed (wheel, zipapp, PyInstaller)
HERE = Path(__file__).resolve().parent


def _read(filename: str) -> str:
    return resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ScenarioInfo:
    """One entry of ``index.yaml``; also readable as a mapping (``info['expected']``)."""

    name: str
    title: str
    story: str
    expected: tuple[str, ...]
    namespace: str
    captured_at: datetime
    seed: str | None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def __getitem__(self, key: str) -> Any:
        if not hasattr(self, key):
            raise KeyError(key)
        return getattr(self, key)

    @property
    def expected_codes(self) -> tuple[str, ...]:
        return self.expected


def _yaml() -> tuple[Any, Any]:
    import yaml

    from kubectl_certdoctor.bundle import yaml_loader

    return yaml, yaml_loader()


@lru_cache(maxsize=1)
def _index() -> dict[str, ScenarioInfo]:
    yaml, loader = _yaml()
    doc = yaml.load(_read("index.yaml"), Loader=loader)
    out: dict[str, ScenarioInfo] = {}
    for e in doc["scenarios"]:
        captured = parse_time(str(e["captured_at"]))
        if captured is None:
            raise ValueError(f"index.yaml: bad captured_at for {e['name']}")
        out[e["name"]] = ScenarioInfo(
            name=e["name"], title=e["title"], story=" ".join(str(e["story"]).split()),
            expected=tuple(e.get("expected") or ()), namespace=e["namespace"],
            captured_at=captured, seed=e.get("seed"))
    return out


def names() -> list[str]:
    """Scenario names in library order (the order ``index.yaml`` lists them)."""
    return list(_index())


def info(name: str) -> ScenarioInfo:
    """Title, story, expected codes, namespace and capture time of one scenario."""
    try:
        return _index()[name]
    except KeyError:
        raise UsageError(f"unknown scenario {name!r}", hint="one of: " + ", ".join(names())) \
            from None


@cache
def _raw(name: str) -> list[Any]:
    yaml, loader = _yaml()
    return [d for d in yaml.load_all(_read(f"{name}.yaml"), Loader=loader) if d is not None]


# A whole-string RFC 3339 timestamp, as the API server writes them.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Times cert-manager embeds in messages: Go's time.String() and RFC 1123.
_GO_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC")
_RFC1123 = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} UTC")
_GO_FMT = "%Y-%m-%d %H:%M:%S +0000 UTC"
_RFC1123_FMT = "%a, %d %b %Y %H:%M:%S UTC"


def _shift_stamp(value: str, delta: timedelta) -> str:
    t = parse_time(value)
    m = _RFC3339.match(value)
    if t is None or m is None:
        return value
    t = (t + delta).astimezone(UTC)
    out = t.strftime("%Y-%m-%dT%H:%M:%S")
    frac = m.group(1)
    if frac:
        out += "." + f"{t.microsecond:06d}"[: len(frac) - 1].ljust(len(frac) - 1, "0")
    return out + "Z"


def _shift_embedded(value: str, delta: timedelta) -> str:
    def go(m: re.Match[str]) -> str:
        t = datetime.strptime(m.group(0), _GO_FMT) + delta
        return t.strftime(_GO_FMT)

    def rfc1123(m: re.Match[str]) -> str:
        t = datetime.strptime(m.group(0), _RFC1123_FMT) + delta
        return t.strftime(_RFC1123_FMT)

    if " UTC" not in value:
        return value
    return _RFC1123.sub(rfc1123, _GO_TIME.sub(go, value))


def _shift(node: Any, delta: timedelta) -> Any:
    if isinstance(node, str):
        if _RFC3339.match(node):
            return _shift_stamp(node, delta)
        return _shift_embedded(node, delta)
    if isinstance(node, dict):
        return {k: _shift(v, delta) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift(v, delta) for v in node]
    return node


def _shift_secrets(node: Any, delta: timedelta) -> None:
    """Shift the validity of every certificate under ``node`` (in place): a Secret's
    ``tls.crt``/``ca.crt``, a CertificateRequest's or Order's ``status.certificate``/``ca``
    — any of those keys holding a base64 PEM certificate."""
    if isinstance(node, list):
        for v in node:
            _shift_secrets(v, delta)
    elif isinstance(node, dict):
        for k, v in node.items():
            if k in _PEM_KEYS and isinstance(v, str) and v.startswith(_PEM_B64):
                node[k] = _shift_pem(v, delta)
            elif isinstance(v, (dict, list)):
                _shift_secrets(v, delta)


_PEM_KEYS = frozenset({"tls.crt", "ca.crt", "certificate", "ca"})
#: base64 of "-----BEGIN CERTIFICATE" (a CSR is "-----BEGIN CERTIFICATE REQUEST": also
#: matches, but does not parse as a certificate and is returned unchanged)
_PEM_B64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FUR"


@lru_cache(maxsize=256)
def _shift_pem(b64: str, delta: timedelta) -> str:
    """``b64`` (base64 of a PEM bundle) with every certificate's notBefore/notAfter moved
    by ``delta``. Subject, issuer, public key, serial and extensions are kept, so every
    rule reads the same certificate; only the signature (a throwaway key's) differs —
    nothing in the diagnosis verifies signatures of a Secret's leaf. Anything that does
    not parse is returned unchanged."""
    import base64

    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = base64.b64decode(b64)
        certs = x509.load_pem_x509_certificates(pem)
    except Exception:
        return b64
    key = ec.generate_private_key(ec.SECP256R1())
    out = b""
    for c in certs:
        b = (x509.CertificateBuilder()
             .subject_name(c.subject).issuer_name(c.issuer).public_key(c.public_key())
             .serial_number(c.serial_number)
             .not_valid_before(c.not_valid_before_utc + delta)
             .not_valid_after(c.not_valid_after_utc + delta))
        for ext in c.extensions:
            b = b.add_extension(ext.value, ext.critical)
        out += b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(out).decode("ascii")


def load(name: str, now: datetime | None = None) -> ObjectSet:
    """The scenario's objects; with ``now``, timestamps shifted as if captured at ``now``."""
    from kubectl_certdoctor.bundle import load_documents

    meta = info(name)
    docs: list[Any] = copy.deepcopy(_raw(name))
    if now is not None:
        delta = now - meta.captured_at
        if delta:
            docs = [_shift(d, delta) for d in docs]
            _shift_secrets(docs, delta)
    objs = load_documents(docs, name=f"{name}.yaml")
    objs.source = f"demo:{name}"
    objs.context = f"demo:{name}"
    # shifted to ``now``, it describes now; unshifted, the moment it was captured
    objs.observed_at = None if now is not None else meta.captured_at
    return objs


def load_demo(now: datetime | None = None) -> ObjectSet:
    """All scenarios merged, as one cluster would hold them (``--demo``).

    Each scenario has its own namespace and distinct names; only shared infrastructure
    (IngressClass ``nginx``, the cert-manager controller Deployment) coincides. A cluster
    runs one cert-manager, so the demo's controller is composed: the oldest release any
    story runs (the Vault story's v1.15.0) with every story's extra environment (the
    egress proxy). Otherwise whichever scenario came last would silently hide the
    version- and proxy-dependent findings of the others.
    """
    merged = ObjectSet(source="demo", context="demo")
    controllers: list[Obj] = []
    for n in names():
        for obj in load(n, now):
            if _is_controller(obj):
                controllers.append(obj)
            else:
                merged.add(obj)
    if controllers:
        merged.add(_compose_controller(controllers))
    return merged


def _is_controller(obj: Obj) -> bool:
    lb = dig(obj, "metadata", "labels", default={}) or {}
    return obj.get("kind") == "Deployment" and lb.get("app.kubernetes.io/name") == \
        "cert-manager" and lb.get("app.kubernetes.io/component") == "controller"


def _version_key(dep: Obj) -> tuple[int, ...]:
    label = str(dig(dep, "metadata", "labels", "app.kubernetes.io/version", default=""))
    return tuple(int(x) for x in re.findall(r"\d+", label)[:3]) or (999,)


def _compose_controller(deps: list[Obj]) -> Obj:
    """The oldest controller, with the union of every controller's env (by name)."""
    out = copy.deepcopy(min(deps, key=_version_key))
    container = out["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container.get("env") or []}
    for d in deps:
        for e in d["spec"]["template"]["spec"]["containers"][0].get("env") or []:
            env.setdefault(e["name"], e)
    container["env"] = list(env.values())
    return out


def objects(name: str, now: datetime | None = None) -> list[Obj]:
    """The scenario as a plain list (what ``apply_scenario`` sends to an API server)."""
    return list(load(name, now))


def captured_names() -> list[str]:
    """Bundles captured from cert-manager's real controller by ``scripts/lab capture``."""
    from importlib.resources import files

    folder = files(__package__).joinpath("captured")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def open_demo(name: str | None, now: datetime | None = None) -> ObjectSet:
    """What ``--demo [NAME]`` opens: every library scenario merged (no name or ``all``), one
    library scenario, or one captured bundle (shown as captured, times not shifted)."""
    if name in (None, "", "all"):
        return load_demo(now)
    assert name is not None
    if name in _index():
        return load(name, now)
    if name in captured_names():
        from importlib.resources import as_file, files

        from kubectl_certdoctor.bundle import load_bundle

        with as_file(files(__package__).joinpath("captured", f"{name}.yaml")) as path:
            objs = load_bundle(path)
        objs.source = f"demo:{name} (captured from cert-manager)"
        objs.context = f"demo:{name}"
        return objs
    raise UsageError(f"unknown demo scenario {name!r}",
                     hint="one of: all, " + ", ".join(names() + captured_names()))


#: probes that read only the objects (no network): the demo and bundles run them for real
OFFLINE_PROBES = frozenset({"account", "no-proxy"})


@cache
def _recorded() -> dict[str, dict[str, Any]]:
    yaml, loader = _yaml()
    doc = yaml.load(_read("recorded.yaml"), Loader=loader) or {}
    return {str(k): dict(v) for k, v in doc.items()}


def recorded(probe_id: str, namespace: str, name: str = "") -> tuple[str, dict[str, Any]] | None:
    """(scenario, recorded result) of probe ``probe_id`` for an object of the scenario that
    owns ``namespace`` (for a cluster-scoped object: the scenario that holds one named
    ``name``), or None when the scenario recorded nothing for that probe."""
    for scen, probes in _recorded().items():
        if probe_id not in probes:
            continue
        if namespace:
            if info(scen).namespace == namespace:
                return scen, dict(probes[probe_id])
        elif name and any(dig(o, "metadata", "name") == name and not dig(o, "metadata",
                                                                         "namespace")
                          for o in _raw_objects(scen)):
            return scen, dict(probes[probe_id])
    return None


def _raw_objects(name: str) -> list[Obj]:
    out: list[Obj] = []
    for d in _raw(name):
        if isinstance(d, dict) and isinstance(d.get("items"), list):
            out += [o for o in d["items"] if isinstance(o, dict)]
        elif isinstance(d, dict):
            out.append(d)
    return out


def listing() -> str:
    """``--demo list``: every scenario with its title, then the captured bundles."""
    lines = ["Demo scenarios (kubectl certdoctor --demo NAME; no name opens them all):", ""]
    width = max(len(n) for n in [*names(), *captured_names()]) + 2
    for n in names():
        lines.append(f"  {n:<{width}}{info(n).title}")
    caps = captured_names()
    if caps:
        lines += ["", "Captured from cert-manager's real controller (the lab):", ""]
        lines += [f"  {n}" for n in caps]
    return "\n".join(lines) + "\n"
