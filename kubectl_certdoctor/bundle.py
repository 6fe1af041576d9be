"""Bundle files: everything the tree needs, as one Kubernetes ``v1 List``.

A bundle is what ``kubectl certdoctor dump`` writes and ``--from-file`` opens.
The reader is forgiving about shape (a ``v1 List``, any ``*List``, a single
object, multi-document YAML, or JSON) because users also feed it what
``kubectl get -o yaml`` printed; it is strict about content: anything that is
not Kubernetes objects is a ``BundleError`` naming the file and the problem.
Every object passes through :func:`kubectl_certdoctor.redact.sanitize`, so a
bundle never carries a private key, whatever the file held. Reading a bundle
never touches the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from kubectl_certdoctor import __version__
from kubectl_certdoctor.errors import BundleError
from kubectl_certdoctor.objects import Obj, ObjectSet, parse_time
from kubectl_certdoctor.redact import sanitize

#: files larger than this are refused before parsing (a cluster dump of 10k certs is ~60 MB)
MAX_BYTES = 200 * 1024 * 1024
#: where the bundle records its own context, source and capture time
META_ANNOTATION = "certdoctor.io/bundle"


_LOADER: Any = None


def yaml_loader() -> Any:
    """The fast safe YAML loader, minus timestamp parsing: times stay the strings the API
    server wrote (``parse_time`` reads them), even when a hand-written file left them unquoted."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Loader(base):  # type: ignore[valid-type,misc]
            pass

        Loader.yaml_implicit_resolvers = {
            ch: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
            for ch, rs in base.yaml_implicit_resolvers.items()
        }
        _LOADER = Loader
    return _LOADER


def _decode(path: str, raw: bytes) -> str:
    """Text of the file; UTF-16 with a BOM is accepted (PowerShell's ``>`` writes it)."""
    try:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BundleError(f"{path}: not a text file (invalid encoding at byte {e.start})") \
            from None


