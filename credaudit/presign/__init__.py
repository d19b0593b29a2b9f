"""Presigned URLs: parse, verify, judge — the library behind ``credaudit url``.

::

    from credaudit.presign import inspect, inspect_stream
    result = inspect(url, now=datetime.now(UTC), sessions={"ASIA…": expiry})
    result.status, result.effective_expires_at, [f.code for f in result.findings]

``inspect_stream`` takes lines (``str`` or ``bytes``: a URL, or a JSON object with ``url`` and
optional ``method``/``headers``) and yields one ``UrlResult`` per line, in order, holding
nothing back: memory stays flat however long the input.  ``read_lines`` cuts a binary stream
into bounded lines; a line longer than the bound is consumed and reported, not kept.
``render_jsonl`` is ``inspect_stream`` rendered as JSON lines (UTF-8 bytes), the form
``credaudit url --format jsonl`` writes: bulk lines that share a query head with an earlier
line are rendered from cached pieces without building any object.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import BinaryIO

from credaudit.analysis.budget import Budget
from credaudit.model import Severity
from credaudit.presign.analyze import (
    _ENCODE_STR,
    MAX_ECHO,
    UrlResult,
    analyze,
    cached_verdict,
    malformed,
    reuse,
)
from credaudit.presign.parse import ParsedUrl, _Template, fast_shape, parse
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
    "render_jsonl",
    "verify",
]

MAX_LINE = 64 * 1024  # real presigned URLs are a few KB; a line beyond this is not one
_CHUNK = 64 * 1024
_KNOWN_LIMIT = 512
_DEFAULT_BUDGET = Budget()  # frozen: one shared instance lets verdicts be reused


class LineTooLong:
    """Stands in for an input line that exceeded the bound (its bytes were discarded)."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length


