"""S3 server access log lines: the failures CloudTrail does not log (reference §4).

Fields are space-separated with ``-`` for empty, the time in brackets and Request-URI, Referer
and User-Agent quoted; new fields are appended over time, so anything after the ones read here
is ignored.  The lines hold no access key id: requests tie to sessions by requester ARN and time,
and presigned ones by the ``X-Amz-Credential`` of their Request-URI, read with credaudit's own
presigned-URL parser.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from credaudit.incident.events import Activity, Event, Unreadable, Use
from credaudit.incident.times import s3_time
from credaudit.presign.parse import parse as parse_url

_Q = r'"(?:[^"\\]|\\.)*"|-'
# AWS's Athena regex (reference §4), with quoted fields that may hold escaped quotes and every
# field after the User-Agent optional; trailing fields are tolerated.
LINE = re.compile(
    rf"(\S+) (\S+) \[([^\]]*)\] (\S+) (\S+) (\S+) (\S+) (\S+) ({_Q}) (-|\d+) (\S+) (\S+) (\S+) "
    rf"(\S+) (\S+) ({_Q}|\S+) ({_Q}|\S+)(?: (\S+))?(?: (\S+))?(?: (\S+))?(?: (\S+))?(?: (\S+))?"
    r"(?: (\S+))?(?: (\S+))?(?: (\S+))?(?: (\S+))?.*"
)


def _field(value: str | None) -> str | None:
    return None if value in (None, "-", '"-"') else value


def read_lines(lines: Iterable[bytes], origin: str) -> Iterator[Event]:
    """Failing and presigned requests line by line; successful ones summarised per requester
    (as CloudTrail's are), so the common line costs a few splits instead of the regex."""
    quiet: dict[str, list[Any]] = {}
    for number, raw in enumerate(lines, 1):
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text or text.isspace():
            continue
        fast = _success(text)
        if fast is not None:
            requester, stamp, order = fast
            slot = quiet.get(requester)
            if slot is None:
                # Interned: the same ARN the session's other tables hold.
                quiet[sys.intern(requester)] = [1, order, order, stamp, stamp]
            else:
                slot[0] += 1
                if order < slot[1]:
                    slot[1], slot[3] = order, stamp
                elif order > slot[2]:
                    slot[2], slot[4] = order, stamp
            continue
        event = line(text, f"{origin}:{number}")
        if event is not None:
            yield event
    for requester, (count, _first, _last, first, last) in quiet.items():
        start, end = s3_time(first + " +0000"), s3_time(last + " +0000")
        if start is None or end is None:
            yield Unreadable(origin, f"{count} line(s) with an unreadable time field")
            continue
        arn = requester if requester.startswith("arn:") else None
        yield Activity(
            source="s3-access", origin=origin, key=None, arn=arn, count=count, first=start, last=end
        )


_MONTH_ORDER = {
    m: f"{i:02d}"
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _success(text: str) -> tuple[str, str, str] | None:
    """(requester, time without its ``+0000``, sortable time) of a plain successful line; None
    sends it to the regex."""
    parts = text.split(" ", 9)
    if len(parts) < 10 or parts[3] != "+0000]" or not parts[2].startswith("["):
        return None
    rest = parts[9]
    close = rest.find('" ', 1)
    if not rest.startswith('"') or close < 0:
        return None
    uri = rest[1:close]
    if "X-Amz-" in uri or "Signature=" in uri:
        return None
    after = rest[close + 2 :].split(" ", 2)
    if len(after) < 3 or after[1] != "-" or not after[0].isdigit():
        return None
    stamp = parts[2][1:]
    month = _MONTH_ORDER.get(stamp[3:6])
    if month is None or len(stamp) != 20:
        return None
    return parts[5], stamp, stamp[7:11] + month + stamp[0:2] + stamp[12:20]


def line(text: str, where: str) -> Event | None:
    m = LINE.fullmatch(text)
    if m is None:
        return Unreadable(where, "not an S3 server access log line")
    at = s3_time(m.group(3))
    if at is None:
        return Unreadable(where, "unreadable time field")
    requester = _field(m.group(5))
    operation = _field(m.group(7))
    key = _field(m.group(8))
    error = _field(m.group(11))
    uri = _field(m.group(9))
    auth = _field(m.group(22))
    host = _field(m.group(23)) or f"{m.group(2)}.s3.amazonaws.com"
    use = Use(
        at=at,
        origin=where,
        source="s3-access",
        arn=requester if requester and requester.startswith("arn:") else None,
        service="s3",
        operation=operation,
        request_id=_field(m.group(6)),
        error=error,
        subject=requester,
    )
    target = uri[1:-1].split(" ")[1] if uri and uri.count(" ") >= 1 else None
    if target and (
        "X-Amz-Credential=" in target or "AWSAccessKeyId=" in target or auth == "QueryString"
    ):
        parsed = parse_url(f"https://{host}{target}")
        use.presigned = True
        use.key = parsed.access_key_id
        use.signed_at = parsed.signed_at
        use.url_expires_at = parsed.expires_at
        use.url_ttl_seconds = parsed.expires_seconds
    if error:
        who = use.key if use.presigned and use.key else requester
        use.retry_key = f"{who}|{operation}|{m.group(2)}/{key}"
    return use
