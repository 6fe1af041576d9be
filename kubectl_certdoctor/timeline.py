"""One object's timeline: the cert-manager controller's log lines that mention it, merged
with its Events, oldest first.

cert-manager puts some causes only in its log — a DNS provider's error that status
redacts, "skipping trigger" for Certificates that share a Secret — so the timeline is
where the Events stop explaining. Pure functions over strings and Event dicts: the lines
are fetched by ``cluster/podlogs.py`` and shown by ``screens/timeline.py``.

How a line is matched to an object (cert-manager v1.x, ``pkg/logs/logs.go``):

- ``logs.WithResource`` adds ``resource_name``, ``resource_namespace``, ``resource_kind``
  (and ``resource_version``); ``WithRelatedResource`` the same with ``related_``. klog's
  text format writes them as ``resource_name="web"``, the JSON format (``--logging-format
  =json``) as ``"resource_name":"web"``. A line naming the object there matches.
- The Certificate controllers log ``key`` (a ``types.NamespacedName``: ``key="ns/name"``
  in text, ``"key":{"name":…,"namespace":…}`` in JSON), e.g. the trigger controller's
  "Certificate.Spec.SecretName refers to the same Secret as other Certificates in the same
  namespace, skipping trigger.".
- Otherwise the object's name as a whole word anywhere in the line (after taking out the
  ``resource_*`` fields of another object, so a Secret named like its Certificate does not
  pull in every line about the Secret's other users).

Every line (and every Event message) passes ``redact.redact_text`` before it is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubectl_certdoctor.objects import Obj, Ref, as_dict, dig, parse_time, text
from kubectl_certdoctor.redact import redact_text

#: most entries one timeline keeps (the newest); the fetch is bounded too
MAX_ENTRIES = 400

#: ``timestamps=true`` prefix the pod log endpoint writes before every line
_TS_PREFIX = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")
#: klog's header: ``I1207 22:21:23.123456       1 file.go:12] ``
_KLOG = re.compile(r"^(?P<lvl>[IWEF])(?P<mo>\d\d)(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):"
                   r"(?P<s>\d\d)(?:\.(?P<us>\d+))?\s+\d+\s+(?P<src>[^\]]*)\] ?")
#: ``key="quoted \" value"`` or ``key=bare``
_TEXT_KV = re.compile(r'(?<![\w.-])([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S+)')
_RESOURCE_FIELDS = re.compile(
    r'"?(?:related_)?resource_(?:name|namespace|kind|version)"?\s*[=:]\s*"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class LogLine:
    """One controller log line, parsed as far as its format allows."""

    pod: str
    raw: str
    when: datetime | None
    #: I, W, E or F (klog); JSON lines: E when they carry ``err``, else I
    level: str
    message: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One row of the timeline."""

    when: datetime | None
    #: "log" or "event"
    source: str
    #: log level letter, or the Event's type (Normal/Warning)
    level: str
    #: the pod a line came from, or the Event's reason
    origin: str
    #: redacted
    text: str

    @property
    def warning(self) -> bool:
        return self.level in ("W", "E", "F", "Warning")


def _unquote(v: str) -> Any:
    if v.startswith('"'):
        try:
            return json.loads(v)
        except ValueError:
            return v.strip('"')
    return v


