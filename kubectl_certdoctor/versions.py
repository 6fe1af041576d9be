"""The cert-manager controller Deployment: its version (from the image tag), args and env.

Rules need the version (Vault retry fix, outdated releases), the backoff flags
and the proxy environment; all come from the one controller Deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kubectl_certdoctor.objects import Obj, ObjectSet, as_dict, as_list, dig, labels, name, text

#: oldest cert-manager minor release still supported upstream when this was written
#: (upstream supports the two most recent minors: v1.21 and v1.20 in late 2026)
OLDEST_SUPPORTED: tuple[int, int] = (1, 20)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"


def parse_version(value: str) -> Version | None:
    """'v1.15.0', '1.14.7-rc.1', 'v1.12' → Version; None for 'latest', digests, ''."""
    m = _VERSION.match(value.strip())
    if not m:
        return None
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def image_tag(image: str) -> str:
    """The tag of an image reference ('' when untagged or digest-only)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def _containers(dep: Obj) -> list[Obj]:
    return [c for c in as_list(dig(dep, "spec", "template", "spec", "containers"))
            if isinstance(c, dict)]


def _is_controller(dep: Obj) -> bool:
    lb = labels(dep)
    if lb.get("app.kubernetes.io/component") == "controller" and \
            lb.get("app.kubernetes.io/name", "cert-manager") == "cert-manager":
        return True
    return any("cert-manager-controller" in text(c.get("image")) for c in _containers(dep))


def controller_deployment(objs: ObjectSet) -> Obj | None:
    """The cert-manager controller Deployment (not the webhook or cainjector)."""
    deps = [d for d in objs.of_kind("Deployment") if isinstance(d, dict)]
    found = [d for d in deps if _is_controller(d)]
    if not found:
        found = [d for d in deps if name(d) == "cert-manager"]
    return sorted(found, key=name)[0] if found else None


def controller_container(dep: Obj | None) -> Obj | None:
    if dep is None:
        return None
    cs = _containers(dep)
    for c in cs:
        if "cert-manager-controller" in text(c.get("image")):
            return c
    return cs[0] if cs else None


def controller_args(objs: ObjectSet) -> list[str]:
    c = controller_container(controller_deployment(objs))
    if c is None:
        return []
    return [text(a) for a in as_list(c.get("command")) + as_list(c.get("args"))
            if isinstance(a, (str, int, float))]


def controller_env(objs: ObjectSet) -> dict[str, str]:
    """Literal env values of the controller container (valueFrom entries are skipped)."""
    c = controller_container(controller_deployment(objs))
    out: dict[str, str] = {}
    if c is None:
        return out
    for e in as_list(c.get("env")):
        e = as_dict(e)
        if text(e.get("name")) and "value" in e:
            out[text(e.get("name"))] = text(e.get("value"))
    return out


def controller_version(objs: ObjectSet) -> tuple[Version, str] | None:
    """The controller's version and the evidence it came from (image tag or label)."""
    dep = controller_deployment(objs)
    c = controller_container(dep)
    if c is not None:
        image = text(c.get("image"))
        v = parse_version(image_tag(image))
        if v is not None:
            return v, f"Deployment {name(dep or {})} image {image}"
    if dep is not None:
        lv = labels(dep).get("app.kubernetes.io/version", "")
        v = parse_version(lv)
        if v is not None:
            return v, f"Deployment {name(dep)} label app.kubernetes.io/version={lv}"
    return None


#: cert-manager PR #7105 (Vault: retry when the client cannot be initialised):
#: v1.16.0, backported to v1.15.1, v1.14.7 and v1.12.12
VAULT_RETRY_FIXED: tuple[Version, ...] = (
    Version(1, 12, 12), Version(1, 14, 7), Version(1, 15, 1), Version(1, 16, 0),
)


def vault_retry_fixed(v: Version) -> bool:
    """Does this release requeue CertificateRequests whose Vault client failed to initialise?"""
    if (v.major, v.minor) >= (1, 16):
        return True
    for fixed in VAULT_RETRY_FIXED:
        if (v.major, v.minor) == (fixed.major, fixed.minor):
            return v >= fixed
    return False


#: when each minor line was first released (the vX.Y.0 tag's commit date in cert-manager's
#: repository); upstream supports the two newest minors at any moment
RELEASED: dict[tuple[int, int], date] = {
    (1, m): date.fromisoformat(d) for m, d in enumerate((
        "2020-09-02", "2020-11-24", "2021-02-10", "2021-04-07", "2021-06-11", "2021-08-11",
        "2021-10-15", "2022-01-26", "2022-04-01", "2022-07-21", "2022-10-13", "2023-01-11",
        "2023-05-12", "2023-09-12", "2024-01-31", "2024-05-28", "2024-10-02", "2025-01-28",
        "2025-06-10", "2025-10-07", "2026-03-10", "2026-07-08"))
}


def oldest_supported(when: date | None = None) -> tuple[int, int]:
    """The oldest minor line upstream still supported on ``when`` (default: the newest
    known state): a bundle captured in 2024 is judged by 2024's support window."""
    if when is None:
        return OLDEST_SUPPORTED
    out = sorted(mv for mv, d in RELEASED.items() if d <= when)
    return out[-2] if len(out) >= 2 else out[0] if out else OLDEST_SUPPORTED


def is_outdated(v: Version, when: date | None = None) -> bool:
    return (v.major, v.minor) < oldest_supported(when)


_ENV_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand_controller_arg(objs: ObjectSet, value: str) -> str:
    """``value`` with ``$(VAR)`` references expanded the way the kubelet does for container
    args: from the controller container's env, literal values and the downward-API field
    ``metadata.namespace`` (the Helm chart passes ``--cluster-resource-namespace=
    $(POD_NAMESPACE)`` with POD_NAMESPACE from fieldRef metadata.namespace:
    deploy/charts/cert-manager/templates/deployment.yaml at v1.0.0 … v1.21.1). A reference
    that cannot be resolved is left as it is (the kubelet does the same)."""
    if "$(" not in value:
        return value
    return expand_arg(controller_deployment(objs), value)


def expand_arg(dep: Obj | None, value: str) -> str:
    """``expand_controller_arg`` for a given controller Deployment (the store resolves the
    cluster resource namespace before an ObjectSet exists)."""
    if "$(" not in value:
        return value
    c = controller_container(dep)
    env: dict[str, str] = {}
    for e in as_list((c or {}).get("env")):
        e = as_dict(e)
        n = text(e.get("name"))
        if not n:
            continue
        if "value" in e:
            env[n] = text(e.get("value"))
        elif text(dig(e, "valueFrom", "fieldRef", "fieldPath")) == "metadata.namespace" \
                and dep is not None:
            env[n] = text(dig(dep, "metadata", "namespace"))
    return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(0)), value)
