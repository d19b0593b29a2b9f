"""Judge one parsed presigned URL: its real expiry, its status and its CA3xx findings.

The URL states its nominal expiry; a temporary key's session may end earlier, and that
expiry comes from the session lookup (or ``--session-expires``).  Every URL is judged on its
own: real traffic gives each URL its own date, expiry and key, so nothing about a line is
reused for another.  What is cached is what belongs to the session, not to a URL: the
masked key id, its kind and account, and the findings that only name the key and its session
(CA302, CA309, and CA303 when the session has ended).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import RULES, make_finding
from credaudit.durations import format_duration
from credaudit.keys import account_from_key, key_kind, mask_key
from credaudit.model import Finding, KeyKind, format_instant
from credaudit.presign.parse import CACHED_UP_TO, ParsedUrl
from credaudit.presign.verify import Verdict

MAX_ECHO = 2048
_INVALID_CODES = frozenset({"CA305", "CA307", "CA308"})
_ZERO = timedelta(0)


@lru_cache(maxsize=4096)
def _key_facts(akid: str | None) -> tuple[str | None, KeyKind, str | None]:
    """Masked form, kind and account of a key id: once per session."""
    return mask_key(akid), key_kind(akid), account_from_key(akid)


_new = object.__new__
_set = object.__setattr__


def _finding(code: str, subject: str, message: str) -> Finding:
    """``make_finding(code, subject=, message=)``, for the findings built per URL.

    ``Finding`` is a frozen dataclass: its keyword ``__init__`` sets nine fields one by one
    through ``object.__setattr__`` and cost more than parsing the URL; this fills the same
    ``__dict__`` at once (a test holds the two equal)."""
    entry = RULES[code]
    finding = _new(Finding)
    _set(
        finding,
        "__dict__",
        {
            "code": code,
            "severity": entry.severity,
            "title": entry.title,
            "subject": subject,
            "message": message,
            "remediation": entry.fix,
            "profile": None,
            "location": None,
            "details": {},
        },
    )
    return finding


@lru_cache(maxsize=4096)
def _key_finding(code: str, subject: str) -> Finding:
    """The findings whose text names only the key (the subject): once per session."""
    message = {
        "CA302": "temporary credentials signed this URL and their session expiry is unknown "
        "(state it with --session-expires)",
        "CA309": "signed with a long-term key: it lives its full TTL",
    }[code]
    return make_finding(code, subject=subject, message=message)


@lru_cache(maxsize=4096)
def _session_expired(subject: str, session: datetime) -> Finding:
    """CA303 for a URL that died with its session: the same finding for every URL of that
    session, so once per session."""
    message = f"expired at {format_instant(session)} (its session expired)"
    return make_finding("CA303", subject=subject, message=message)


# A session's expiry as text: what every URL of that session repeats in its CA301.
_session_instant = lru_cache(maxsize=4096)(format_instant)


def iso(instant: datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)


def _as_is(instant: datetime | None) -> datetime | None:
    return instant


# orjson writes instants itself, in format_instant's form for UTC (``2026-11-22T04:01:43Z``).
_ORJSON = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_NAIVE_UTC


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

    def to_json(self) -> bytes:
        """``to_dict()`` as one compact JSON line, UTF-8: what ``--format jsonl`` writes.

        orjson renders it; text holding lone surrogates (command-line bytes that are not
        UTF-8), which orjson refuses, goes through ``json`` and back to those bytes."""
        try:
            return orjson.dumps(self._record(_as_is), option=_ORJSON)
        except TypeError:
            text = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
            return text.encode("utf-8", "surrogateescape")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (same keys as ``UrlResultModel``), built without pydantic."""
        return self._record(iso)

    def _record(self, instant: Callable[[datetime | None], Any]) -> dict[str, Any]:
        return {
            "line": self.line,
            "url": self.url,
            "algorithm": self.algorithm,
            "access_key_id": self.access_key_id,
            "key_kind": self.key_kind,  # a StrEnum: a str to every encoder
            "account_id": self.account_id,
            "region": self.region,
            "service": self.service,
            "host": self.host,
            "addressing_style": self.addressing_style,
            "signed_at": instant(self.signed_at),
            "expires_at": instant(self.expires_at),
            "session_expires_at": instant(self.session_expires_at),
            "effective_expires_at": instant(self.effective_expires_at),
            "remaining_seconds": self.remaining_seconds,
            "status": self.status,
            "signature_valid": self.signature_valid,
            "signed_method": self.signed_method,
            "signature_note": self.signature_note,
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "title": f.title,
                    "message": f.message,
                    "remediation": f.remediation,
                }
                for f in self.findings
            ],
        }


def malformed(line: int | None, message: str) -> UrlResult:
    """The record for an input line that is not a URL at all (junk, too long, bad JSON)."""
    subject = f"line {line}" if line is not None else "input"
    return UrlResult(line=line, findings=[make_finding("CA307", subject=subject, message=message)])


