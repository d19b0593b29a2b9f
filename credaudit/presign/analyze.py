"""Judge one parsed presigned URL: its real expiry, its status and its CA3xx findings.

The URL states its nominal expiry; a temporary key's session may end earlier, and that
expiry comes from the session lookup (or ``--session-expires``).  Everything here is plain
data so that bulk checks stay fast: findings are built through ``make_finding`` but cached
on (code, subject, message), because URLs issued in bulk share keys and expiries and would
otherwise build the same Finding a million times.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import make_finding
from credaudit.durations import format_duration
from credaudit.keys import account_from_key, key_kind, mask_key
from credaudit.model import Finding, KeyKind, format_instant
from credaudit.presign.parse import ParsedUrl, fast_shape
from credaudit.presign.verify import Verdict

MAX_ECHO = 2048
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_ENCODE_STR = json.encoder.encode_basestring  # what _ENCODE does for a str, minus dispatch
_INVALID_CODES = frozenset({"CA305", "CA307", "CA308"})


@lru_cache(maxsize=8192)
def _finding(code: str, subject: str, message: str) -> Finding:
    return make_finding(code, subject=subject, message=message)


@lru_cache(maxsize=8192)
def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "title": finding.title,
        "message": finding.message,
        "remediation": finding.remediation,
    }


@lru_cache(maxsize=4096)
def _key_facts(akid: str | None) -> tuple[str | None, KeyKind, str | None]:
    """Masked form, kind and account of a key id: bulk URLs share a handful of keys."""
    return mask_key(akid), key_kind(akid), account_from_key(akid)


@lru_cache(maxsize=8192)
def iso(instant: datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)


class Tail:
    """The JSON of one verdict's fields after ``url`` (``"algorithm": …}``), as text and as
    UTF-8, rendered once and shared by every result of that verdict."""

    __slots__ = ("data", "text")

    def __init__(self) -> None:
        self.text: str | None = None
        self.data: bytes | None = None


@dataclass(slots=True)
class UrlResult:
    """One URL's verdict.  Holds no secret: the key id only masked, the URL only elided."""

    line: int | None = None
    url: str | None = None
    algorithm: str | None = None
    access_key_id: str | None = None
    key_kind: KeyKind = KeyKind.NONE
    account_id: str | None = None
    region: str | None = None
    service: str | None = None
    host: str | None = None
    addressing_style: str | None = None
    signed_at: datetime | None = None
    expires_at: datetime | None = None
    session_expires_at: datetime | None = None
    effective_expires_at: datetime | None = None
    remaining_seconds: int | None = None
    status: str = "invalid"
    signature_valid: bool | None = None
    signed_method: str | None = None
    signature_note: str | None = None
    findings: list[Finding] = field(default_factory=list)
    # Shared with every result of the same verdict (see ``analyze``): the JSON of the fields
    # after ``url``, rendered once by ``to_json``.  A result is a record: its fields are not
    # meant to change after ``analyze`` built it.
    _tail: Tail | None = field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> str:
        """``to_dict()`` as one compact-separator-free JSON line (``json.dumps`` spacing,
        non-ASCII kept): equal to ``_ENCODE(self.to_dict())``, but the part every result of
        one verdict shares is encoded once."""
        shared = self._tail
        if shared is None:
            return _ENCODE(self.to_dict())
        tail = shared.text
        if tail is None:
            whole = self.to_dict()
            del whole["line"], whole["url"]
            tail = shared.text = _ENCODE(whole)[1:]
        line = "null" if self.line is None else str(self.line)
        url = "null" if self.url is None else _ENCODE_STR(self.url)
        return f'{{"line": {line}, "url": {url}, {tail}'

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (same keys as ``UrlResultModel``), built without pydantic."""
        return {
            "line": self.line,
            "url": self.url,
            "algorithm": self.algorithm,
            "access_key_id": self.access_key_id,
            "key_kind": self.key_kind.value,
            "account_id": self.account_id,
            "region": self.region,
            "service": self.service,
            "host": self.host,
            "addressing_style": self.addressing_style,
            "signed_at": iso(self.signed_at),
            "expires_at": iso(self.expires_at),
            "session_expires_at": iso(self.session_expires_at),
            "effective_expires_at": iso(self.effective_expires_at),
            "remaining_seconds": self.remaining_seconds,
            "status": self.status,
            "signature_valid": self.signature_valid,
            "signed_method": self.signed_method,
            "signature_note": self.signature_note,
            "findings": [_finding_dict(f) for f in self.findings],
        }


def malformed(line: int | None, message: str) -> UrlResult:
    """The record for an input line that is not a URL at all (junk, too long, bad JSON)."""
    subject = f"line {line}" if line is not None else "input"
    return UrlResult(line=line, findings=[_finding("CA307", subject, message)])


# (parsed.shape, now, session expiry, verdict) → (budget, the result's fields but line and
# url, findings, [JSON tail or None]).  The budget is compared by identity: one run uses one.
_Shared = tuple[
    str | None,  # algorithm
    str | None,  # access_key_id (masked)
    KeyKind,
    str | None,  # account_id
    str | None,  # region
    str | None,  # service
    str | None,  # host
    str | None,  # addressing_style
    datetime | None,  # signed_at
    datetime | None,  # expires_at
    datetime | None,  # session_expires_at
    datetime | None,  # effective_expires_at
    int | None,  # remaining_seconds
    str,  # status
    bool | None,  # signature_valid
    str | None,  # signed_method
    str | None,  # signature_note
]
_Entry = tuple[Budget, _Shared, tuple[Finding, ...], Tail]
_verdicts: dict[tuple[object, ...], _Entry] = {}
_CACHE_LIMIT = 512  # keys hold query templates (see parse._CACHE_LIMIT)


def analyze(
    parsed: ParsedUrl,
    *,
    now: datetime,
    budget: Budget,
    sessions: Mapping[str, datetime] | None = None,
    session_expires: datetime | None = None,
    verdict: Verdict | None = None,
    line: int | None = None,
) -> UrlResult:
    """Apply CA202 and CA301–CA309 to one parsed URL at ``now`` against ``budget``.

    URLs that share a shape (everything but path and signature, see ``parse``) and a session
    get the same verdict, so it is worked out once and copied: bulk input repeats shapes."""
    akid = parsed.access_key_id
    session = session_expires if akid else None
    if session is None and sessions and akid:
        session = sessions.get(akid)
    shape = parsed.shape
    if shape is None:
        return _judge(parsed, now, budget, session, verdict, line)
    key = (shape, now, session, verdict)
    entry = _verdicts.get(key)
    if entry is None or entry[0] is not budget:
        result = _judge(parsed, now, budget, session, verdict, line)
        if len(_verdicts) >= _CACHE_LIMIT:
            _verdicts.clear()
        entry = (budget, _shared_fields(result), tuple(result.findings), Tail())
        _verdicts[key] = entry
        result._tail = entry[3]
        return result
    echo = parsed.elided or ""
    result = UrlResult(
        line,
        echo if len(echo) <= MAX_ECHO else echo[:MAX_ECHO] + "…",
        *entry[1],
        list(entry[2]),
    )
    result._tail = entry[3]
    return result


def reuse(
    text: str,
    *,
    now: datetime,
    budget: Budget,
    sessions: Mapping[str, datetime] | None,
    session_expires: datetime | None,
    line: int | None,
) -> UrlResult | None:
    """``analyze(parse(text), ...)`` without parsing, when the stripped ``text`` has a shape
    whose unverified verdict is cached; None otherwise.  ``inspect`` tries this first."""
    found = fast_shape(text)
    if found is None:
        return None
    shape, q = found
    template = shape[0]
    akid = template.fields[1]
    session = session_expires if akid else None
    if session is None and sessions and akid:
        session = sessions.get(akid)
    entry = _verdicts.get((shape, now, session, None))
    if entry is None or entry[0] is not budget:
        return None
    echo = f"{text[:q]}?{template.elided}"
    result = UrlResult(
        line,
        echo if len(echo) <= MAX_ECHO else echo[:MAX_ECHO] + "…",
        *entry[1],
        list(entry[2]),
    )
    result._tail = entry[3]
    return result


def cached_verdict(
    shape: tuple[object, ...], now: datetime, budget: Budget, session: datetime | None
) -> _Entry | None:
    """The verdict ``analyze`` already reached for this shape (unverified), if any."""
    entry = _verdicts.get((shape, now, session, None))
    return entry if entry is not None and entry[0] is budget else None


def _shared_fields(result: UrlResult) -> _Shared:
    """The fields between ``url`` and ``findings``, in declaration order."""
    return (
        result.algorithm,
        result.access_key_id,
        result.key_kind,
        result.account_id,
        result.region,
        result.service,
        result.host,
        result.addressing_style,
        result.signed_at,
        result.expires_at,
        result.session_expires_at,
        result.effective_expires_at,
        result.remaining_seconds,
        result.status,
        result.signature_valid,
        result.signed_method,
        result.signature_note,
    )


def _stale_retries(
    budget: Budget, remaining: timedelta, effective: datetime, by_session: bool, subject: str
) -> Finding | None:
    """CA202: the URL is used after ``queue_dwell`` and retried for ``retry_budget`` more;
    when that runs past its effective expiry, the late retries cannot succeed.  A URL is
    already signed, so ``signing_delay`` does not apply; the skew margin does."""
    if budget.retry_budget <= timedelta(0):
        return None
    last_try = budget.queue_dwell + budget.skew_margin + budget.retry_budget
    if last_try <= remaining:
        return None
    dies = "its session ends" if by_session else "it expires"
    return _finding(
        "CA202",
        subject,
        f"retries reuse this URL until {format_duration(last_try)} from now (queue dwell "
        f"{format_duration(budget.queue_dwell)} + retries {format_duration(budget.retry_budget)}"
        f"), but {dies} at {iso(effective)}, in {format_duration(remaining)}: later attempts "
        "are refused whatever the back-off; sign a new URL instead",
    )


def _judge(  # noqa: PLR0917 - private, called positionally on the hot path
    parsed: ParsedUrl,
    now: datetime,
    budget: Budget,
    session: datetime | None,
    verdict: Verdict | None,
    line: int | None,
) -> UrlResult:
    akid = parsed.access_key_id
    masked, kind, account = _key_facts(akid)
    result = UrlResult(
        line=line,
        algorithm=parsed.algorithm,
        access_key_id=masked,
        key_kind=kind,
        account_id=account,
        region=parsed.region,
        service=parsed.service,
        host=parsed.host or None,
        addressing_style=parsed.addressing_style,
        signed_at=parsed.signed_at,
        expires_at=parsed.expires_at,
    )
    echo = parsed.elided
    if echo is not None:
        result.url = echo if len(echo) <= MAX_ECHO else echo[:MAX_ECHO] + "…"
    subject = masked or parsed.host or (f"line {line}" if line is not None else "url")
    findings = result.findings
    for code, message in parsed.problems:
        findings.append(_finding(code, subject, message))

    temporary = kind is KeyKind.TEMPORARY or parsed.has_token
    result.session_expires_at = session

    nominal = parsed.expires_at
    effective = nominal
    if session is not None and (effective is None or session < effective):
        effective = session
    result.effective_expires_at = effective

    if kind is KeyKind.LONG_TERM:
        findings.append(
            _finding("CA309", subject, "signed with a long-term key: it lives its full TTL")
        )
    if session is not None and nominal is not None and session < nominal:
        early = format_duration(nominal - session)
        findings.append(
            _finding(
                "CA301",
                subject,
                f"URL says it expires {iso(nominal)} but its session ends {iso(session)} "
                f"({early} earlier): it fails with ExpiredToken from then on",
            )
        )
    elif temporary and session is None:
        findings.append(
            _finding(
                "CA302",
                subject,
                "temporary credentials signed this URL and their session expiry is unknown "
                "(state it with --session-expires)",
            )
        )
    if parsed.signed_at is not None and parsed.signed_at > now + budget.skew_margin:
        ahead = format_duration(parsed.signed_at - now)
        findings.append(
            _finding("CA306", subject, f"X-Amz-Date {iso(parsed.signed_at)} is {ahead} ahead")
        )
    if verdict is not None:
        result.signature_valid = verdict.valid
        result.signed_method = verdict.method
        result.signature_note = verdict.reason or None
        if verdict.valid is False:
            findings.append(
                _finding("CA308", subject, "the supplied secret does not reproduce the signature")
            )

    expired = False
    if effective is not None:
        remaining = effective - now
        result.remaining_seconds = int(remaining.total_seconds())
        if remaining <= timedelta(0):
            expired = True
            why = "its session expired" if effective != nominal else "its expiry passed"
            findings.append(_finding("CA303", subject, f"expired at {iso(effective)} ({why})"))
        else:
            need = max(budget.min_remaining, budget.url_ttl)
            if remaining < need:
                findings.append(
                    _finding(
                        "CA304",
                        subject,
                        f"works until {iso(effective)}, less than the required "
                        f"{format_duration(need)}",
                    )
                )
            retries = _stale_retries(budget, remaining, effective, effective != nominal, subject)
            if retries is not None:
                findings.append(retries)

    codes = {f.code for f in findings}
    if codes & _INVALID_CODES or effective is None:
        result.status = "invalid"
    elif expired:
        result.status = "expired"
    elif "CA304" in codes:
        result.status = "expiring"
    else:
        result.status = "valid"
    return result
