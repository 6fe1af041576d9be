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
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from kubectl_certdoctor import __version__
from kubectl_certdoctor.errors import BundleError
from kubectl_certdoctor.objects import Obj, ObjectSet
from kubectl_certdoctor.redact import sanitize

#: files larger than this are refused before parsing (a cluster dump of 10k certs is ~60 MB)
MAX_BYTES = 200 * 1024 * 1024
#: where the bundle records its own context, source and capture time
META_ANNOTATION = "certdoctor.io/bundle"


def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BundleError(f"{path}: not a text file (invalid UTF-8 at byte {e.start})") from None
    try:
        return [d for d in yaml.load_all(text, Loader=_yaml_loader()) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        if json_error is not None:
            raise BundleError(f"{path}: not valid JSON ({json_error})") from None
        raise BundleError(f"{path}: not valid YAML{where}: {problem}") from None
    except (ValueError, TypeError, RecursionError) as e:
        raise BundleError(f"{path}: cannot be parsed: {e}") from None


def _items(doc: Any, inherited_kind: str = "") -> Iterator[Obj]:
    """Flatten Lists into objects; typed lists lend their item kind to bare items."""
    if not isinstance(doc, dict):
        return
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        item_kind = kind[: -len("List")] if kind != "List" else ""
        for it in doc["items"]:
            yield from _items(it, item_kind)
        return
    if not kind and inherited_kind:
        doc = {**doc, "kind": inherited_kind}
        kind = inherited_kind
    if isinstance(kind, str) and kind and isinstance(doc.get("metadata"), dict):
        yield doc


def load_bundle(path: str | os.PathLike[str]) -> ObjectSet:
    """Read a bundle file into an ObjectSet; ``BundleError`` for anything unusable."""
    p = os.fspath(path)
    try:
        size = os.path.getsize(p)
        if os.path.isdir(p):
            raise BundleError(f"{p}: is a directory, not a bundle file")
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
    return load_documents(_parse(p, raw), name=p)


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
