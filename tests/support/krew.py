"""Structural validation of a krew v1alpha2 Plugin manifest.

Transcribes the checks krew itself runs (sigs.k8s.io/krew
internal/index/validation/validate.go: ValidatePlugin, validatePlatform,
validateFiles, validateSelector) plus the krew-index naming guide, so a
manifest that passes here is one krew would accept.
"""

from __future__ import annotations

import re
from typing import Any

SHA256 = re.compile(r"^[a-f0-9]{64}$")
SAFE_NAME = re.compile(r"^[\w-]+$")
# krew-index naming guide: lowercase, words separated by hyphens
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
WINDOWS_FORBIDDEN = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def validate(doc: Any, filename_stem: str) -> list[str]:
    """Every problem krew would report, empty when the manifest is valid."""
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["manifest is not a mapping"]
    if doc.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        errs.append(f"unsupported apiVersion {doc.get('apiVersion')!r}")
    if doc.get("kind") != "Plugin":
        errs.append(f"kind must be Plugin, not {doc.get('kind')!r}")
    name = (doc.get("metadata") or {}).get("name", "")
    if not SAFE_NAME.match(name) or name.upper() in WINDOWS_FORBIDDEN:
        errs.append(f"unsafe plugin name {name!r}")
    if not KEBAB.match(name):
        errs.append(f"plugin name {name!r} is not lowercase kebab-case")
    if name != filename_stem and filename_stem != "krew-manifest":
        errs.append(f"plugin should be named {filename_stem!r}, not {name!r}")
    spec = doc.get("spec") or {}
    short = spec.get("shortDescription", "")
    if not short:
        errs.append("should have a short description")
    elif "\n" in short or "\r" in short:
        errs.append("short description has a line break")
    elif len(short) > 50:
        errs.append("short description longer than 50 characters (krew-index guideline)")
    if not SEMVER.match(str(spec.get("version", ""))):
        errs.append(f"version {spec.get('version')!r} is not a v-prefixed semver")
    if not spec.get("description"):
        errs.append("should have a description")
    platforms = spec.get("platforms") or []
    if not platforms:
        errs.append("should have a platform specified")
    for i, pl in enumerate(platforms):
        where = f"platforms[{i}]"
        if not pl.get("uri"):
            errs.append(f"{where}: uri has to be set")
        if not SHA256.match(str(pl.get("sha256", ""))):
            errs.append(f"{where}: sha256 is not a lowercase hex sha256")
        if not pl.get("bin"):
            errs.append(f"{where}: bin has to be set")
        files = pl.get("files")
        if files is not None:
            if not files:
                errs.append(f"{where}: files has to be unspecified or non-empty")
            for f in files:
                if not f.get("from") or not f.get("to"):
                    errs.append(f"{where}: files need from and to")
        sel = pl.get("selector")
        if not sel or (not sel.get("matchLabels") and not sel.get("matchExpressions")):
            errs.append(f"{where}: empty selector is not supported")
        else:
            keys = list(sel.get("matchLabels") or {}) + [
                e.get("key") for e in sel.get("matchExpressions") or []
            ]
            errs += [f"{where}: selector key {k!r} not supported" for k in keys
                     if k not in ("os", "arch")]
    return errs
