"""S3 server access log lines: the failures CloudTrail does not log (reference §4).

Fields are space-separated with ``-`` for empty, the time in brackets and Request-URI, Referer
and User-Agent quoted; new fields are appended over time, so anything after the ones read here
is ignored.  The lines hold no access key id: requests tie to sessions by requester ARN and time,
and presigned ones by the ``X-Amz-Credential`` of their Request-URI, read with credaudit's own
presigned-URL parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from credaudit.incident.events import Event, Unreadable, Use
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
    for number, raw in enumerate(lines, 1):
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text.strip():
            continue
        where = f"{origin}:{number}"
        event = line(text, where)
        if event is not None:
            yield event


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
    if target and ("X-Amz-Credential=" in target or auth == "QueryString"):
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
