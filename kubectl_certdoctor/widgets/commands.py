"""The ``:`` command line, k9s style: ``:cert``, ``:ch``, ``:ns x``, ``:ctx y``, ``:q``.

Parsing is pure so it is tested without a terminal; the tree screen executes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_certdoctor.kinds import CERT_MANAGER_KINDS, lookup

TREE_KIND_NAMES = {k.name for k in CERT_MANAGER_KINDS}

HELP: list[tuple[str, str]] = [
    (":cert  :cr  :order  :ch  :iss  :ci", "show only that kind (with its chain)"),
    (":all  :tree", "show every kind again"),
    (":ns NAME  :ns", "namespace scope (none: all namespaces)"),
    (":ctx NAME", "switch kubeconfig context (live only)"),
    (":problems  :findings  :help  :refresh", "same as p, f, ?, r"),
    (":q  :quit", "quit"),
]


@dataclass(frozen=True)
class Command:
    verb: str  # kind | all | ns | ctx | quit | problems | findings | help | refresh | error
    arg: str | None = None


def parse(line: str) -> Command:
    words = line.strip().lstrip(":").split()
    if not words:
        return Command("error", "empty command")
    head, rest = words[0].lower(), words[1:]
    arg = rest[0] if rest else None
    if head in ("q", "q!", "quit", "exit"):
        return Command("quit")
    if head in ("ns", "namespace", "namespaces"):
        return Command("ns", None if arg in (None, "all", "-A", "*") else arg)
    if head in ("ctx", "context", "contexts"):
        return Command("ctx", arg)
    if head in ("all", "tree", "clear"):
        return Command("all")
    if head in ("p", "problems"):
        return Command("problems")
    if head in ("f", "findings"):
        return Command("findings")
    if head in ("help", "h", "?"):
        return Command("help")
    if head in ("r", "refresh", "reload"):
        return Command("refresh")
    k = lookup(head)
    if k is not None and k.name in TREE_KIND_NAMES:
        return Command("kind", k.name)
    if k is not None:
        return Command("error", f"{k.name} is not part of the tree; open a node to see it")
    return Command("error", f"unknown command {head!r} (try :help)")
