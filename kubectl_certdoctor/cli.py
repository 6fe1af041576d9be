"""Command-line entry point: ``kubectl certdoctor [command] [flags]``.

Imports are lazy: ``--help`` and ``--version`` must answer in well under
300 ms, so nothing heavy (kubernetes, textual, httpx) is imported here at
module level; each command imports its own module when it runs.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from kubectl_certdoctor import __version__
from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.options import MIRROR_ENV, Options, mirrored_image, parse_duration

PROG = "kubectl certdoctor"
DESCRIPTION = (
    "A terminal doctor for cert-manager: a live Issuer → Certificate → "
    "CertificateRequest → Order → Challenge tree, diagnosis, probes and safe fixes."
)
EPILOG = """commands:
  (none)     open the interactive tree (TUI)
  check      diagnose and print findings (text, json, markdown); exit 1 on problems
  dump       write everything the tree needs to one bundle file (secrets redacted)
  probe      run a network probe (http01, http01-backends, hairpin, dns, egress, no-proxy, account)
  fix        apply a fix (renew, clear-failed-requests, retry-challenge, ...)
  completion print a bash, zsh or fish completion script, or (kubectl) the
             kubectl_complete-certdoctor helper for `kubectl certdoctor <TAB>`

examples:
  kubectl certdoctor                         # the live tree for the current context
  kubectl certdoctor --demo                  # try it without a cluster
  kubectl certdoctor check -A -o markdown    # paste into a ticket
  kubectl certdoctor dump -A -o bundle.yaml && kubectl certdoctor --from-file bundle.yaml
