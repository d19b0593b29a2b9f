"""Judge one parsed presigned URL: its real expiry, its status and its CA3xx findings.

The URL states its nominal expiry; a temporary key's session may end earlier, and that
expiry comes from the session lookup (or ``--session-expires``).  Every URL is judged on its
own: real traffic gives each URL its own date, expiry and key, so nothing about a line is
reused for another.  What is cached is what belongs to a key or its session, not to a URL:
the masked key id, its kind and account, and the findings whose text names only the key's
kind or the session's end (CA302, CA309, and CA303 when the session has ended).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import view as finding
from credaudit.durations import format_duration, whole_seconds
from credaudit.keys import account_from_key, key_kind, mask_key
from credaudit.model import FindingView, KeyKind, format_instant
from credaudit.presign.model import UrlResult
from credaudit.presign.parse import CACHED_UP_TO, ParsedUrl
from credaudit.presign.verify import Verdict

MAX_ECHO = 2048
_INVALID_CODES = frozenset({"CA305", "CA307", "CA308"})
_ZERO = timedelta(0)
# Enum members as module constants: ``KeyKind.X`` is a descriptor lookup (65 ns) a line.
_LONG_TERM_KEY, _TEMPORARY_KEY = KeyKind.LONG_TERM, KeyKind.TEMPORARY


@lru_cache(maxsize=4096)
def _key_facts(akid: str | None) -> tuple[str | None, KeyKind, str | None]:
    """Masked form, kind and account of a key id: once per session."""
    return mask_key(akid), key_kind(akid), account_from_key(akid)


_UNKNOWN_SESSION = finding(
    "CA302",
    "temporary credentials signed this URL and their session expiry is unknown "
    "(state it with --session-expires)",
)
_LONG_TERM = finding("CA309", "signed with a long-term key: it lives its full TTL")
_MISMATCH = finding("CA308", "the supplied secret does not reproduce the signature")


@lru_cache(maxsize=4096)
def _session_expired(session: datetime) -> FindingView:
    """CA303 for a URL that died with its session: the same finding for every URL of that
    session, so once per session."""
    return finding("CA303", f"expired at {format_instant(session)} (its session expired)")


# A session's expiry as text: what every URL of that session repeats in its CA301.
_session_instant = lru_cache(maxsize=4096)(format_instant)


def malformed(line: int | None, message: str) -> UrlResult:
    """The record for an input line that is not a URL at all (junk, too long, bad JSON)."""
    return UrlResult(line=line, findings=[finding("CA307", message)])


def _stale_retries(
    budget: Budget, remaining: timedelta, effective: datetime, by_session: bool
) -> FindingView | None:
    """CA202: the URL is used after ``queue_dwell`` and retried for ``retry_budget`` more;
    when that runs past its effective expiry, the late retries cannot succeed.  A URL is
    already signed, so ``signing_delay`` does not apply; the skew margin does."""
    if budget.retry_budget <= _ZERO:
        return None
    last_try = budget.queue_dwell + budget.skew_margin + budget.retry_budget
    if last_try <= remaining:
        return None
    dies = "its session ends" if by_session else "it expires"
    return finding(
        "CA202",
        f"retries reuse this URL until {format_duration(last_try)} from now (queue "
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
    findings = result.findings
    invalid = False
    for code, message in parsed.problems:
        findings.append(finding(code, message))
        invalid = invalid or code in _INVALID_CODES

    if kind is _LONG_TERM_KEY:
        findings.append(_LONG_TERM)
    if session is not None and nominal is not None and session < nominal:
        findings.append(
            finding(
                "CA301",
                f"URL says it expires {format_instant(nominal)} but its session ends "
                f"{_session_instant(session)} ({format_duration(nominal - session)} earlier): it "
                "fails with ExpiredToken from then on",
            )
        )
    elif session is None and (kind is _TEMPORARY_KEY or parsed.token_param is not None):
        findings.append(_UNKNOWN_SESSION)
    signed_at = parsed.signed_at
    if signed_at is not None:
        ahead = signed_at - now  # not ``now + skew_margin`` a line: a third of the cost
        if ahead > budget.skew_margin:
            findings.append(
                finding(
                    "CA306",
                    f"X-Amz-Date {format_instant(signed_at)} is {format_duration(ahead)} ahead",
                )
            )
    if verdict is not None:
        result.signature_valid = verdict.valid
        result.signed_method = verdict.method
        result.signature_note = verdict.reason or None
        if verdict.valid is False:
            invalid = True
            findings.append(_MISMATCH)

    if effective is None:
        result.status = "invalid"
        return result
    remaining = effective - now
    result.remaining_seconds = whole_seconds(remaining)
    expiring = False
    if remaining <= _ZERO:
        if effective != nominal:
            findings.append(_session_expired(effective))
        else:
            findings.append(
                finding(
                    "CA303",
                    f"expired at {format_instant(effective)} (its expiry passed)",
                )
            )
    else:
        need = max(budget.min_remaining, budget.url_ttl)
        if remaining < need:
            expiring = True
            findings.append(
                finding(
                    "CA304",
                    f"works until {format_instant(effective)}, less than the required "
                    f"{format_duration(need)}",
                )
            )
        retries = _stale_retries(budget, remaining, effective, effective != nominal)
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
