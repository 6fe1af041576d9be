"""Redaction before anything is stored, shown or written.

Every object the tool holds passes through :func:`sanitize` (the live store on
every watch event, the bundle reader and writer), so it must be pure and cheap.
What it guarantees:

- Secrets keep only ``tls.crt``/``ca.crt`` data; the names of the dropped keys
  are kept in the ``certdoctor.io/redacted-keys`` annotation so the UI can say
  "tls.key present (not read)" without ever holding the key.
- ``metadata.managedFields`` and ``last-applied-configuration`` (a full copy of
  the object, Secret data included) are dropped.
- ``env`` values whose name looks like a credential, and ``user:pass@`` in URLs,
  become ``<redacted>``; DNS-01 webhook config values under credential-like keys too.
- Any string anywhere holding a PEM private key, or base64 of one (at any byte offset,
  after a certificate chain, line-wrapped), is replaced.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from kubectl_certdoctor.objects import Obj

PUBLIC_SECRET_KEYS = ("tls.crt", "ca.crt")
REDACTED = "<redacted>"
#: annotation listing the Secret data keys that were removed (comma separated, sorted)
REDACTED_KEYS_ANNOTATION = "certdoctor.io/redacted-keys"
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_CREDENTIAL_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth|(^|_)key$)",
    re.I)
_PROXY_NAME = re.compile(r"^(https?_proxy|all_proxy)$", re.I)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)
#: a PEM private key block of any flavour (RSA, EC, ENCRYPTED, OPENSSH…)
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
#: a base64 run (line-wrapped or not), ending at its padding
_B64_RUN = re.compile(r"[A-Za-z0-9+/\s]+={0,2}")
_MAX_DEPTH = 64


def sanitize(obj: Obj) -> Obj:
    """A copy safe to store and print; the input is not modified. Parts that need no
    redaction are shared with the input, not copied: objects are treated as immutable
    everywhere (the store replaces, never mutates; planners deep-copy before patching)."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    md = out.get("metadata")
    if isinstance(md, dict):
        md = dict(md)
        md.pop("managedFields", None)
        ann = md.get("annotations")
        if isinstance(ann, dict) and _LAST_APPLIED in ann:
            md["annotations"] = {k: v for k, v in ann.items() if k != _LAST_APPLIED}
        out["metadata"] = md
    if out.get("kind") == "Secret":
        _sanitize_secret(out)
    elif isinstance(out.get("spec"), dict):
        out["spec"] = _redact_env_tree(out["spec"])
        if out.get("kind") in ("Issuer", "ClusterIssuer"):
            # DNS-01 webhook ``config`` is free-form JSON and may inline API keys
            out["spec"] = _redact_keys(out["spec"])
    result = _scrub_private_keys(out, 0)
    return result if isinstance(result, dict) else {}


def _sanitize_secret(out: Obj) -> None:
    """Keep public certificate data only; remember which keys existed."""
    dropped: set[str] = set()
    for field in ("data", "stringData"):
        raw = out.get(field)
        if raw is None:
            continue
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        dropped.update(str(k) for k in data if k not in PUBLIC_SECRET_KEYS)
        kept = {k: data[k] for k in PUBLIC_SECRET_KEYS if k in data}
        if field == "stringData" and not kept:
            out.pop(field, None)
        else:
            out[field] = kept
    if "data" not in out:
        out["data"] = {}
    if dropped:
        md = out.get("metadata")
        md = dict(md) if isinstance(md, dict) else {}
        ann = md.get("annotations")
        ann = dict(ann) if isinstance(ann, dict) else {}
        ann[REDACTED_KEYS_ANNOTATION] = ",".join(sorted(dropped))
        md["annotations"] = ann
        out["metadata"] = md


def _b64_markers(marker: bytes) -> tuple[str, ...]:
    """The base64 text of ``marker`` at each of the three byte alignments.

    A PEM block may sit anywhere in the encoded bytes (after a certificate chain, after a
    BOM or a comment line), so its base64 form depends on its offset modulo 3; only the
    characters fully determined by the marker are kept.
    """
    out = []
    for off in range(3):
        a = base64.b64encode(b"\x00" * off + marker + b"\x00\x00\x00").decode()
        b = base64.b64encode(b"\xff" * off + marker + b"\xff\xff\xff").decode()
        start = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x == y)
        end = next(i for i in range(start, len(a)) if a[i] != b[i])
        out.append(a[start:end])
    return tuple(out)


