"""The user's key bindings: ``~/.config/kubectl-certdoctor/keymap.toml`` (``$XDG_CONFIG_HOME``
respected; ``$CERTDOCTOR_KEYMAP`` names another file).

Every binding of the TUI has an id (``tree.filter``, ``detail.blocker``…; the help screen
lists keys, the ids are in the screens' ``BINDINGS``). The file maps ids to keys, as
Textual's ``App.set_keymap`` takes them — one key or several separated by commas::

    # kubectl certdoctor keymap
    tree.filter = "ctrl+f"          # dotted keys are TOML tables: [tree] filter = … too
    tree.problems = "x"
    "detail.blocker" = "B,b"

A missing file is no keymap; a broken one, an unknown id or a value that is not a string
is reported (the app shows it as a warning) and the rest still applies.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

ENV = "CERTDOCTOR_KEYMAP"


def keymap_path() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kubectl-certdoctor" / "keymap.toml"


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def load_keymap(path: Path, known: set[str]) -> tuple[dict[str, str], list[str]]:
    """(binding id → keys, problems) from ``path``; ``known`` are the valid ids."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, []
    except OSError as e:
        return {}, [f"{path}: {e.strerror or e}"]
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return {}, [f"{path}: not valid TOML: {e}"]
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for bid, keys in _flatten(doc).items():
        if bid not in known:
            problems.append(f"{path}: unknown binding id {bid!r}")
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f"{path}: {bid} must be a key name string such as \"ctrl+f\"")
        else:
            keymap[bid] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap, problems
