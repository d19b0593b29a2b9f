"""Human durations and instants, parsed in one place.

Durations accept ``90s``, ``15m``, ``2h30m``, ``1d``, ``1w``, a bare number of seconds, and
ISO-8601 ``PT1H`` / ``P1DT2H``.  Instants accept ISO-8601 with or without a zone (no zone
means UTC, as AWS writes it), the ``...UTC`` form botocore's CLI cache writes, epoch
seconds, and ``+DURATION`` relative to a given now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_HUMAN = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")
_ISO = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
MAX_DURATION = timedelta(days=3650)


class DurationError(ValueError):
    """A duration or instant the user wrote could not be understood."""


def parse_duration(text: str) -> timedelta:
    """Parse a human or ISO-8601 duration; raise DurationError with the offending text."""
    raw = text.strip().lower().replace(" ", "")
    if not raw:
        raise DurationError("empty duration")
    seconds: float
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        seconds = float(raw)
    elif raw.startswith("p"):
        match = _ISO.fullmatch(raw.upper())
        if match is None or not any(match.groupdict().values()) or raw.upper().endswith("T"):
            raise DurationError(f"not an ISO-8601 duration: {text!r}")
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        seconds = sum(_UNIT_SECONDS[k] * v for k, v in parts.items())
    else:
        pos = 0
        seconds = 0.0
        for match in _HUMAN.finditer(raw):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            pos = match.end()
        if pos != len(raw) or pos == 0:
            raise DurationError(f"not a duration: {text!r} (try 90s, 15m, 2h30m, 1d or PT1H)")
    if seconds > MAX_DURATION.total_seconds():
        raise DurationError(f"duration too long: {text!r} (at most 3650 days)")
    return timedelta(seconds=seconds)


def whole_seconds(span: timedelta) -> int:
    """``int(span.total_seconds())``, whole seconds toward zero, in integer arithmetic: a
    third of the cost (bulk findings take one a line), and exact for any span, where the
    float of ``total_seconds`` rounds beyond 2**53 microseconds."""
    seconds = span.days * 86400 + span.seconds
    return seconds + 1 if seconds < 0 and span.microseconds else seconds


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def format_duration(span: timedelta | float) -> str:
    """Render a span compactly: ``42m``, ``2h05m``, ``3d4h``, ``-12m`` (past).

    Bulk URL and token findings format one span a line, so the units are worked out with
    plain integer arithmetic, largest first, rather than a divmod chain through all four,
    and two-digit minutes and seconds are looked up (a ``:02d`` format costs 0.1 µs)."""
    seconds = whole_seconds(span) if isinstance(span, timedelta) else int(span)
    sign = ""
    if seconds < 0:
        sign, seconds = "-", -seconds
    if seconds >= 86400:
        days, hours = seconds // 86400, seconds % 86400 // 3600
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if seconds >= 3600:
        hours, minutes = seconds // 3600, seconds % 3600 // 60
        return f"{sign}{hours}h{_TWO_DIGITS[minutes]}m" if minutes else f"{sign}{hours}h"
    if seconds >= 60:
        minutes, secs = seconds // 60, seconds % 60
        return (
            f"{sign}{minutes}m{_TWO_DIGITS[secs]}s"
            if secs and minutes < 10
            else f"{sign}{minutes}m"
        )
    return f"{sign}{seconds}s"


_UTC_SUFFIXES = ("UTC", "GMT")


def parse_instant(text: str) -> datetime:
    """Parse an instant as AWS tools write them; naive values are UTC.

    Accepts ``2030-01-01T12:00:00Z``, ``...+00:00``, ``...UTC`` (the CLI cache),
    microseconds (moto), a space instead of ``T``, and epoch seconds.
    """
    raw = text.strip()
    if not raw:
        raise DurationError("empty timestamp")
    if re.fullmatch(r"\d{9,11}(?:\.\d+)?", raw):
        return datetime.fromtimestamp(float(raw), tz=UTC)
    for suffix in _UTC_SUFFIXES:
        if raw.endswith(suffix):
            raw = raw[: -len(suffix)].rstrip() + "+00:00"
            break
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        compact = re.fullmatch(r"(\d{8})T(\d{6})(?:\+00:00)?", raw)
        if compact is None:
            raise DurationError(f"not a timestamp: {text!r}") from None
        value = datetime.strptime(compact.group(1) + compact.group(2), "%Y%m%d%H%M%S")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_at(text: str, now: datetime) -> datetime:
    """Parse ``--at``: an instant, or ``+DURATION`` from now."""
    raw = text.strip()
    if raw.startswith("+"):
        return now + parse_duration(raw[1:])
    return parse_instant(raw)