"""


class _Parser(argparse.ArgumentParser):
    """argparse with kubectl-style errors: one line and exit 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _common(p: argparse.ArgumentParser, suppress: bool) -> None:
    """Flags accepted before or after the command, as kubectl does."""
    d: object = argparse.SUPPRESS if suppress else None
    g = p.add_argument_group("kubectl flags")
    g.add_argument("--kubeconfig", default=d, help="path to the kubeconfig file")
    g.add_argument("--context", default=d, help="kubeconfig context to use")
    g.add_argument("-n", "--namespace", default=d, help="namespace scope")
    g.add_argument("-A", "--all-namespaces", action="store_true",
                   default=argparse.SUPPRESS if suppress else False, help="all namespaces")
    g.add_argument("--request-timeout", default=d,
                   help="timeout for each API request, e.g. 10s, 1m (default 10s; 0 means "
                        "30s: a bound is always kept so a dead connection is noticed)")
    g.add_argument("--as", dest="as_user", default=d, help="user to impersonate")
    g.add_argument("--as-group", dest="as_groups", action="append",
                   default=argparse.SUPPRESS if suppress else None, help="group to impersonate")
    g2 = p.add_argument_group("certdoctor flags")
    g2.add_argument("--theme", metavar="NAME", default=d,
                    help="TUI colour theme (a Textual theme: textual-dark, textual-light, "
                         "nord, gruvbox, …)")
    g2.add_argument("--read-only", action="store_true",
                    default=argparse.SUPPRESS if suppress else False,
                    help="never mutate anything: no fixes, no debug pods")
    g2.add_argument("--from-file", metavar="FILE", default=d,
                    help="open a bundle file (YAML or JSON) instead of a cluster")
    g2.add_argument("--demo", nargs="?", const="all", metavar="SCENARIO", default=d,
                    help="open the bundled demo scenarios (no cluster needed)")
    g2.add_argument("--probe-image", default=d,
                    help="image for debug pods (default nicolaka/netshoot:v0.13 pinned by "
                         "digest)")
    g2.add_argument("--probe-image-mirror", metavar="REGISTRY", default=d,
                    help="pull the debug pods' image from this registry (air-gapped "
                         "clusters): registry host replaced, path, tag and digest kept "
                         "(env CERTDOCTOR_PROBE_IMAGE_MIRROR)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"kubectl-certdoctor {__version__}")
    _common(p, suppress=False)
    sub = p.add_subparsers(dest="command", metavar="command", parser_class=_Parser)

    c = sub.add_parser("check", help="diagnose and print findings")
    _common(c, suppress=True)
    c.add_argument("-o", "--output", choices=["text", "json", "markdown"], default="text")
    c.add_argument("--fail-on", choices=["error", "warning", "never"], default="error",
                   help="exit 1 when a finding at or above this severity exists")
    c.add_argument("target", nargs="?", metavar="certificate/NAME",
                   help="diagnose one Certificate's chain only (in -n's namespace)")

    d = sub.add_parser("dump", help="write a bundle file for offline use or support")
    _common(d, suppress=True)
    d.add_argument("-o", "--output", metavar="FILE", default="-", help="bundle file (- = stdout)")

    pr = sub.add_parser("probe", help="run a network probe")
    _common(pr, suppress=True)
    pr.add_argument("probe_id", metavar="id", help="probe id (see 'probe list')")
    pr.add_argument("target", nargs="?", help="kind/name of the object, or a host/URL")
    pr.add_argument("--from", dest="vantage", choices=["local", "pod", "cert-manager", "all"],
                    default="local", help="vantage point")
    pr.add_argument("-o", "--output", choices=["text", "json"], default="text")
    pr.add_argument("--ephemeral", action="store_true",
                    help="run the cert-manager vantage as an ephemeral container in the "
                         "running controller pod (asks first: it stays in the pod's spec "
                         "until the pod restarts)")
    pr.add_argument("--yes", action="store_true",
                    help="do not ask before adding the ephemeral container")

    f = sub.add_parser("fix", help="apply a fix, with preview and confirmation")
    _common(f, suppress=True)
    f.add_argument("fix_id", metavar="id", help="fix id (see 'fix list')")
    f.add_argument("target", nargs="?", help="kind/name of the object")
    f.add_argument("--dry-run", action="store_true", help="server-side dry run only")
    f.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    f.add_argument("--set", dest="params", action="append", default=[], metavar="KEY=VALUE",
                   help="fix parameter, e.g. ingress_class=public (see 'fix list')")
    f.add_argument("--verify-timeout", default="30s",
                   help="how long to watch for the fix's effect (default 30s, 0 = skip)")

    comp = sub.add_parser(
        "completion", help="print a shell completion script",
        description="bash, zsh, fish: a script completing kubectl-certdoctor (source it); "
        "kubectl: an executable kubectl_complete-certdoctor helper that kubectl 1.26+ runs "
        "to complete `kubectl certdoctor <TAB>` (save it on PATH, chmod +x)")
    comp.add_argument("shell", choices=["bash", "zsh", "fish", "kubectl"])
    return p


def options_from(ns: argparse.Namespace) -> Options:
    return Options(
        kubeconfig=ns.kubeconfig,
        context=ns.context,
        namespace=ns.namespace,
        all_namespaces=bool(ns.all_namespaces),
        request_timeout=parse_duration(ns.request_timeout),
        as_user=ns.as_user,
        as_groups=list(ns.as_groups or []),
        read_only=bool(ns.read_only),
        from_file=ns.from_file,
        demo=ns.demo,
        probe_image=mirrored_image(
            ns.probe_image or Options.probe_image,
            getattr(ns, "probe_image_mirror", None) or os.environ.get(MIRROR_ENV)),
        theme=getattr(ns, "theme", None) or "",
    )


def _handler(command: str | None) -> Callable[[Options, argparse.Namespace], int]:
    """Import only the module the command needs (keeps start-up fast)."""
    if command == "check":
        from kubectl_certdoctor.commands.check import run
    elif command == "dump":
        from kubectl_certdoctor.commands.dump import run
    elif command == "probe":
        from kubectl_certdoctor.commands.probe import run
    elif command == "fix":
        from kubectl_certdoctor.commands.fix import run
    else:
        from kubectl_certdoctor.commands.tui import run
    return run


def _parse(parser: argparse.ArgumentParser, args: list[str]) -> argparse.Namespace:
    """Parse with flags anywhere, as kubectl allows: ``fix renew --yes cert/web`` too.

    argparse fills optional positionals from the first run of words only, so a
    target written after a flag comes back as an extra; give it its place.
    """
    ns, extras = parser.parse_known_args(args)
    for word in list(extras):
        if word.startswith("-") or getattr(ns, "command", None) not in ("probe", "fix",
                                                                               "check"):
            break
        if getattr(ns, "target", None) is None:
            ns.target = word
            extras.remove(word)
    if extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return ns


_COMMANDS = frozenset({"check", "dump", "probe", "fix", "completion"})
_FOCUS = re.compile(r"^(?:certificates?|certs?)(?:\.cert-manager\.io)?/([^/\s]+)$", re.I)


def _take_focus(args: list[str]) -> str | None:
    """``kubectl certdoctor certificate/NAME`` opens the TUI on one Certificate: take that
    word out before argparse (which would read it as a command) and return NAME."""
    for i, a in enumerate(args):
        if a in _COMMANDS:
            return None
        m = _FOCUS.match(a)
        if m:
            del args[i]
            return m.group(1)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Ctrl-C at any moment — even while modules are still being
    imported — exits 130 with one line, never a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["__complete"]:
        from kubectl_certdoctor.completion import run_complete

        return run_complete(args[1:])
    parser = build_parser()
    focus = _take_focus(args)
    ns = _parse(parser, args)  # exits 2 with a one-line error on bad flags
    if ns.command == "completion":
        from kubectl_certdoctor.completion import script

        sys.stdout.write(script(ns.shell))
        return 0
    try:
        opts = options_from(ns)
        opts.focus = focus
        return _handler(ns.command)(opts, ns)
    except CertdoctorError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