def _parse(path: str, raw: bytes) -> list[Any]:
    """Decode JSON or (multi-document) YAML into Python values."""
    json_error: Exception | None = None
    if raw.lstrip()[:1] in (b"{", b"["):
        import orjson

        try:
            return [orjson.loads(raw)]
        except orjson.JSONDecodeError as e:
            json_error = e  # JSON is a subset of YAML: let the YAML parser have a go
    import yaml

    text = _decode(path, raw)
    # libyaml's composer recurses on the C stack: deep nesting would crash the process, so
    # pathological files go to the pure-Python loader, which raises RecursionError instead.
    loader = yaml.SafeLoader if _deeply_nested(raw) else yaml_loader()
    try:
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        if "nesting depth" in str(problem):  # PyYAML >= 6.0.4 has a limit of its own
            raise BundleError(f"{path}: nested too deeply to be Kubernetes objects") from None
        if json_error is not None:
            raise BundleError(f"{path}: not valid JSON ({json_error})") from None
        raise BundleError(f"{path}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise BundleError(f"{path}: nested too deeply to be Kubernetes objects") from None
    except (ValueError, TypeError, OverflowError) as e:
        raise BundleError(f"{path}: cannot be parsed: {e}") from None
    _check_size(path, docs)
    return docs


_OPENERS = re.compile(rb"[\[\]{}]")
_DEEP_INDENT = re.compile(rb"^[ \t]{200,}\S", re.M)
_MAX_FLOW_DEPTH = 100


def _deeply_nested(raw: bytes) -> bool:
    """Nesting libyaml cannot take safely (kubectl output nests a dozen levels at most)."""
    if _DEEP_INDENT.search(raw):
        return True
    if raw.count(b"[") + raw.count(b"{") <= _MAX_FLOW_DEPTH:
        return False
    depth = 0
    for m in _OPENERS.finditer(raw):
        if m.group(0) in (b"[", b"{"):
            depth += 1
            if depth > _MAX_FLOW_DEPTH:
                return True
        elif depth:
            depth -= 1
    return False


#: a parsed file may expand to at most this many values (YAML aliases can multiply a small
#: file into billions: refuse that instead of hanging)
MAX_NODES = 20_000_000


def _check_size(path: str, docs: list[Any]) -> None:
    """Refuse alias bombs: count values as if aliases were expanded (linear, memoised)."""
    memo: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key in memo:
            return memo[key]
        if depth > 500:
            raise BundleError(f"{path}: nested too deeply to be Kubernetes objects")
        memo[key] = 0  # a self-referencing alias counts as nothing more
        values = node.values() if isinstance(node, dict) else node
        total = 1
        for v in values:
            total += size(v, depth + 1)
            if total > MAX_NODES:
                raise BundleError(f"{path}: expands to more than {MAX_NODES} values "
                                  "(YAML aliases?); not a kubectl dump")
        memo[key] = total
        return total

    total = 0
    for d in docs:
        total += size(d, 0)
        if total > MAX_NODES:
            raise BundleError(f"{path}: expands to more than {MAX_NODES} values")


def _items(doc: Any, inherited_kind: str = "", inherited_api: str = "",
           depth: int = 0) -> Iterator[Obj]:
    """Flatten Lists into objects; typed lists lend their item kind and apiVersion."""
    if isinstance(doc, list) and depth == 0:  # a JSON array of objects
        for it in doc:
            yield from _items(it, depth=depth + 1)
        return
    if not isinstance(doc, dict) or depth > 8:
        return
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        item_kind = kind[: -len("List")] if kind != "List" else ""
        api = doc.get("apiVersion")
        item_api = api if item_kind and isinstance(api, str) else ""
        for it in doc["items"]:
            yield from _items(it, item_kind, item_api, depth + 1)
        return
    if not kind and inherited_kind:
        doc = {**doc, "kind": inherited_kind}
        kind = inherited_kind
    if not doc.get("apiVersion") and inherited_api:
        doc = {**doc, "apiVersion": inherited_api}
    if isinstance(kind, str) and kind and isinstance(doc.get("metadata"), dict):
        yield doc


def load_bundle(path: str | os.PathLike[str]) -> ObjectSet:
    """Read a bundle file into an ObjectSet; ``BundleError`` for anything unusable."""
    p = os.fspath(path)
    try:
        if os.path.isdir(p):
            raise BundleError(f"{p}: is a directory, not a bundle file")
        size = os.path.getsize(p)
        if size > MAX_BYTES:
            raise BundleError(f"{p}: too large ({size // (1024 * 1024)} MB > 200 MB)")
        with open(p, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise BundleError(f"{p}: no such file") from None
    except PermissionError:
        raise BundleError(f"{p}: permission denied") from None
    except IsADirectoryError:
        raise BundleError(f"{p}: is a directory, not a bundle file") from None
    except OSError as e:
        raise BundleError(f"{p}: cannot be read ({e.strerror or e})") from None
    if not raw.strip():
        raise BundleError(f"{p}: empty file")
    objs = load_documents(_parse(p, raw), name=p)
    recorded = objs.observed_at
    objs.observed_at = judged_at(objs, recorded)
    if recorded is None and objs.observed_at is not None:
        objs.source += (f" (no capture time recorded: judged at "
                        f"{objs.observed_at:%Y-%m-%d %H:%M} UTC, its newest timestamp)")
    return objs


#: keys whose times say when something was observed or happened (not notAfter, renewalTime
#: or other times that may lie ahead of the capture)
_OBSERVED_KEYS = frozenset({
    "creationTimestamp", "lastTransitionTime", "lastTimestamp", "firstTimestamp", "eventTime",
    "lastObservedTime", "lastFailureTime", "failureTime", "lastUpdateTime", "startedAt",
    "finishedAt", "lastProbeTime",
})
#: a bundle whose newest timestamp is older than this was not captured "now"
STALE_AFTER = timedelta(days=1)


def newest_time(objs: ObjectSet) -> datetime | None:
    """The newest observation time written anywhere in the objects."""
    best: datetime | None = None
    stack: list[Any] = list(objs)
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for k, v in cur.items():
                if k in _OBSERVED_KEYS and isinstance(v, str):
                    t = parse_time(v)
                    if t is not None and (best is None or t > best):
                        best = t
                elif isinstance(v, (dict, list)):
                    stack.append(v)
        elif isinstance(cur, list):
            stack.extend(cur)
    return best


def judged_at(objs: ObjectSet, captured: datetime | None,
              now: datetime | None = None) -> datetime | None:
    """When a bundle is judged: its recorded capture time; else, when every time in it is
    older than a day, its newest timestamp (a report pasted months later must not read as
    "expired 600 days ago"); else None (now)."""
    if captured is not None:
        return captured
    newest = newest_time(objs)
    now = now or datetime.now(UTC)
    if newest is not None and now - newest > STALE_AFTER:
        return newest
    return None


def load_documents(docs: list[Any], name: str = "<bundle>") -> ObjectSet:
    """Objects from already-parsed documents (also used by the scenario library)."""
    objs = ObjectSet(source=f"bundle:{name}")
    found_any = False
    for doc in docs:
        if isinstance(doc, dict):
            meta = _bundle_meta(doc)
            if meta:
                objs.context = str(meta.get("context") or objs.context)
                captured = meta.get("capturedAt")
                if captured:
                    objs.source = f"bundle:{name} (captured {captured})"
                    objs.observed_at = parse_time(captured)
                kinds = meta.get("kinds")
                if isinstance(kinds, dict):
                    # "Secret": "forbidden: …" as dump recorded each watch's state
                    objs.unseen = frozenset(
                        str(k).split("/", 1)[0] for k, v in kinds.items()
                        if str(v).split(":", 1)[0] in ("forbidden", "error"))
        for obj in _items(doc):
            found_any = True
            objs.add(sanitize(obj))
    if not found_any:
        raise BundleError(
            f"{name}: no Kubernetes objects found",
            hint="expected a v1 List, a *List, objects with kind and metadata, "
            "or multi-document YAML",
        )
    return objs


def _bundle_meta(doc: dict[str, Any]) -> dict[str, Any]:
    md = doc.get("metadata")
    if not isinstance(md, dict):
        return {}
    ann = md.get("annotations")
    if not isinstance(ann, dict) or not isinstance(ann.get(META_ANNOTATION), str):
        return {}
    import orjson

    try:
        meta = orjson.loads(ann[META_ANNOTATION])
    except orjson.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def write_bundle(objs: ObjectSet, fp: IO[str], meta: dict[str, Any] | None = None) -> int:
    """Write ``objs`` as one ``v1 List``; returns the number of objects written.

    Objects are sanitized again on the way out: a bundle is meant to be attached
    to tickets, so it must be safe even if a caller forgot.
    """
    import orjson
    import yaml

    info = {
        "tool": f"kubectl-certdoctor {__version__}",
        "context": objs.context,
        "capturedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **(meta or {}),
    }
    items = [sanitize(o) for k in objs.kinds() for _, o in sorted(objs.objects[k].items())]
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"annotations": {META_ANNOTATION: orjson.dumps(info).decode()}},
        "items": items,
    }
    fp.write(
        f"# kubectl-certdoctor bundle: {len(items)} objects from context "
        f"{info['context'] or '?'} captured {info['capturedAt']}\n"
        "# Secret data other than tls.crt/ca.crt and credential-like values were removed.\n"
    )
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    yaml.dump(doc, fp, Dumper=dumper, sort_keys=False, default_flow_style=False, width=120)
    return len(items)
