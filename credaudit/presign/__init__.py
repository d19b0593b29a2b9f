"""Presigned URLs: parse, verify, judge — the library behind ``credaudit url``.

::

    from credaudit.presign import inspect, inspect_stream
    result = inspect(url, now=datetime.now(UTC), sessions={"ASIA…": expiry})
    result.status, result.effective_expires_at, [f.code for f in result.findings]

``inspect_stream`` takes lines (``str`` or ``bytes``: a URL, or a JSON object with ``url`` and
optional ``method``/``headers``) and yields one ``UrlResult`` per line, in order, holding
nothing back: memory stays flat however long the input.  ``read_lines`` cuts a binary stream
into bounded lines; a line longer than the bound is consumed and reported, not kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import BinaryIO

from credaudit.analysis.budget import Budget
from credaudit.presign.analyze import UrlResult, analyze, malformed
from credaudit.presign.parse import ParsedUrl, parse
from credaudit.presign.verify import Verdict, verify

__all__ = [
    "MAX_LINE",
    "LineTooLong",
    "ParsedUrl",
    "UrlResult",
    "Verdict",
    "inspect",
    "inspect_stream",
    "parse",
    "read_lines",
    "verify",
]

MAX_LINE = 64 * 1024  # real presigned URLs are a few KB; a line beyond this is not one
_CHUNK = 64 * 1024


class LineTooLong:
    """Stands in for an input line that exceeded the bound (its bytes were discarded)."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length


def read_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[bytes | LineTooLong]:
    """Yield lines without their newline; never hold more than ``max_line`` bytes of one."""
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        if len(line) > max_line and not line.endswith(b"\n"):
            length = len(line)
            while True:  # consume the rest of the over-long line in bounded chunks
                chunk = stream.readline(_CHUNK)
                length += len(chunk)
                if chunk.endswith(b"\n"):
                    length -= 1
                    break
                if not chunk:
                    break
            yield LineTooLong(length)
            continue
        yield line.rstrip(b"\r\n")


def inspect(
    url: str,
    *,
    now: datetime,
    budget: Budget | None = None,
    sessions: Mapping[str, datetime] | None = None,
    session_expires: datetime | None = None,
    secret: str | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    line: int | None = None,
) -> UrlResult:
    """Parse, optionally verify (when ``secret`` is given), and judge one URL."""
    parsed = parse(url)
    verdict = None
    if secret is not None and parsed.signature is not None:
        verdict = verify(parsed, secret, method=method, headers=headers)
    return analyze(
        parsed,
        now=now,
        budget=budget or Budget(),
        sessions=sessions,
        session_expires=session_expires,
        verdict=verdict,
        line=line,
    )


def _headers_field(value: object) -> dict[str, str] | None:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, str] = {}
        for item in value:
            name, sep, val = str(item).partition(":")
            if sep:
                out[name.strip().lower()] = val.strip()
        return out
    return None


def inspect_stream(
    lines: Iterable[str | bytes | LineTooLong],
    *,
    now: datetime,
    budget: Budget | None = None,
    sessions: Mapping[str, datetime] | None = None,
    session_expires: datetime | None = None,
    secret: str | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    skip_blank: bool = False,
) -> Iterator[UrlResult]:
    """One result per input line, in order; bad lines become CA307 records."""
    budget = budget or Budget()
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, LineTooLong):
            yield malformed(number, f"line is {raw.length} bytes long: not a presigned URL")
            continue
        if isinstance(raw, bytes):
            if b"\0" in raw:
                yield malformed(number, "binary data, not a URL")
                continue
            text = raw.decode("utf-8", errors="replace")
        else:
            text = raw
        text = text.strip()
        if not text:
            if not skip_blank:
                yield malformed(number, "empty line")
            continue
        line_method, line_headers = method, headers
        if text.startswith("{"):
            try:
                record = json.loads(text)
            except ValueError:
                yield malformed(number, "not valid JSON")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("url"), str):
                yield malformed(number, 'JSON line has no string "url" field')
                continue
            text = record["url"]
            if isinstance(record.get("method"), str):
                line_method = record["method"]
            extra = _headers_field(record.get("headers"))
            if extra:
                line_headers = {**(headers or {}), **extra}
        yield inspect(
            text,
            now=now,
            budget=budget,
            sessions=sessions,
            session_expires=session_expires,
            secret=secret,
            method=line_method,
            headers=line_headers,
            line=number,
        )
