"""cert-manager's issuance backoff: when will a failing Certificate be retried?

cert-manager only writes the next attempt time to a log line, so we compute it
the same way. Source (cert-manager v1.21.1,
pkg/controller/certificates/trigger/trigger_controller.go,
``shouldBackoffReissuingOnFailure``)::

    delay = min                              if failedIssuanceAttempts is nil or <= 0
    delay = min * 2^(attempts-1)             otherwise
    delay = max   if that overflows or exceeds max
    delay = max(delay, min)
    backing off while now - lastFailureTime < delay

Defaults (internal/apis/config/controller/v1alpha1/defaults.go): min 1h, max 32h.
The controller flags ``--certificate-request-minimum-backoff-duration`` and
``--certificate-request-maximum-backoff-duration`` override them. A min <= 0
disables the backoff. (Upstream also skips the backoff when the Certificate's
spec no longer matches its next CertificateRequest; that needs the CSR and is
not modelled here.)

Earlier releases, same file and function (read at each tag):

* v1.0 … v1.7: a flat ``RetryAfterLastFailure`` (1h) after the last failure.
* v1.8 … v1.19: ``1h * 2^(n-1)``; ``32h`` once n > 6 (``stopIncreaseBackoff``); at least 1h.
  No flags.
* v1.20: the minimum flag exists: ``min * 2^(n-1)`` — *not* capped by a maximum, so a
  2h minimum gives 64h at n=6 — then a flat 32h once n > 6, and at least ``min``.
* v1.21: ``min * 2^(n-1)`` capped at the maximum flag (above).

When the controller's version is unknown, the newest behaviour is assumed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kubectl_certdoctor.objects import Obj, as_int, dig, parse_time

DEFAULT_MIN = timedelta(hours=1)
DEFAULT_MAX = timedelta(hours=32)
MIN_FLAG = "--certificate-request-minimum-backoff-duration"
MAX_FLAG = "--certificate-request-maximum-backoff-duration"

_GO_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3,
    "s": 1.0, "m": 60.0, "h": 3600.0,
}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(value: str) -> timedelta | None:
    """Go ``time.ParseDuration`` ("1h30m", "90s", "0"); None when malformed."""
    s = value.strip()
    if not s:
        return None
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return timedelta(0)
    pos, total = 0, 0.0
    while pos < len(s):
        m = _GO_PART.match(s, pos)
        if not m:
            return None
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if not pos:
        return None
    try:
        return timedelta(seconds=sign * total)
    except OverflowError:  # beyond what Go's int64 nanoseconds could hold anyway
        return None


@dataclass(frozen=True)
class BackoffConfig:
    """The controller's backoff bounds and where they came from."""

    minimum: timedelta = DEFAULT_MIN
    maximum: timedelta = DEFAULT_MAX
    source: str = "cert-manager defaults (1h/32h)"
    #: the controller's (major, minor): picks the formula of that release (None: newest)
    release: tuple[int, int] | None = None


def config_from_args(args: Iterable[str],
                     release: tuple[int, int] | None = None) -> BackoffConfig:
    """Read the two backoff flags from the controller's container args; ``release`` is the
    controller's (major, minor) when known: releases before v1.20 have no flags and their
    own formula (module doc)."""
    cfg = _flags(args)
    if release is None:
        return cfg
    if release < (1, 8):
        return BackoffConfig(DEFAULT_MIN, DEFAULT_MIN, f"cert-manager v{release[0]}.{release[1]}: "
                             "a flat 1h after the last failure", release)
    if release < (1, 20):
        return BackoffConfig(DEFAULT_MIN, DEFAULT_MAX, f"cert-manager v{release[0]}.{release[1]}:"
                             " 1h·2^(n-1), 32h after 6 attempts", release)
    if release < (1, 21):
        return BackoffConfig(cfg.minimum, DEFAULT_MAX, cfg.source + " (v1.20: min·2^(n-1), "
                             "flat 32h after 6 attempts)", release)
    return BackoffConfig(cfg.minimum, cfg.maximum, cfg.source, release)


def _flags(args: Iterable[str]) -> BackoffConfig:
    values: dict[str, timedelta] = {}
    items = [a for a in args if isinstance(a, str)]
    for i, a in enumerate(items):
        for flag in (MIN_FLAG, MAX_FLAG):
            raw: str | None = None
            if a.startswith(flag + "="):
                raw = a[len(flag) + 1:]
            elif a == flag and i + 1 < len(items):
                raw = items[i + 1]
            if raw is not None:
                d = parse_go_duration(raw)
                if d is not None:
                    values[flag] = d
    if not values:
        return BackoffConfig()
    return BackoffConfig(
        minimum=values.get(MIN_FLAG, DEFAULT_MIN),
        maximum=values.get(MAX_FLAG, DEFAULT_MAX),
        source="controller args " + " ".join(
            f"{k}={_fmt_go(v)}" for k, v in sorted(values.items())
        ),
    )


def _fmt_go(d: timedelta) -> str:
    secs = int(d.total_seconds())
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s or not secs else "")
    return out


def delay_for(attempts: int | None, cfg: BackoffConfig) -> timedelta:
    """The whole backoff period after the last failure, as cert-manager computes it."""
    lo, hi = cfg.minimum, cfg.maximum
    rel = cfg.release
    if rel is not None and rel < (1, 8):
        return lo  # RetryAfterLastFailure
    if rel is not None and rel < (1, 21) and attempts is not None and attempts > 0:
        # stopIncreaseBackoff = 6: past it, a flat maxDelay (32h); below it, uncapped
        if attempts > 6:
            return DEFAULT_MAX
        return max(lo * 2 ** (attempts - 1), lo)
    if attempts is None or attempts <= 0:
        delay = lo
    else:
        # 2^(n-1) overflows int64 nanoseconds upstream; it is capped at max there too
        exp = min(attempts - 1, 62)
        secs = lo.total_seconds() * float(2**exp)
        delay = hi if secs > hi.total_seconds() else timedelta(seconds=secs)
        delay = hi if delay < lo else delay
    return max(delay, lo)


@dataclass(frozen=True)
class Backoff:
    """A Certificate's backoff state at ``now``."""

    attempts: int
    last_failure: datetime
    delay: timedelta
    next_attempt: datetime
    remaining: timedelta
    config: BackoffConfig

    @property
    def active(self) -> bool:
        return self.remaining > timedelta(0)


def certificate_backoff(
    cert: Obj, now: datetime, cfg: BackoffConfig | None = None
) -> Backoff | None:
    """The backoff of a Certificate, or None when it has no ``lastFailureTime``
    (or when the configured minimum is <= 0, which disables the backoff)."""
    cfg = cfg or BackoffConfig()
    last = parse_time(dig(cert, "status", "lastFailureTime"))
    if last is None or cfg.minimum <= timedelta(0):
        return None
    raw = dig(cert, "status", "failedIssuanceAttempts")
    attempts: int | None = None if raw is None else as_int(raw, 0)
    delay = delay_for(attempts, cfg)
    try:
        nxt = last + delay
    except OverflowError:  # absurd flag values: "never" is the honest answer
        nxt = datetime.max.replace(tzinfo=last.tzinfo)
    return Backoff(
        attempts=attempts or 0, last_failure=last, delay=delay, next_attempt=nxt,
        remaining=nxt - now, config=cfg,
    )


def human(d: timedelta) -> str:
    """'43m', '2h5m', '3d4h', '20s': the short form the tree shows."""
    secs = int(abs(d.total_seconds()))
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    mins, s = divmod(rem, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{mins}m" if mins else f"{hours}h"
    if mins:
        return f"{mins}m"
    return f"{s}s"
