"""Rich styles from the app's Textual theme, so dark and light terminals both read well.

The widgets build ``rich.text.Text`` in pure functions and name colours the way people
think of them ("red" for failed, "green" for ready). ``sty`` turns such a style string into
the current theme's colours at render time: ``sty("bold red")`` → ``bold #D17E92`` on
textual-dark and ``bold #7A273C`` on textual-light (the theme's ``text-error``, which
Textual already contrasts with the background); ``sty("bold white on red")`` uses the
theme's ``error`` as background and a text colour that contrasts with it. The app calls
``use_theme`` with ``App.get_css_variables()`` on start and whenever the theme changes,
then re-renders. Before that (pure-function tests), the dark theme's values apply.
"""

from __future__ import annotations

from functools import lru_cache

#: colour word → theme variable for foreground use (contrasted with the background)
FOREGROUND = {
    "green": "text-success", "red": "text-error", "yellow": "text-warning",
    "cyan": "text-primary", "bright_blue": "text-primary", "blue": "text-primary",
    "magenta": "text-accent", "bright_black": "text-muted", "white": "foreground",
    "black": "foreground",
}
#: colour word → theme variable for background use (badges)
BACKGROUND = {
    "green": "success", "red": "error", "yellow": "warning", "cyan": "primary",
    "bright_blue": "primary", "blue": "primary", "magenta": "accent",
    "bright_black": "panel", "white": "foreground", "black": "background",
}
_DARK = {
    "text-success": "#8AD4A1", "text-error": "#D17E92", "text-warning": "#FFC473",
    "text-primary": "#57A5E2", "text-accent": "#FFC473", "text-muted": "#8C8C8C",
    "foreground": "#E0E0E0", "background": "#121212", "success": "#4EBF71",
    "error": "#B93C5B", "warning": "#FEA62B", "primary": "#0178D4", "accent": "#FEA62B",
    "panel": "#242F38",
}
_vars: dict[str, str] = dict(_DARK)
_generation = 0


def _hex(value: str) -> str | None:
    from textual.color import Color, ColorParseError

    try:
        return Color.parse(value).hex
    except ColorParseError:
        return None


def use_theme(variables: dict[str, str]) -> bool:
    """Take the theme's colours (``App.get_css_variables()``); True when they changed."""
    global _generation
    new = dict(_DARK)
    fg = _hex(variables.get("foreground", "")) or _DARK["foreground"]
    bg = _hex(variables.get("background", "")) or _DARK["background"]
    for key in _DARK:
        got = _hex(variables.get(key, "")) if key in variables else None
        if got is not None:
            new[key] = got
    if "text-muted" not in variables or _hex(variables["text-muted"]) is None:
        # "auto 60%": the foreground blended toward the background
        from textual.color import Color

        new["text-muted"] = Color.parse(bg).blend(Color.parse(fg), 0.6).hex
    if "text-accent" not in variables:
        new["text-accent"] = new["text-warning"]
    if new == _vars:
        return False
    _vars.clear()
    _vars.update(new)
    _generation += 1
    sty.cache_clear()
    return True


def generation() -> int:
    """Bumped by every theme change (widgets keyed on it re-render)."""
    return _generation


def _contrast(bg: str) -> str:
    from textual.color import Color

    return Color.parse(bg).get_contrast_text(1.0).hex


@lru_cache(maxsize=512)
def sty(style: str) -> str:
    """A style string with its colour words replaced by the theme's colours."""
    words = style.split()
    out: list[str] = []
    bg_word = ""
    if "on" in words:
        i = words.index("on")
        bg_word = " ".join(words[i + 1:])
        words = words[:i]
    bg = ""
    if bg_word:
        var = BACKGROUND.get(bg_word)
        bg = _vars[var] if var else bg_word
    for w in words:
        var = FOREGROUND.get(w)
        if var is None:
            out.append(w)
        elif bg and w in ("white", "black"):
            out.append(_contrast(bg))  # badge text: contrast with its background
        else:
            out.append(_vars[var])
    if bg:
        out += ["on", bg]
    return " ".join(out)


def colour(var: str) -> str:
    """One theme colour by its Textual variable name (``error``, ``text-success``…)."""
    return _vars.get(var, _DARK.get(var, ""))


def syntax_theme() -> str:
    """The Pygments theme for YAML and diffs: ANSI colours the terminal itself adapts."""
    from textual.color import Color

    return "ansi_light" if Color.parse(_vars["background"]).brightness > 0.5 else "ansi_dark"