def read_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[bytes | LineTooLong]:
    """Yield lines without their newline; a line longer than ``max_line`` bytes is counted
    and dropped as it is read, never assembled.

    Reads in chunks (``read1``: whatever is there, so a pipe streams) and splits them in C:
    one ``readline`` call per line cost more than checking the line."""
    read = getattr(stream, "read1", stream.read)
    pending = b""  # the start of the current line, at most max_line bytes
    dropped = -1  # >= 0 while inside an over-long line: its bytes so far
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        lines = chunk.split(b"\n")
        last = lines.pop()
        if lines:
            first = lines[0]
            if dropped >= 0:
                yield LineTooLong(dropped + len(first))
                dropped = -1
            else:
                if pending:
                    first = pending + first
                    pending = b""
                yield first.rstrip(b"\r\n") if len(first) <= max_line else LineTooLong(len(first))
            for line in islice(lines, 1, None):
                yield line.rstrip(b"\r\n") if len(line) <= max_line else LineTooLong(len(line))
        if dropped >= 0:
            dropped += len(last)
        elif len(pending) + len(last) > max_line:
            dropped, pending = len(pending) + len(last), b""
        elif last:
            pending += last
    if dropped >= 0:
        yield LineTooLong(dropped)
    elif pending:
        yield pending.rstrip(b"\r\n")


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
    budget = budget or _DEFAULT_BUDGET
    if secret is None:
        reused = reuse(
            url.strip(),
            now=now,
            budget=budget,
            sessions=sessions,
            session_expires=session_expires,
            line=line,
        )
        if reused is not None:
            return reused
    parsed = parse(url)
    verdict = None
    if secret is not None and parsed.signature is not None:
        verdict = verify(parsed, secret, method=method, headers=headers)
    return analyze(
        parsed,
        now=now,
        budget=budget,
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
    job = _Job(now, budget or _DEFAULT_BUDGET, sessions, session_expires, secret, method, headers)
    for number, raw in enumerate(lines, start=1):
        result = job.line(number, raw, skip_blank)
        if result is not None:
            yield result


def render_jsonl(
    lines: Iterable[str | bytes | LineTooLong],
    *,
    now: datetime,
    budget: Budget | None = None,
    sessions: Mapping[str, datetime] | None = None,
    session_expires: datetime | None = None,
    secret: str | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    failing: Collection[Severity] = (),
) -> Iterator[tuple[bytes, bool]]:
    """``inspect_stream`` as JSON lines: each result's ``to_json()`` as UTF-8 bytes (lone
    surrogates from command-line bytes written back as those bytes), and whether one of its
    findings has a severity in ``failing``.

    A URL whose shape already has a verdict (see ``analyze``) is rendered from the URL text
    alone: no ParsedUrl, no UrlResult — most lines of bulk input.  The line is built as
    bytes from the escaped origin and path (the only characters escaped per URL), the
    template's escaped query and the verdict's tail.  Everything else takes
    ``inspect_stream``'s path; a property test holds the two outputs equal."""
    job = _Job(now, budget or _DEFAULT_BUDGET, sessions, session_expires, secret, method, headers)
    # shape → (tail, failing?, escaped query, elided query length), for this run's inputs.
    known: dict[tuple[object, ...], tuple[bytes, bool, bytes, int]] = {}
    quick = secret is None
    for number, raw in enumerate(lines, start=1):
        item: str | bytes | LineTooLong = raw
        if quick and type(raw) is bytes and b"\0" not in raw:
            text = item = raw.decode("utf-8", errors="replace").strip()
            found = fast_shape(text) if text[:1] not in ("", "{") else None
            if found is not None:
                shape, q = found
                facts = known.get(shape)
                if facts is None:
                    facts = job.facts(shape, failing)
                    if facts is not None:
                        if len(known) >= _KNOWN_LIMIT:
                            known.clear()  # shapes keep query templates alive: stay small
                        known[shape] = facts
                if facts is not None and q + 1 + facts[3] <= MAX_ECHO:
                    origin = _ENCODE_STR(text[:q])[:-1].encode("utf-8", "surrogateescape")
                    yield (
                        b'{"line": %d, "url": %b?%b", %b' % (number, origin, facts[2], facts[0]),
                        facts[1],
                    )
                    continue
        result = job.line(number, item, False)
        if result is not None:
            yield (
                result.to_json().encode("utf-8", "surrogateescape"),
                any(f.severity in failing for f in result.findings),
            )


class _Job:
    """One check's fixed inputs, and what to do with one input line."""

    __slots__ = ("budget", "headers", "method", "now", "secret", "session_expires", "sessions")

    def __init__(  # noqa: PLR0917 - private, built in two places
        self,
        now: datetime,
        budget: Budget,
        sessions: Mapping[str, datetime] | None,
        session_expires: datetime | None,
        secret: str | None,
        method: str | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        self.now = now
        self.budget = budget
        self.sessions = sessions
        self.session_expires = session_expires
        self.secret = secret
        self.method = method
        self.headers = headers

    def facts(
        self, shape: tuple[_Template, str, bool], failing: Collection[Severity]
    ) -> tuple[bytes, bool, bytes, int] | None:
        """What ``render_jsonl`` reuses for a shape whose verdict ``analyze`` has rendered
        once: (tail, failing?, escaped query, elided query length); None until then."""
        template = shape[0]
        akid = template.fields[1]
        session = self.session_expires if akid else None
        if session is None and self.sessions and akid:
            session = self.sessions.get(akid)
        entry = cached_verdict(shape, self.now, self.budget, session)
        if entry is None or entry[3].text is None:
            return None
        shared = entry[3]
        if shared.data is None:
            shared.data = entry[3].text.encode("utf-8", "surrogateescape")
        fails = any(f.severity in failing for f in entry[2])
        return shared.data, fails, template.elided_json, len(template.elided)

    def line(
        self, number: int, raw: str | bytes | LineTooLong, skip_blank: bool
    ) -> UrlResult | None:
        if isinstance(raw, LineTooLong):
            return malformed(number, f"line is {raw.length} bytes long: not a presigned URL")
        if isinstance(raw, bytes):
            if b"\0" in raw:
                return malformed(number, "binary data, not a URL")
            text = raw.decode("utf-8", errors="replace")
        else:
            text = raw
        text = text.strip()
        if not text:
            return None if skip_blank else malformed(number, "empty line")
        line_method, line_headers = self.method, self.headers
        if text.startswith("{"):
            try:
                record = json.loads(text)
            except ValueError:
                return malformed(number, "not valid JSON")
            if not isinstance(record, dict) or not isinstance(record.get("url"), str):
                return malformed(number, 'JSON line has no string "url" field')
            text = record["url"]
            if isinstance(record.get("method"), str):
                line_method = record["method"]
            extra = _headers_field(record.get("headers"))
            if extra:
                line_headers = {**(self.headers or {}), **extra}
        return inspect(
            text,
            now=self.now,
            budget=self.budget,
            sessions=self.sessions,
            session_expires=self.session_expires,
            secret=self.secret,
            method=line_method,
            headers=line_headers,
            line=number,
        )
