"""Redaction before anything is stored, shown or written (minimal version).

Written by the cluster-access helper because the store needs it; the redaction
helper owns this module and may replace it with a fuller one keeping ``sanitize``.
Secrets keep only ``tls.crt``/``ca.crt``; environment values whose names look like
credentials are replaced; ``last-applied-configuration`` (a copy of the whole
object, Secret data included) is dropped.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_certdoctor.objects import Obj

PUBLIC_SECRET_KEYS = ("tls.crt", "ca.crt")
REDACTED = "<redacted>"
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_CREDENTIAL_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.I)
_PROXY_NAME = re.compile(r"^(https?_proxy|all_proxy)$", re.I)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


def sanitize(obj: Obj) -> Obj:
    """A copy safe to store and print; the input is not modified."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    md = out.get("metadata")
    if isinstance(md, dict):
        ann = md.get("annotations")
        if isinstance(ann, dict) and _LAST_APPLIED in ann:
            md = dict(md)
            md["annotations"] = {k: v for k, v in ann.items() if k != _LAST_APPLIED}
            out["metadata"] = md
    if out.get("kind") == "Secret":
        raw = out.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        out["data"] = {k: data[k] for k in PUBLIC_SECRET_KEYS if k in data}
        out.pop("stringData", None)
        return out
    if isinstance(out.get("spec"), dict):
        out["spec"] = _redact_env_tree(out["spec"])
        if out.get("kind") in ("Issuer", "ClusterIssuer"):
            # DNS-01 webhook ``config`` is free-form JSON and may inline API keys
            out["spec"] = _redact_keys(out["spec"])
    return out


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
                and not key.endswith(("Ref", "Name")):
            res[k] = REDACTED
        else:
            res[k] = _redact_keys(v, depth + 1)
    return res


def _redact_env_tree(node: Any, depth: int = 0) -> Any:
    """Replace credential-looking ``env`` values in pod templates and containers."""
    if depth > 16:
        return node
    if isinstance(node, list):
        return [_redact_env_tree(v, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    res: dict[str, Any] = {}
    for k, v in node.items():
        if k == "env" and isinstance(v, list):
            res[k] = [_redact_env(e) for e in v]
        else:
            res[k] = _redact_env_tree(v, depth + 1)
    return res


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