#: base64 of "-----BEGIN" at offsets 0, 1, 2 (mod 3) of the encoded bytes
_B64_BEGIN = _b64_markers(b"-----BEGIN")


def _is_private_key_text(s: str) -> bool:
    if "PRIVATE KEY" in s and _PEM_PRIVATE.search(s):
        return True
    if not any(m in s for m in _B64_BEGIN):
        return False
    for run in _B64_RUN.finditer(s):
        chunk = run.group(0)
        if any(m in chunk for m in _B64_BEGIN) and \
                _decodes_to_private_key(re.sub(r"\s+", "", chunk)):
            return True
    return False


def _decodes_to_private_key(chunk: str) -> bool:
    """Decode at each of the four character alignments: one of them is the blob's own."""
    for shift in range(4):
        part = chunk[shift:]
        part = part[: len(part) - len(part) % 4]
        try:
            decoded = base64.b64decode(part, validate=False)
        except (binascii.Error, ValueError):
            continue
        if b"PRIVATE KEY-----" in decoded and \
                _PEM_PRIVATE.search(decoded.decode("ascii", "replace")):
            return True
    return False


def _scrub_private_keys(node: Any, depth: int) -> Any:
    """Replace any string (value or key) carrying a private key; copies only what changes."""
    if isinstance(node, str):
        return REDACTED if _is_private_key_text(node) else node
    if depth > _MAX_DEPTH:
        return REDACTED if isinstance(node, (dict, list)) else node
    if isinstance(node, dict):
        changed = False
        res: dict[Any, Any] = {}
        for k, v in node.items():
            nk = REDACTED if isinstance(k, str) and _is_private_key_text(k) else k
            nv = _scrub_private_keys(v, depth + 1)
            changed = changed or nk is not k or nv is not v
            res[nk] = nv
        return res if changed else node
    if isinstance(node, list):
        items = [_scrub_private_keys(v, depth + 1) for v in node]
        if any(a is not b for a, b in zip(items, node, strict=True)):
            return items
        return node
    return node


def _redact_keys(node: Any, depth: int = 0) -> Any:
    """Replace string values under credential-looking keys (``apiKey``, ``password``…);
    references (``*SecretRef``/``*Ref`` objects, ``secretName``) are kept."""
    if depth > 16:
        return node
    if isinstance(node, list):
        return [_redact_keys(v, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    res: dict[str, Any] = {}
    for k, v in node.items():
        key = str(k)
        if isinstance(v, str) and _CREDENTIAL_NAME.search(key) \
                and not key.endswith(("Ref", "Name")) and key != "key":
            res[k] = REDACTED
        else:
            res[k] = _redact_keys(v, depth + 1)
    return res


def _redact_env_tree(node: Any, depth: int = 0) -> Any:
    """Replace credential-looking ``env`` values in pod templates and containers. Copies
    only what changes: the store keeps every object, so a copy of each spec would double
    what a large cluster costs in memory."""
    if depth > 16:
        return node
    if isinstance(node, list):
        items = [_redact_env_tree(v, depth + 1) for v in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not isinstance(node, dict):
        return node
    res: dict[str, Any] = {}
    changed = False
    for k, v in node.items():
        if k == "env" and isinstance(v, list):
            nv: Any = [_redact_env(e) for e in v]
            if all(a is b for a, b in zip(nv, v, strict=True)):
                nv = v
        else:
            nv = _redact_env_tree(v, depth + 1)
        changed = changed or nv is not v
        res[k] = nv
    return res if changed else node


def _redact_env(entry: Any) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
        return entry
    nm = str(entry.get("name") or "")
    value = entry["value"]
    if _CREDENTIAL_NAME.search(nm):
        return {**entry, "value": REDACTED}
    if _PROXY_NAME.match(nm) or _URL_USERINFO.search(value):
        return {**entry, "value": _URL_USERINFO.sub(r"\g<scheme>" + REDACTED + "@", value)}
    return entry
