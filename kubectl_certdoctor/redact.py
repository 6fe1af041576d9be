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
  become ``<redacted>``; DNS-01 webhook config values under credential-like keys too
  (in the issuers and in the copy of the solver every Challenge carries).
- Container ``args``/``command`` flags named like a credential (``--vault-token=X``,
  ``--api-key X``) and annotations named like one (outside cert-manager's and
  Kubernetes' own domains) lose their value: the controller's flags and a team's
  annotations are shown in the YAML view, the fix diffs and the bundle.
- In every string (status messages and reasons, Event messages, annotations, specs):
  ``user:pass@`` in URLs, ``Bearer``/``Basic`` tokens and ``password=…``-style pairs
  (``token=``, ``api_key=``, ``secret=``…, boolean values kept) are replaced: controllers
  quote the URL or request that failed, credentials included (redaction canary,
  tests/test_canary.py).
- Any string anywhere holding a PEM private key, or base64 of one (at any byte offset,
  after a certificate chain, line-wrapped), is replaced.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from kubectl_certdoctor.objects import Obj, dig

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
        if isinstance(ann, dict):
            md["annotations"] = _redact_annotations(ann)
        out["metadata"] = md
    if out.get("kind") == "Secret":
        _sanitize_secret(out)
    elif isinstance(out.get("spec"), dict):
        # an HTTP-01 solver pod's ``--token``/``--key`` are the public challenge answer
        # (the Challenge shows them too), not credentials
        solver = dig(out, "metadata", "labels", _SOLVER_LABEL) == "true"
        out["spec"] = _redact_env_tree(out["spec"], argv=not solver)
        if out.get("kind") in ("Issuer", "ClusterIssuer"):
            # DNS-01 webhook ``config`` is free-form JSON and may inline API keys
            out["spec"] = _redact_keys(out["spec"])
        elif out.get("kind") == "Challenge" and isinstance(out["spec"].get("solver"), dict):
            # a Challenge copies its issuer's solver, webhook ``config`` included (the rest
            # of its spec stays: ``token``/``key`` are the public HTTP-01 answer)
            out["spec"] = {**out["spec"], "solver": _redact_keys(out["spec"]["solver"])}
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


#: ``password=…``-style pairs in free text: the key ends in a credential word; booleans
#: (``--issuer-ambient-credentials=true``) and empty values are kept
_TEXT_PAIR = re.compile(
    r"(?P<pre>\b[A-Za-z0-9_.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key|credentials?)=)(?!(?:true|false)\b)"
    r"(?P<val>[^\s&\"',;)}\]]+)", re.I)
#: ``Bearer <token>`` / ``Basic <base64>`` (an Authorization header quoted in a message)
_AUTH_SCHEME = re.compile(r"(?P<pre>\b(?:Bearer|Basic)\s+)(?=[A-Za-z0-9._~+/-]*[0-9])"
                          r"[A-Za-z0-9._~+/=-]{8,}", re.I)


def scrub_text(s: str) -> str:
    """Credentials quoted in free text (a condition message quoting the URL that failed,
    an Event quoting a header): cheap substring tests first, the stores hold every string
    of every object."""
    if "@" in s and "://" in s:
        s = _URL_USERINFO.sub(r"\g<scheme>" + REDACTED + "@", s)
    if "=" in s and not s.startswith("-"):  # a flag: redact_argv judges it in its context
        s = _TEXT_PAIR.sub(lambda m: m.group("pre") + REDACTED, s)
    if "earer " in s or "asic " in s:
        s = _AUTH_SCHEME.sub(r"\g<pre>" + REDACTED, s)
    return s


def _scrub_private_keys(node: Any, depth: int) -> Any:
    """Replace any string (value or key) carrying a private key, and credentials quoted in
    free text (:func:`scrub_text`); copies only what changes."""
    if isinstance(node, str):
        if _is_private_key_text(node):
            return REDACTED
        scrubbed = scrub_text(node)
        return node if scrubbed == node else scrubbed
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


def _redact_env_tree(node: Any, depth: int = 0, argv: bool = True) -> Any:
    """Replace credential-looking ``env`` values (and, with ``argv``, credential flags in
    ``args``/``command``) in pod templates and containers. Copies only what changes: the
    store keeps every object, so a copy of each spec would double what a large cluster
    costs in memory."""
    if depth > 16:
        return node
    if isinstance(node, list):
        items = [_redact_env_tree(v, depth + 1, argv) for v in node]
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
        elif k in ("args", "command") and isinstance(v, list):
            nv = redact_argv(v) if argv else v
        else:
            nv = _redact_env_tree(v, depth + 1, argv)
        changed = changed or nv is not v
        res[k] = nv
    return res if changed else node


_FLAG = re.compile(r"^(?P<flag>-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*)(?:=(?P<val>.*))?$", re.S)


#: flags that name where a credential lives, not the credential
#: (``--dynamic-serving-ca-secret-name``, ``--tls-private-key-file``)
_REFERENCE_FLAGS = ("name", "namespace", "ref", "file", "path", "dir", "kind")
_SOLVER_LABEL = "acme.cert-manager.io/http01-solver"


def redact_argv(argv: list[Any]) -> list[Any]:
    """A container's ``args``/``command`` with the values of credential-named flags
    replaced: ``--vault-token=X`` and ``--api-key X`` (the next word). Booleans stay
    (``--issuer-ambient-credentials=true`` is read by the rules). Returns ``argv`` itself
    when nothing changed."""
    out = list(argv)
    changed = False
    for i, a in enumerate(argv):
        m = _FLAG.match(a) if isinstance(a, str) else None
        flag = m.group("flag").lstrip("-").lower() if m is not None else ""
        if m is None or not _CREDENTIAL_NAME.search(flag) or flag.endswith(_REFERENCE_FLAGS):
            continue
        val = m.group("val")
        if val is not None:
            if val and val.lower() not in ("true", "false"):
                out[i] = f"{m.group('flag')}={REDACTED}"
                changed = True
        elif i + 1 < len(argv) and isinstance(argv[i + 1], str) \
                and not argv[i + 1].startswith("-") \
                and argv[i + 1].lower() not in ("true", "false"):
            out[i + 1] = REDACTED
            changed = True
    return out if changed else argv


#: annotation domains whose keys name references and settings, never secrets
_SAFE_ANNOTATION_DOMAINS = ("cert-manager.io", "certdoctor.io", "kubernetes.io", "k8s.io",
                            "helm.sh")


def _redact_annotations(ann: dict[str, Any]) -> dict[str, Any]:
    """Without last-applied (a full copy of the object, Secret data included) and with the
    values of credential-named annotations (``example.com/api-token``) replaced."""
    out: dict[str, Any] = {}
    changed = False
    for k, v in ann.items():
        if k == _LAST_APPLIED:
            changed = True
            continue
        domain, _, nm = str(k).rpartition("/")
        if isinstance(v, str) and v and v.lower() not in ("true", "false") \
                and not domain.endswith(_SAFE_ANNOTATION_DOMAINS) \
                and _CREDENTIAL_NAME.search(nm) \
                and not nm.lower().endswith(("name", "ref", "-kind", "-namespace")):
            out[k] = REDACTED
            changed = True
        else:
            out[k] = v
    return out if changed else ann


def sanitize_patch(ops: list[Any]) -> list[Any]:
    """A JSON patch as the audit log and previews may show it: each ``value`` redacted in
    the context its ``path`` gives (an ``env`` entry, an ``args`` list, an annotation) and
    scrubbed like any object string. A fix that read the object raw (its ``test`` ops carry
    the real values) must not write them to the audit log."""
    out: list[Any] = []
    for op in ops:
        if not isinstance(op, dict) or "value" not in op:
            out.append(op)
            continue
        parts = str(op.get("path", "")).split("/")
        last = parts[-1] if parts else ""
        parent = parts[-2] if len(parts) > 1 else ""
        value = op["value"]
        if parent == "env" or last == "env":
            value = _redact_env_tree({"env": value if last == "env" else [value]})["env"]
            value = value if last == "env" else value[0]
        elif parent == "annotations" and isinstance(value, str):
            key = last.replace("~1", "/").replace("~0", "~")
            value = _redact_annotations({key: value}).get(key, REDACTED)
        elif parent == "metadata" and last == "annotations" and isinstance(value, dict):
            value = _redact_annotations(value)
        elif last in ("args", "command") and isinstance(value, list):
            value = redact_argv(value)
        elif parent in ("args", "command") and isinstance(value, str):
            value = redact_argv([value])[0]
        elif parent == "data" or last in ("data", "stringData"):
            value = REDACTED if parent == "data" else {k: REDACTED for k in value} \
                if isinstance(value, dict) else REDACTED
        out.append({**op, "value": _scrub_private_keys(_redact_env_tree(value), 0)})
    return out


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


#: ``key="value"``, ``key=value`` (klog text) and ``"key":"value"`` (JSON) pairs; a bare
#: value never starts an object or list, else ``"config": {"apiKey": "…"}`` is read as
#: one pair whose value swallows ``{"apiKey":`` and the key inside goes unseen (canary)
_KV_PAIR = re.compile(r'(?P<pre>"?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)"?\s*[=:]\s*)'
                      r'(?P<val>"(?:[^"\\]|\\.)*"|[^\s,{}\[\]]+)')
_BEARER = re.compile(r"(?P<pre>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}", re.I)


def redact_text(line: str) -> str:
    """One log line made safe to show: a private key anywhere blanks the whole line;
    values under credential-looking keys (``password=``, ``"apiKey":``), bearer/basic
    tokens and ``user:pass@`` in URLs become ``<redacted>``. Log lines are free text, so
    this is the same policy as :func:`sanitize` applied to words, not to fields."""
    if _is_private_key_text(line):
        return REDACTED
    out = _URL_USERINFO.sub(r"\g<scheme>" + REDACTED + "@", line)
    out = _BEARER.sub(r"\g<pre>" + REDACTED, out)

    def pair(m: re.Match[str]) -> str:
        key = m.group("key")
        if key == "key" or key.endswith(("Ref", "Name", "_name", "_kind", "_namespace")) \
                or not _CREDENTIAL_NAME.search(key):
            return m.group(0)
        return m.group("pre") + ('"' + REDACTED + '"' if m.group("val").startswith('"')
                                 else REDACTED)
    return _KV_PAIR.sub(pair, out)