def parse_line(pod: str, raw: str, now: datetime) -> LogLine:
    """Split off the API's timestamp, then read klog text or JSON; anything else is kept
    as plain text (an init message, a panic) with only the API's timestamp."""
    line = raw.rstrip("\r\n")
    when: datetime | None = None
    m = _TS_PREFIX.match(line)
    if m:
        when = parse_time(m.group(1))
        line = line[m.end():]
    body = line.lstrip()
    if body.startswith("{"):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            if when is None and isinstance(doc.get("ts"), (int, float)):
                # component-base's JSON logger: milliseconds since the epoch
                when = datetime.fromtimestamp(float(doc["ts"]) / 1000.0, UTC)
            lvl = "E" if "err" in doc else "I"
            return LogLine(pod, line, when, lvl, text(doc.get("msg")), doc)
    k = _KLOG.match(body)
    if k:
        if when is None:
            when = _klog_time(k, now)
        rest = body[k.end():]
        msg = ""
        if rest.startswith('"'):
            mm = re.match(r'"(?:[^"\\]|\\.)*"', rest)
            if mm:
                msg = text(_unquote(mm.group(0)))
                rest = rest[mm.end():]
        fields = {key: _unquote(val) for key, val in _TEXT_KV.findall(rest)}
        return LogLine(pod, line, when, k.group("lvl"), msg or rest.strip(), fields)
    return LogLine(pod, line, when, "I", body, {})


def _klog_time(m: re.Match[str], now: datetime) -> datetime | None:
    """klog writes no year: the one that puts the line at most a day after ``now``."""
    try:
        t = datetime(now.year, int(m.group("mo")), int(m.group("d")), int(m.group("h")),
                     int(m.group("mi")), int(m.group("s")),
                     int((m.group("us") or "0")[:6].ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        return None
    if t - now > timedelta(days=1):
        t = t.replace(year=now.year - 1)
    return t


def _word(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.-])" + re.escape(name) + r"(?![\w-]|\.\w)")


def mentions(line: LogLine, ref: Ref) -> bool:
    """Whether ``line`` is about ``ref`` (see the module docstring for the rules)."""
    f = line.fields
    for prefix in ("resource_", "related_resource_"):
        if text(f.get(prefix + "name")) != ref.name:
            continue
        ns = text(f.get(prefix + "namespace"))
        kind = text(f.get(prefix + "kind"))
        if (not ns or not ref.namespace or ns == ref.namespace) and (not kind
                                                                      or kind == ref.kind):
            return True
    key = f.get("key")
    if isinstance(key, dict):
        if text(key.get("name")) == ref.name and \
                text(key.get("namespace")) in ("", ref.namespace):
            return True
    elif isinstance(key, str) and key in (f"{ref.namespace}/{ref.name}", ref.name):
        return True
    rest = _RESOURCE_FIELDS.sub("", line.raw)
    return bool(_word(ref.name).search(rest))


def _event_entry(ev: Obj) -> Entry:
    from kubectl_certdoctor.graph import event_time

    count = text(ev.get("count"))
    msg = text(ev.get("message") or ev.get("note"))
    src = text(dig(ev, "source", "component")) or text(ev.get("reportingController"))
    extra = f" (×{count})" if count and count != "1" else ""
    return Entry(event_time(ev), "event", text(ev.get("type")) or "Normal",
                 text(ev.get("reason")), redact_text(f"{msg}{extra}" + (f" — {src}"
                                                                        if src else "")))


def build_timeline(ref: Ref, lines: Iterable[tuple[str, str]], events: Iterable[Obj],
                   now: datetime, limit: int = MAX_ENTRIES) -> list[Entry]:
    """``lines`` are (pod, raw line) pairs; the result is sorted by time (lines without
    one keep their place after the timed ones of their pod), the newest ``limit`` kept."""
    out: list[Entry] = []
    for pod, raw in lines:
        if not raw.strip():
            continue
        ln = parse_line(pod, raw, now)
        if mentions(ln, ref):
            out.append(Entry(ln.when, "log", ln.level, pod, redact_text(ln.raw)))
    out.extend(_event_entry(as_dict(ev)) for ev in events)
    floor = datetime.min.replace(tzinfo=UTC)
    last: dict[str, datetime] = {}
    keyed: list[tuple[datetime, int, Entry]] = []
    for i, e in enumerate(out):
        t = e.when or last.get(e.origin, floor)
        if e.when is not None:
            last[e.origin] = e.when
        keyed.append((t, i, e))
    keyed.sort(key=lambda x: (x[0], x[1]))
    return [e for _, _, e in keyed][-limit:]
