"""Shell completion: ``kubectl certdoctor <TAB>`` and the standalone command.

kubectl (1.26+) completes plugin arguments by running an executable named
``kubectl_complete-certdoctor`` with the words typed so far; it expects one
candidate per line and a final ``:<directive>`` line (cobra's protocol).
The same engine serves ``kubectl-certdoctor __complete`` for bash/zsh/fish
scripts printed by ``kubectl-certdoctor completion <shell>``; ``completion kubectl``
prints that helper as a two-line sh script for installs (krew) that ship one executable.

Completion must be instant and never hang: contexts come from the kubeconfig
file; namespaces from one short LIST (1.5 s timeout, errors ignored).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

COMMANDS = ("check", "dump", "probe", "fix", "completion")
GLOBAL_FLAGS = (
    "--kubeconfig", "--context", "--namespace", "-n", "--all-namespaces", "-A",
    "--request-timeout", "--as", "--as-group", "--read-only", "--from-file", "--demo",
    "--probe-image", "--probe-image-mirror", "--theme", "--help", "--version",
)
COMMAND_FLAGS = {
    "check": ("--output", "-o", "--fail-on"),
    "dump": ("--output", "-o"),
    "probe": ("--from", "--output", "-o", "--ephemeral", "--yes"),
    "fix": ("--dry-run", "--yes", "--set", "--verify-timeout"),
    "completion": (),
}
FLAG_VALUES = {
    "--fail-on": ("error", "warning", "never"),
    "--from": ("local", "pod", "cert-manager", "all"),
}
OUTPUTS = {"check": ("text", "json", "markdown"), "probe": ("text", "json")}
TARGET_KINDS = ("certificate/", "certificaterequest/", "issuer/", "clusterissuer/",
                "order/", "challenge/", "deployment/")
SHELLS = ("bash", "zsh", "fish", "kubectl")
# cobra's ShellCompDirective values
DIRECTIVE_NOSPACE_NOFILE = 6
DIRECTIVE_NOFILE = 4
DIRECTIVE_DEFAULT = 0


def _kubeconfig_contexts(path: str | None) -> list[str]:
    import yaml

    paths = [path] if path else (os.environ.get("KUBECONFIG") or "~/.kube/config").split(":")
    names: list[str] = []
    for p in paths:
        try:
            with open(os.path.expanduser(p), encoding="utf-8") as fh:
                doc = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError):
            continue
        for c in doc.get("contexts") or [] if isinstance(doc, dict) else []:
            if isinstance(c, dict) and isinstance(c.get("name"), str):
                names.append(c["name"])
    return names


def _namespaces(kubeconfig: str | None, context: str | None) -> list[str]:
    try:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=kubeconfig, context=context)
        resp = client.CoreV1Api(api).list_namespace(_request_timeout=1.5)
        return [str(ns.metadata.name) for ns in resp.items if ns.metadata]
    except Exception:  # completion must never fail loudly
        return []


def _ids(kind: str) -> list[str]:
    try:
        if kind == "probe":
            from kubectl_certdoctor.probes.registry import PROBES

            return ["list", *PROBES]
        from kubectl_certdoctor.fixes.registry import FIXES

        return ["list", *FIXES]
    except Exception:
        return ["list"]


def complete(words: Sequence[str]) -> tuple[list[str], int]:
    """Candidates for the last word of ``words`` (the words after the command name)."""
    words = list(words) or [""]
    current, before = words[-1], words[:-1]
    prev = before[-1] if before else ""
    opt: dict[str, str | None] = {"kubeconfig": None, "context": None}
    positional: list[str] = []
    skip = False
    for i, w in enumerate(before):
        if skip:
            skip = False
            continue
        if w in ("--kubeconfig", "--context"):
            if i + 1 < len(before):
                opt[w[2:]] = before[i + 1]
            skip = True
        elif w in ("-n", "--namespace", "--request-timeout", "--as", "--as-group",
                   "--from-file", "--probe-image", "--probe-image-mirror", "-o", "--output",
                   "--fail-on", "--from", "--set", "--verify-timeout"):
            skip = True
        elif not w.startswith("-"):
            positional.append(w)
    command = positional[0] if positional and positional[0] in COMMANDS else None

    if prev == "--context":
        return _filter(_kubeconfig_contexts(opt["kubeconfig"]), current), DIRECTIVE_NOFILE
    if prev in ("-n", "--namespace"):
        return _filter(_namespaces(opt["kubeconfig"], opt["context"]), current), DIRECTIVE_NOFILE
    if prev in FLAG_VALUES:
        return _filter(list(FLAG_VALUES[prev]), current), DIRECTIVE_NOFILE
    if prev in ("-o", "--output"):
        if command in OUTPUTS:
            return _filter(list(OUTPUTS[command]), current), DIRECTIVE_NOFILE
        return [], DIRECTIVE_DEFAULT  # dump -o FILE
    if prev in ("--kubeconfig", "--from-file"):
        return [], DIRECTIVE_DEFAULT
    if current.startswith("-"):
        flags = list(GLOBAL_FLAGS) + list(COMMAND_FLAGS.get(command or "", ()))
        return _filter(flags, current), DIRECTIVE_NOFILE
    if command is None:
        return _filter(list(COMMANDS), current), DIRECTIVE_NOFILE
    if command in ("probe", "fix"):
        if len(positional) == 1:
            return _filter(_ids(command), current), DIRECTIVE_NOFILE
        if len(positional) == 2:
            return _filter(list(TARGET_KINDS), current), DIRECTIVE_NOSPACE_NOFILE
    if command == "completion" and len(positional) == 1:
        return _filter(list(SHELLS), current), DIRECTIVE_NOFILE
    return [], DIRECTIVE_NOFILE


def _filter(cands: list[str], prefix: str) -> list[str]:
    return [c for c in cands if c.startswith(prefix)]


def _print(cands: list[str], directive: int) -> int:
    out = sys.stdout
    for c in cands:
        out.write(c + "\n")
    out.write(f":{directive}\n")
    return 0


def run_complete(words: Sequence[str]) -> int:
    """``kubectl-certdoctor __complete WORDS…`` (cobra protocol, used by our shell scripts)."""
    return _print(*complete(words))


def kubectl_complete() -> int:
    """Entry point of ``kubectl_complete-certdoctor`` (kubectl's plugin completion hook)."""
    return _print(*complete(sys.argv[1:]))


BASH = r"""# bash completion for kubectl-certdoctor
_kubectl_certdoctor() {
    local IFS=$'\n' out directive
    out=$(kubectl-certdoctor __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
    directive=${out##*:}
    out=${out%:*}
    COMPREPLY=($(compgen -W "$out" -- "${COMP_WORDS[COMP_CWORD]}"))
    if [[ $directive == 0 && ${#COMPREPLY[@]} == 0 ]]; then
        COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
    fi
    [[ $((directive & 2)) != 0 ]] && compopt -o nospace
}
complete -F _kubectl_certdoctor kubectl-certdoctor
"""

ZSH = r"""#compdef kubectl-certdoctor
# zsh completion for kubectl-certdoctor
_kubectl_certdoctor() {
    local -a lines cands
    local directive
    lines=("${(@f)$(kubectl-certdoctor __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    directive=${lines[-1]#:}
    cands=("${(@)lines[1,-2]}")
    if (( ${#cands} )); then
        if (( directive & 2 )); then compadd -S '' -a cands; else compadd -a cands; fi
    elif [[ $directive == 0 ]]; then
        _files
    fi
}
compdef _kubectl_certdoctor kubectl-certdoctor
"""

FISH = r"""# fish completion for kubectl-certdoctor
function __kubectl_certdoctor_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    kubectl-certdoctor __complete $args 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-certdoctor -f -a '(__kubectl_certdoctor_complete)'
"""


#: kubectl's plugin completion hook for installs that cannot ship the helper (krew links
#: only the plugin's own executable): kubectl runs ``kubectl_complete-certdoctor WORDS…``
#: and reads cobra's protocol, which ``__complete`` speaks
KUBECTL_HELPER = """#!/bin/sh
# kubectl_complete-certdoctor: kubectl (1.26+) runs this to complete `kubectl certdoctor`
exec kubectl-certdoctor __complete "$@"
"""


def script(shell: str) -> str:
    return {"bash": BASH, "zsh": ZSH, "fish": FISH, "kubectl": KUBECTL_HELPER}[shell]
