"""The instant shapes the logs write, each parsed to an aware UTC datetime or None (never raising).

CloudTrail's ``responseElements.credentials.expiration`` comes as ``Oct 2, 2019, 11:12:29 PM``
and, in older records, ``Jul 18, 2014 4:07:39 PM`` (no zone, UTC, day and hour not padded);
the STS API and caches write ISO; SSO and EKS pod identity write epoch numbers.  S3 access logs
write ``[06/Feb/2019:00:00:38 +0000]``.  Everything ISO-like goes through ``parse_instant``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from credaudit.durations import DurationError, parse_instant

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_HUMAN = re.compile(
    r"([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})\s*([AaPp][Mm])?"
)
_S3 = re.compile(r"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})")


def instant(value: object) -> datetime | None:
    """Any instant a log may hold: ISO text, basic ISO, epoch seconds or milliseconds, or the
    CloudTrail human form."""
    if type(value) is str and len(value) == 20 and value[19] == "Z" and value[10] == "T":
        # CloudTrail's own shape, by far the most common: the C parser, no regex.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text[0].isalpha():
        return human(text)
    if text.isdigit() and len(text) >= 12:
        return _epoch(float(text))
    try:
        return parse_instant(text)
    except (DurationError, ValueError, OverflowError):
        return None


def _epoch(seconds: float) -> datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def human(text: str) -> datetime | None:
    """``Oct 2, 2019, 11:12:29 PM`` / ``Jul 18, 2014 4:07:39 PM`` (UTC)."""
    m = _HUMAN.fullmatch(text.strip())
    if m is None:
        return None
    month = _MONTHS.get(m.group(1).lower())
    if month is None:
        return None
    hour = int(m.group(4))
    ampm = (m.group(7) or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(
            int(m.group(3)),
            month,
            int(m.group(2)),
            hour,
            int(m.group(5)),
            int(m.group(6)),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def s3_time(text: str) -> datetime | None:
    """``06/Feb/2019:00:00:38 +0000`` (the brackets already stripped)."""
    month = _MONTHS.get(text[3:6].lower()) if len(text) == 26 else None
    if (
        month is not None
        and text[2] == text[6] == "/"
        and text[11] == text[14] == text[17] == ":"
        and text[20] == " "
        and text[21] in "+-"
    ):
        # The one shape S3 writes: rearranged for the C ISO parser, no regex.
        iso = f"{text[7:11]}-{month:02d}-{text[:2]}T{text[12:20]}{text[21:24]}:{text[24:]}"
        try:
            return datetime.fromisoformat(iso).astimezone(UTC)
        except ValueError:
            pass
    return s3_time_by_pattern(text)


def s3_time_by_pattern(text: str) -> datetime | None:
    """The general parse (any digits the pattern takes), for what the fast path declines."""
    m = _S3.fullmatch(text)
    if m is None:
        return None
    month = _MONTHS.get(m.group(2).lower())
    if month is None:
        return None
    try:
        local = datetime(
            int(m.group(3)),
            month,
            int(m.group(1)),
            int(m.group(4)),
            int(m.group(5)),
            int(m.group(6)),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    offset = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
    return local - offset if m.group(7) == "+" else local + offset
