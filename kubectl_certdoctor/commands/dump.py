"""``kubectl certdoctor dump [-A|-n NS] [-o FILE]``: everything the tree needs, in one file.

The objects come from the same store the TUI uses (one LIST per kind, sanitised on
arrival: Secrets keep only ``tls.crt``/``ca.crt``, credential-looking env values are
redacted). Before anything is written the whole bundle is rendered in memory and
checked once more for PEM private-key blocks, so a redaction gap can never leak a
key into a file that gets attached to a ticket. The file appears atomically.
Never writes to the cluster, so ``--read-only`` changes nothing here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from typing import Any

from kubectl_certdoctor.errors import CertdoctorError, ClusterError
from kubectl_certdoctor.kinds import BY_NAME
from kubectl_certdoctor.objects import ObjectSet
from kubectl_certdoctor.options import Options

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def collect_live(opts: Options) -> tuple[ObjectSet, dict[str, Any]]:
    """Connect, list every kind once, and return the snapshot plus bundle metadata."""
    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.cluster.store import Store

    conn = connect(opts)
    ns = None if opts.all_namespaces else (opts.namespace or conn.namespace or "default")
    store = Store(conn, ns)
    try:
        store.start()
        timeout = max(float(opts.request_timeout or 10.0), 1.0) * 3
        synced = store.synced.wait(timeout)
        objs = store.snapshot()
        states = store.states()
    finally:
        store.stop()
        conn.close()
    if not any(s.state == "live" for s in states.values()):
        first = next((s for s in states.values() if s.message), None)
        raise ClusterError("nothing could be read from the cluster",
                           hint=f"{first.state}: {first.message}" if first else None)
    if not synced:
        pending = sorted(f"{k} ({s})" for k, s in states.items() if s.state not in
                         ("live", "forbidden", "missing", "error"))
        raise ClusterError(f"timed out after {timeout:.0f}s reading the cluster",
                           hint="still waiting for " + ", ".join(pending))
    objs.context = conn.context
    meta: dict[str, Any] = {
        "context": conn.context,
        "namespace": ns or "",
        "allNamespaces": ns is None,
        "kinds": {k: str(s) for k, s in sorted(states.items())},
    }
    return objs, meta


def render(objs: ObjectSet, meta: dict[str, Any]) -> str:
    """The bundle as text, refused if a private key slipped through redaction."""
    from kubectl_certdoctor.bundle import write_bundle

    buf = io.StringIO()
    write_bundle(objs, buf, meta)
    text = buf.getvalue()
    if _PRIVATE_KEY.search(text):
        raise CertdoctorError("refusing to write the bundle: it would contain a private key",
                              hint="please report this redaction bug")
    return text


def write_atomically(path: str, text: str) -> None:
    """Write via a temporary file in the same directory, then rename over the target."""
    target = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".certdoctor-dump-", dir=directory)
    except OSError as e:
        raise CertdoctorError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CertdoctorError(f"cannot write {path}: {e.strerror or e}") from None


def unreadable_warnings(kinds: dict[str, str]) -> list[str]:
    """One warning per state ("forbidden", "missing", …) naming the kinds left out, with
    the first server message as the example; absent optional kinds are not worth one."""
    by_state: dict[str, list[tuple[str, str]]] = {}
    for kind, desc in sorted(kinds.items()):
        state, _, message = str(desc).partition(": ")
        k = BY_NAME.get(kind)
        if state == "live" or (k is not None and k.optional and state == "missing"):
            continue
        by_state.setdefault(state, []).append((kind, message))
    lines = []
    for state, entries in by_state.items():
        example = next((m for _, m in entries if m), "")
        lines.append(f"warning: not in the bundle ({state}): "
                     + ", ".join(k for k, _ in entries) + (f" — {example}" if example else ""))
    return lines


def run(opts: Options, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if opts.offline:  # re-bundle a bundle or the demo (e.g. to normalise a file)
        from kubectl_certdoctor.commands.check import load_offline

        objs = load_offline(opts, now)
        meta: dict[str, Any] = {"source": objs.source, "context": objs.context}
    else:
        objs, meta = collect_live(opts)
    text = render(objs, meta)
    out = getattr(args, "output", "-") or "-"
    if out == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(out, text)
    for line in unreadable_warnings(meta.get("kinds") or {}):
        print(line, file=sys.stderr)
    if out != "-":
        print(f"wrote {len(objs)} objects to {out}", file=sys.stderr)
    return 0
