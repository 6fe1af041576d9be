"""Global options shared by every command (the kubectl flags plus our own)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: the debug pods' image, pinned by digest (nicolaka/netshoot v0.13, multi-arch index):
#: a tag can be re-pushed, a digest cannot. ``--probe-image`` replaces it,
#: ``--probe-image-mirror`` / ``CERTDOCTOR_PROBE_IMAGE_MIRROR`` pulls it from a mirror.
DEFAULT_PROBE_IMAGE = (
    "docker.io/nicolaka/netshoot:v0.13"
    "@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b"
)
MIRROR_ENV = "CERTDOCTOR_PROBE_IMAGE_MIRROR"


def split_image(ref: str) -> tuple[str, str]:
    """(registry, rest) as container runtimes read an image reference: the first path
    component is a registry only when it has a '.' or ':' or is 'localhost'; otherwise the
    registry is Docker Hub and a one-component name lives under ``library/``."""
    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", ref if sep else f"library/{ref}"


def mirrored_image(ref: str, mirror: str | None) -> str:
    """``ref`` pulled from ``mirror`` (a registry host, optionally with a path prefix, e.g.
    ``registry.corp:5000/dockerhub``): the registry is replaced, the repository path, tag
    and digest are kept — so a digest-pinned image stays pinned to the same content."""
    mirror = (mirror or "").strip().rstrip("/")
    if not mirror:
        return ref
    for scheme in ("https://", "http://"):
        mirror = mirror.removeprefix(scheme)
    return f"{mirror}/{split_image(ref)[1]}"


@dataclass
class Options:
    """What the user asked for on the command line, independent of argparse."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float = 10.0
    as_user: str | None = None
    as_groups: list[str] = field(default_factory=list)
    read_only: bool = False
    from_file: str | None = None
    demo: str | None = None
    #: the image reference debug pods use, mirror already applied (see :func:`mirrored_image`)
    probe_image: str = DEFAULT_PROBE_IMAGE
    #: a Textual theme name (``--theme``; e.g. textual-light)
    theme: str = ""
    #: ``kubectl certdoctor certificate/NAME``: the Certificate the TUI opens on
    focus: str | None = None

    @property
    def offline(self) -> bool:
        """True when reading a bundle or the demo: never touch a network then."""
        return bool(self.from_file or self.demo)


def parse_duration(value: str | None, default: float = 10.0,
                   flag: str = "--request-timeout") -> float:
    """kubectl-style durations: '0' (none), '30', '10s', '1m', '500ms'."""
    from kubectl_certdoctor.errors import UsageError

    if value in (None, ""):
        return default
    assert value is not None
    units = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0))
    try:
        for suffix, mult in units:
            if value.endswith(suffix):
                return float(value[: -len(suffix)]) * mult
        return float(value)
    except ValueError:
        raise UsageError(
            f"invalid {flag} {value!r}", hint="use e.g. 10s or 1m"
        ) from None