def _stale_retries(
    budget: Budget, remaining: timedelta, effective: datetime, by_session: bool, subject: str
) -> Finding | None:
    """CA202: the URL is used after ``queue_dwell`` and retried for ``retry_budget`` more;
    when that runs past its effective expiry, the late retries cannot succeed.  A URL is
    already signed, so ``signing_delay`` does not apply; the skew margin does."""
    if budget.retry_budget <= _ZERO:
        return None
    last_try = budget.queue_dwell + budget.skew_margin + budget.retry_budget
    if last_try <= remaining:
        return None
    dies = "its session ends" if by_session else "it expires"
    return make_finding(
        "CA202",
        subject=subject,
        message=f"retries reuse this URL until {format_duration(last_try)} from now (queue "
        f"dwell {format_duration(budget.queue_dwell)} + retries "
        f"{format_duration(budget.retry_budget)}), but {dies} at {format_instant(effective)}, in "
        f"{format_duration(remaining)}: later attempts are refused whatever the back-off; "
        "sign a new URL instead",
    )


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
    """Apply CA202 and CA301–CA309 to one parsed URL at ``now`` against ``budget``."""
    akid = parsed.access_key_id
    session = session_expires if akid else None
    if session is None and sessions and akid:
        session = sessions.get(akid)
    if session is not None and session.tzinfo is not UTC:
        session = session.astimezone(UTC)  # every instant rendered is UTC
    masked, kind, account = (
        _key_facts if akid is None or len(akid) <= CACHED_UP_TO else _key_facts.__wrapped__
    )(akid)
    nominal = parsed.expires_at
    effective = (
        session if session is not None and (nominal is None or session < nominal) else nominal
    )
    echo = parsed.elided
    if echo is not None and len(echo) > MAX_ECHO:
        echo = echo[:MAX_ECHO] + "…"
    result = UrlResult(
        line,
        echo,
        parsed.algorithm,
        masked,
        kind,
        account,
        parsed.region,
        parsed.service,
        parsed.host or None,
        parsed.addressing_style,
        parsed.signed_at,
        nominal,
        session,
        effective,
    )
    subject = masked or parsed.host or (f"line {line}" if line is not None else "url")
    key_finding, session_expired = (
        (_key_finding, _session_expired)
        if len(subject) <= CACHED_UP_TO
        else (_key_finding.__wrapped__, _session_expired.__wrapped__)
    )
    findings = result.findings
    invalid = False
    for code, message in parsed.problems:
        findings.append(_finding(code, subject, message))
        invalid = invalid or code in _INVALID_CODES

    if kind is KeyKind.LONG_TERM:
        findings.append(key_finding("CA309", subject))
    if session is not None and nominal is not None and session < nominal:
        findings.append(
            _finding(
                "CA301",
                subject,
                f"URL says it expires {format_instant(nominal)} but its session ends "
                f"{_session_instant(session)} ({format_duration(nominal - session)} earlier): it "
                "fails with ExpiredToken from then on",
            )
        )
    elif session is None and (kind is KeyKind.TEMPORARY or parsed.token_param is not None):
        findings.append(key_finding("CA302", subject))
    signed_at = parsed.signed_at
    if signed_at is not None and signed_at > now + budget.skew_margin:
        findings.append(
            _finding(
                "CA306",
                subject,
                f"X-Amz-Date {format_instant(signed_at)} is "
                f"{format_duration(signed_at - now)} ahead",
            )
        )
    if verdict is not None:
        result.signature_valid = verdict.valid
        result.signed_method = verdict.method
        result.signature_note = verdict.reason or None
        if verdict.valid is False:
            invalid = True
            findings.append(
                make_finding(
                    "CA308",
                    subject=subject,
                    message="the supplied secret does not reproduce the signature",
                )
            )

    if effective is None:
        result.status = "invalid"
        return result
    remaining = effective - now
    result.remaining_seconds = int(remaining.total_seconds())
    expiring = False
    if remaining <= _ZERO:
        if effective != nominal:
            findings.append(session_expired(subject, effective))
        else:
            findings.append(
                _finding(
                    "CA303",
                    subject,
                    f"expired at {format_instant(effective)} (its expiry passed)",
                )
            )
    else:
        need = max(budget.min_remaining, budget.url_ttl)
        if remaining < need:
            expiring = True
            findings.append(
                _finding(
                    "CA304",
                    subject,
                    f"works until {format_instant(effective)}, less than the required "
                    f"{format_duration(need)}",
                )
            )
        retries = _stale_retries(budget, remaining, effective, effective != nominal, subject)
        if retries is not None:
            findings.append(retries)
    result.status = (
        "invalid"
        if invalid
        else "expired"
        if remaining <= _ZERO
        else "expiring"
        if expiring
        else "valid"
    )
    return result
