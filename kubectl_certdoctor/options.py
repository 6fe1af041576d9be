"""Global options shared by every command (the kubectl flags plus our own)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    probe_image: str = "nicolaka/netshoot:v0.13"
    #: ``kubectl certdoctor certificate/NAME``: the Certificate the TUI opens on
    focus: str | None = None

    @property
    def offline(self) -> bool:
        """True when reading a bundle or the demo: never touch a network then."""
        return bool(self.from_file or self.demo)
