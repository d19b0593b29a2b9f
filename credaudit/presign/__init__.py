"""Presigned URLs: parse, verify, judge — the library behind ``credaudit url``.

::

    from credaudit.presign import inspect, inspect_stream
    result = inspect(url, now=datetime.now(UTC), sessions={"ASIA…": expiry})
    result.status, result.effective_expires_at, [f.code for f in result.findings]

``inspect_stream`` takes lines (``str`` or ``bytes``: a URL, or a JSON object with ``url`` and
optional ``method``, ``headers``, ``normalize``, ``payload_hash``, ``body``) and yields one
``UrlResult`` per line, in order, holding nothing back: memory stays flat however long the
input.  ``read_lines`` (``credaudit.lines``, shared with ``credaudit token``) cuts a binary
stream into bounded lines; a line longer than the bound is consumed and reported, not kept.
``render_jsonl`` is ``inspect_stream`` as JSON lines (UTF-8
bytes), the form ``credaudit url --format jsonl`` writes.

Every line takes the same path (parse, verify when a secret is given, analyse, render):
nothing about one line is reused for another, so speed does not depend on how much the
input repeats itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from credaudit.analysis.budget import Budget
from credaudit.lines import MAX_LINE, LineTooLong, read_lines
from credaudit.model import Severity
from credaudit.presign.analyze import analyze, malformed
from credaudit.presign.model import UrlResult
from credaudit.presign.parse import CLOUDFRONT_ALGORITHMS, ParsedUrl, parse
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
    "payload_hash_of",
    "read_lines",
    "render_jsonl",
    "verify",
]

_DEFAULT_BUDGET = Budget()
_NO_SECRET_FOR_KEY = Verdict(None, reason="no secret given for the key that signed this URL")
_PAYLOAD_HASH = re.compile(r"[0-9a-f]{64}|UNSIGNED-PAYLOAD")


def payload_hash_of(value: str) -> str:
    """A payload hash as a verifier takes it: 64 hex digits (any case) or UNSIGNED-PAYLOAD.

    Raises ValueError naming what is wrong (never echoing more than the start)."""
    text = value.strip()
    if _PAYLOAD_HASH.fullmatch(text.lower() if len(text) == 64 else text) is None:
        raise ValueError(f"{text[:16]!r}… is not 64 hex digits or UNSIGNED-PAYLOAD")
    return text.lower() if len(text) == 64 else text


def inspect(
    url: str,
    *,
    now: datetime,
    budget: Budget | None = None,
    sessions: Mapping[str, datetime] | None = None,
    session_expires: datetime | None = None,
    secret: str | Mapping[str, str] | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    normalize: bool | None = None,
    payload_hash: str | None = None,
    public_keys: Sequence[Any] | None = None,
    line: int | None = None,
) -> UrlResult:
    """Parse, optionally verify (when ``secret`` is given), and judge one URL.

    ``secret`` is one secret key for every URL, or secret keys by access key id: each URL is
    then checked with the secret of the key that signed it (not checked when none is given).
    ``public_keys`` (``cloudfront.load_public_key``) check CloudFront signed URLs, which are
    signed with a key group's RSA key rather than a secret.

    ``method``, ``headers``, ``normalize`` and ``payload_hash`` are what ``verify`` takes:
    the signed method, signed header values, whether the path was normalised (default: not
    for S3) and the payload hash (default: guessed by service)."""
    parsed = parse(url)
    verdict = None
    if public_keys is not None and parsed.algorithm in CLOUDFRONT_ALGORITHMS:
        from credaudit.presign.cloudfront import verify_cloudfront

        verdict = verify_cloudfront(parsed, public_keys)
    elif secret is not None and parsed.signature is not None:
        key = secret if isinstance(secret, str) else secret.get(parsed.access_key_id or "")
        if key is None:
            verdict = _NO_SECRET_FOR_KEY
        else:
            verdict = verify(
                parsed,
                key,
                method=method,
                headers=headers,
                normalize=normalize,
                payload_hash=payload_hash,
            )
    return analyze(
        parsed,
        now=now,
        budget=budget or _DEFAULT_BUDGET,
        sessions=sessions,
        session_expires=session_expires,
        verdict=verdict,
        line=line,
    )


def _headers_field(value: object) -> dict[str, str] | None:
    if isinstance(value, dict):
        return {str(k).strip().lower(): str(v) for k, v in value.items()}
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
    secret: str | Mapping[str, str] | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    normalize: bool | None = None,
    payload_hash: str | None = None,
    public_keys: Sequence[Any] | None = None,
    skip_blank: bool = False,
) -> Iterator[UrlResult]:
    """One result per input line, in order; bad lines become CA307 records.  A JSON line's
    own ``method``, ``headers``, ``normalize``, ``payload_hash`` or ``body`` override the
    arguments for that line (``body``: the request body as text, hashed as UTF-8)."""
    job = _Job(
        now=now,
        budget=budget or _DEFAULT_BUDGET,
        sessions=sessions,
        session_expires=session_expires,
        secret=secret,
        method=method,
        headers=headers,
        normalize=normalize,
        payload_hash=payload_hash,
        public_keys=public_keys,
    )
    for number, raw in enumerate(lines, start=1):
        result = job.line(number, raw, skip_blank)
        if result is not None:
            yield result


def render_jsonl(
    lines: Iterable[str | bytes | LineTooLong],
    *,
    failing: Collection[Severity] = (),
    **options: Any,
) -> Iterator[tuple[bytes, bool]]:
    """``inspect_stream(lines, **options)`` as JSON lines: each result's ``to_json()`` and
    whether one of its findings has a severity in ``failing``."""
    for result in inspect_stream(lines, **options):
        yield result.to_json(), fails(result, failing)


def fails(result: UrlResult, failing: Collection[Severity]) -> bool:
    """Whether one of the result's findings has a severity in ``failing`` (a plain loop: a
    generator expression for ``any`` costs four times as much, once a line)."""
    for finding in result.findings:  # noqa: SIM110 (see the docstring)
        if finding.severity in failing:
            return True
    return False


class _Job:
    """One check's fixed inputs, and what to do with one input line."""

    __slots__ = ("inspect", "options")

    def __init__(self, **options: Any) -> None:
        self.options = options  # inspect's keyword arguments, but ``line``
        # ``inspect`` with them bound once: expanding ``**options`` a line cost more
        self.inspect: Callable[..., UrlResult] = partial(inspect, **options)

    def line(
        self, number: int, raw: str | bytes | LineTooLong, skip_blank: bool
    ) -> UrlResult | None:
        if isinstance(raw, LineTooLong):
            return malformed(number, f"line is {raw.length} bytes long: not a presigned URL")
        if isinstance(raw, bytes):
            if b"\0" in raw:
                return malformed(number, "binary data, not a URL")
            text = raw.decode("utf-8", errors="replace").strip()
        else:
            text = raw.strip()
        if not text:
            return None if skip_blank else malformed(number, "empty line")
        if text[0] != "{":
            return self.inspect(text, line=number)
        try:
            record = json.loads(text)
        except ValueError:
            return malformed(number, "not valid JSON")
        if not isinstance(record, dict) or not isinstance(record.get("url"), str):
            return malformed(number, 'JSON line has no string "url" field')
        options = dict(self.options)
        problem = _line_fields(record, options)
        if problem:
            return malformed(number, problem)
        return inspect(record["url"], line=number, **options)


def _line_fields(record: dict[str, Any], fields: dict[str, Any]) -> str | None:
    """Apply a JSON line's verification fields onto ``fields``; the problem, if any."""
    if isinstance(record.get("method"), str):
        fields["method"] = record["method"]
    extra = _headers_field(record.get("headers"))
    if extra:
        fields["headers"] = {**(fields["headers"] or {}), **extra}
    normalize = record.get("normalize")
    if normalize is not None:
        if not isinstance(normalize, bool):
            return '"normalize" must be true or false'
        fields["normalize"] = normalize
    stated, body = record.get("payload_hash"), record.get("body")
    if stated is not None and body is not None:
        return 'give "payload_hash" or "body", not both'
    if body is not None:
        if not isinstance(body, str):
            return '"body" must be a string (the request body as text)'
        fields["payload_hash"] = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
    elif stated is not None:
        try:
            fields["payload_hash"] = payload_hash_of(str(stated))
        except ValueError as exc:
            return f'"payload_hash": {exc}'
    return None
