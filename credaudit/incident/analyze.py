"""The analysis: sessions and kept uses → findings CA901–CA908 with their numbers, the
timeline and the verdict.  Plain functions over an ``Accumulator``: every engine calls these.

Each failure counts for one cause: a presigned URL that died with its session (CA905), a request
queued past expiry (CA904), a plain expired session (CA901, with its re-sends CA902 and the
refresh gap CA903 behind it), clock skew (CA907) or a wrong credential source (CA906).  The
verdict is the cause that explains the most failures.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from credaudit.analysis.rules import make_finding, sort_findings
from credaudit.durations import whole_seconds
from credaudit.incident import errors
from credaudit.incident.collect import Accumulator
from credaudit.incident.events import Session, Unreadable, Use
from credaudit.incident.identity import principal_of
from credaudit.incident.model import (
    Details,
    SessionView,
    TimelineEntry,
    TimelineKind,
    UseView,
    Verdict,
    VerdictKind,
)
from credaudit.keys import mask_key
from credaudit.model import Finding, format_instant

# Requests signed this long before they were sent count as queued (SDKs sign milliseconds
# before sending).
MIN_DWELL = timedelta(seconds=1)
PROBLEMS_PER_FILE = 5
_LATEST = datetime.max.replace(tzinfo=UTC)
_VERDICTS: dict[str, VerdictKind] = {
    "CA901": "hard-expiry",
    "CA904": "queue-dwell",
    "CA905": "presigned-url",
    "CA907": "clock-skew",
    "CA906": "wrong-source",
}


@dataclass
class Tracked:
    """A session under analysis: its view's facts and the failures tied to it."""

    session: Session
    id: str = ""
    first: datetime | None = None
    last: datetime | None = None
    uses: int = 0
    failures: list[Use] = field(default_factory=list)

    @property
    def start(self) -> datetime | None:
        return self.session.minted_at or self.first

    @property
    def name(self) -> str:
        masked = mask_key(self.session.key)
        return f"{self.id} ({masked})" if masked else f"{self.id} ({self.session.principal})"


@dataclass
class Result:
    sessions: list[SessionView]
    uses: list[UseView]
    findings: list[Finding]
    timeline: list[TimelineEntry]
    verdict: Verdict
    failures: int


def analyze(acc: Accumulator) -> Result:
    tracked = _sessions(acc)
    index = _Index(tracked)
    kept = sorted(acc.kept, key=lambda u: (u.at, u.origin))
    causes: dict[int, str] = {}
    groups: dict[str, list[tuple[Tracked | None, Use]]] = defaultdict(list)
    for use in kept:
        owner = index.owner(use)
        if owner is not None:
            owner.failures.append(use)
        if use.error:
            code = _cause(use, owner)
            if code is not None:
                causes[id(use)] = code
                groups[code].append((owner, use))
    findings: list[Finding] = []
    timeline: list[TimelineEntry] = []
    resends: set[int] = set()
    findings += _expired(groups["CA901"], tracked, timeline, resends)
    findings += _dwell(groups["CA904"], timeline)
    findings += _presigned(groups["CA905"], timeline)
    findings += _wrong_source(groups["CA906"], tracked)
    findings += _skew(groups["CA907"])
    findings += _unreadable(acc.problems)
    failing = [u for u in kept if u.error]
    if failing:
        first, last = failing[0], failing[-1]
        timeline.append(
            _entry(first.at, "first-failure", first, index, f"first failure: {_what(first)}")
        )
        timeline.append(
            _entry(last.at, "last-failure", last, index, f"last failure: {_what(last)}")
        )
    explained = Counter({code: len(items) for code, items in groups.items() if items})
    verdict = _verdict(explained, len(failing), findings)
    return Result(
        sessions=[_session_view(t) for t in tracked],
        uses=[_use_view(u, index.owner(u), causes.get(id(u)), id(u) in resends) for u in kept],
        findings=sort_findings(findings),
        timeline=sorted(timeline, key=lambda e: (e.at, _KIND_ORDER[e.kind], e.subject)),
        verdict=verdict,
        failures=len(failing),
    )


_KIND_ORDER = {
    k: i
    for i, k in enumerate(
        (
            "minted",
            "signed",
            "expired",
            "first-failure",
            "retry",
            "refresh-restored",
            "last-failure",
        )
    )
}


# -- sessions and ties -------------------------------------------------------------------------


def _sessions(acc: Accumulator) -> list[Tracked]:
    """Minted sessions, sessions only seen in use, and sessions only a log's stated expiry
    shows, in order of their start."""
    sessions = [*acc.minted.values(), *acc.keyless]
    for key, (arn, creation) in acc.observed.items():
        if key not in acc.minted:
            sessions.append(
                Session(
                    key=key,
                    principal=principal_of(arn) or "unknown",
                    origin="observed",
                    arn=arn,
                    minted_at=creation,
                    how="observed",
                )
            )
    expiries = {s.expires_at for s in sessions if s.expires_at is not None}
    for (subject, expiry), _seen in acc.stated.items():
        if expiry not in expiries:
            sessions.append(
                Session(
                    key=None,
                    principal=subject or "unknown",
                    origin="stated",
                    expires_at=expiry,
                    how="stated",
                )
            )
            expiries.add(expiry)
    tracked = [Tracked(s) for s in sessions]
    for t in tracked:
        seen = acc.by_key.get(t.session.key) if t.session.key else None
        ends = t.session.expires_at
        if seen is None and t.session.how == "stated" and ends is not None:
            seen = acc.stated.get((t.session.principal, ends)) or acc.stated.get((None, ends))
        if seen is not None:
            t.first, t.last, t.uses = seen.first, seen.last, seen.count
    tracked.sort(key=lambda t: (t.start or _LATEST, t.session.key or "", t.session.principal))
    for number, t in enumerate(tracked, 1):
        t.id = f"s{number}"
    return tracked


class _Index:
    """Ties a use to its session: by key id, by requester ARN and time, by stated expiry."""

    def __init__(self, tracked: list[Tracked]) -> None:
        self.by_key = {t.session.key: t for t in tracked if t.session.key}
        self.by_arn: dict[str, list[Tracked]] = defaultdict(list)
        self.by_expiry: dict[datetime, list[Tracked]] = defaultdict(list)
        self.by_principal: dict[str, list[Tracked]] = defaultdict(list)
        for t in tracked:
            if t.session.arn:
                self.by_arn[t.session.arn].append(t)
            if t.session.expires_at is not None:
                self.by_expiry[t.session.expires_at].append(t)
            self.by_principal[t.session.principal].append(t)
        self._cache: dict[int, Tracked | None] = {}

    def owner(self, use: Use) -> Tracked | None:
        if id(use) not in self._cache:
            self._cache[id(use)] = self._find(use)
        return self._cache[id(use)]

    def _find(self, use: Use) -> Tracked | None:
        if use.key and use.key in self.by_key:
            return self.by_key[use.key]
        if use.stated_expiry is not None:
            candidates = self.by_expiry.get(use.stated_expiry, [])
            same = [t for t in candidates if t.session.principal in (use.subject, use.arn)]
            if same or candidates:
                return (same or candidates)[0]
        if use.arn and not use.key:
            candidates = self.by_arn.get(use.arn) or self.by_principal.get(
                principal_of(use.arn) or "", []
            )
            return _latest_before(candidates, use.at)
        return None


def _latest_before(candidates: list[Tracked], at: datetime) -> Tracked | None:
    """The session minted last at or before ``at`` (sessions are in start order)."""
    starts = [t.start for t in candidates if t.start is not None]
    dated = [t for t in candidates if t.start is not None]
    i = bisect_right(starts, at)
    return dated[i - 1] if i else None


def _cause(use: Use, owner: Tracked | None) -> str | None:
    expires = owner.session.expires_at if owner is not None else use.stated_expiry
    if errors.is_expiry(use.error, use.message):
        if use.presigned and use.url_expires_at is not None and use.at < use.url_expires_at:
            return "CA905"
        if (
            not use.presigned
            and use.signed_at is not None
            and expires is not None
            and use.signed_at < expires <= use.at
            and use.at - use.signed_at >= MIN_DWELL
        ):
            return "CA904"
        return "CA901"
    if errors.is_skew(use.error, use.message):
        return "CA907"
    if errors.is_wrong_source(use.error, use.message):
        return "CA906"
    return None


# -- the findings ------------------------------------------------------------------------------


def _what(use: Use) -> str:
    call = " ".join(x for x in (use.service, use.operation) if x)
    return f"{use.error} on {call}" if call else str(use.error)


def _by_owner(
    items: list[tuple[Tracked | None, Use]],
) -> dict[str, tuple[Tracked | None, list[Use]]]:
    grouped: dict[str, tuple[Tracked | None, list[Use]]] = {}
    for owner, use in items:
        name = owner.id if owner else f"?{use.key or use.arn or use.subject or 'unknown'}"
        grouped.setdefault(name, (owner, []))[1].append(use)
    return grouped


def _subject(owner: Tracked | None, use: Use) -> str:
    if owner is not None:
        return owner.name
    return mask_key(use.key) or use.arn or use.subject or "unknown session"


def _entry(
    at: datetime,
    kind: TimelineKind,
    use: Use | None,
    index: _Index | None,
    detail: str,
    *,
    owner: Tracked | None = None,
    count: int = 1,
) -> TimelineEntry:
    if owner is None and use is not None and index is not None:
        owner = index.owner(use)
    subject = owner.session.principal if owner else (use.arn or use.subject or "?") if use else "?"
    return TimelineEntry(
        at=at,
        kind=kind,
        subject=subject,
        session=owner.id if owner else None,
        detail=detail,
        count=count,
    )


def _expired(
    items: list[tuple[Tracked | None, Use]],
    tracked: list[Tracked],
    timeline: list[TimelineEntry],
    resends: set[int],
) -> list[Finding]:
    findings: list[Finding] = []
    for owner, uses in _by_owner(items).values():
        first, last = uses[0], uses[-1]
        expires = owner.session.expires_at if owner else first.stated_expiry
        details: Details = {
            "failures": len(uses),
            "first_failure_at": format_instant(first.at),
            "last_failure_at": format_instant(last.at),
            "expires_at": format_instant(expires) if expires else None,
            "seconds_after_expiry": whole_seconds(first.at - expires) if expires else None,
        }
        subject = _subject(owner, first)
        findings.append(
            make_finding(
                "CA901",
                subject=subject,
                details=details,
                message=f"{len(uses)} request(s) sent with {subject} after it expired"
                + (f" at {format_instant(expires)}" if expires else "")
                + f": {first.error} from {format_instant(first.at)} to {format_instant(last.at)}",
            )
        )
        if owner is not None:
            _mint_marks(owner, timeline)
        findings += _retries(owner, uses, subject, timeline, resends)
        if owner is not None and expires is not None:
            findings += _gap(owner, tracked, expires, last, timeline)
    return findings


def _mint_marks(owner: Tracked, timeline: list[TimelineEntry]) -> None:
    s = owner.session
    if any(e.session == owner.id and e.kind in ("minted", "expired") for e in timeline):
        return
    if s.minted_at is not None:
        timeline.append(
            _entry(
                s.minted_at,
                "minted",
                None,
                None,
                f"{owner.name} minted" + (f" by {s.minted_by}" if s.minted_by else ""),
                owner=owner,
            )
        )
    if s.expires_at is not None:
        timeline.append(
            _entry(s.expires_at, "expired", None, None, f"{owner.name} expired", owner=owner)
        )


def _retries(
    owner: Tracked | None,
    uses: list[Use],
    subject: str,
    timeline: list[TimelineEntry],
    resends: set[int],
) -> list[Finding]:
    by_request: dict[str, list[Use]] = defaultdict(list)
    for use in uses:
        if use.retry_key:
            by_request[use.retry_key].append(use)
    resent = {k: v for k, v in by_request.items() if len(v) > 1}
    if not resent:
        return []
    resends.update(id(u) for group in resent.values() for u in group[1:])
    retries = sum(len(v) - 1 for v in resent.values())
    first = min(v[0].at for v in resent.values())
    last = max(v[-1].at for v in resent.values())
    for group in resent.values():
        timeline.append(
            _entry(
                group[-1].at,
                "retry",
                group[-1],
                None,
                f"{len(group) - 1} re-send(s) of {group[0].operation or 'a request'}"
                f" with {subject}",
                owner=owner,
                count=len(group) - 1,
            )
        )
    details: Details = {
        "retries": retries,
        "requests": len(resent),
        "seconds": whole_seconds(last - first),
        "first_failure_at": format_instant(first),
        "last_retry_at": format_instant(last),
    }
    return [
        make_finding(
            "CA902",
            subject=subject,
            details=details,
            message=f"{retries} re-send(s) of {len(resent)} request(s) with the dead session over "
            f"{whole_seconds(last - first)} s: retrying with the same token cannot succeed",
        )
    ]


def _gap(
    owner: Tracked,
    tracked: list[Tracked],
    expires: datetime,
    last: Use,
    timeline: list[TimelineEntry],
) -> list[Finding]:
    start = owner.start
    following = [
        t
        for t in tracked
        if t.session.principal == owner.session.principal
        and t is not owner
        and t.start is not None
        and (start is None or t.start > start)
    ]
    following.sort(key=lambda t: t.start or _LATEST)
    successor = following[0] if following else None
    if successor is not None and successor.start is not None and successor.start <= expires:
        return []
    subject = owner.name
    if successor is not None and successor.start is not None:
        gap = whole_seconds(successor.start - expires)
        timeline.append(
            _entry(
                successor.start,
                "refresh-restored",
                None,
                None,
                f"{successor.name} minted: refresh restored after {gap} s",
                owner=successor,
            )
        )
        details: Details = {
            "gap_seconds": gap,
            "expired_at": format_instant(expires),
            "next_minted_at": format_instant(successor.start),
            "next_session": successor.id,
            "restored": True,
        }
        message = (
            f"{subject} expired at {format_instant(expires)} "
            f"while in use; the next session was minted {gap} s later"
        )
    else:
        gap = whole_seconds(last.at - expires)
        details = {
            "gap_seconds": gap,
            "expired_at": format_instant(expires),
            "next_minted_at": None,
            "next_session": None,
            "restored": False,
        }
        message = (
            f"{subject} expired at {format_instant(expires)} "
            f"while in use and no later session appears in the logs ({gap} s to the "
            "last failure)"
        )
    return [
        make_finding("CA903", subject=owner.session.principal, details=details, message=message)
    ]


def _dwell(items: list[tuple[Tracked | None, Use]], timeline: list[TimelineEntry]) -> list[Finding]:
    findings = []
    for owner, uses in _by_owner(items).values():
        worst = max(uses, key=lambda u: (u.at - u.signed_at, u.origin))  # type: ignore[operator]
        assert worst.signed_at is not None
        expires = owner.session.expires_at if owner else worst.stated_expiry
        assert expires is not None
        dwell = whole_seconds(worst.at - worst.signed_at)
        subject = _subject(owner, worst)
        if owner is not None:
            _mint_marks(owner, timeline)
        timeline.append(
            _entry(
                worst.signed_at,
                "signed",
                worst,
                None,
                f"request signed {whole_seconds(expires - worst.signed_at)} s before "
                f"{subject} expired, sent {dwell} s later",
                owner=owner,
            )
        )
        details: Details = {
            "dwell_seconds": dwell,
            "requests": len(uses),
            "signed_at": format_instant(worst.signed_at),
            "sent_at": format_instant(worst.at),
            "signed_before_expiry_seconds": whole_seconds(expires - worst.signed_at),
            "sent_after_expiry_seconds": whole_seconds(worst.at - expires),
        }
        findings.append(
            make_finding(
                "CA904",
                subject=subject,
                details=details,
                message=f"{len(uses)} request(s) signed while {subject} was valid and sent after "
                f"it "
                f"expired: queue dwell up to {dwell} s",
            )
        )
    return findings


def _presigned(
    items: list[tuple[Tracked | None, Use]], timeline: list[TimelineEntry]
) -> list[Finding]:
    findings = []
    for owner, uses in _by_owner(items).values():
        first = uses[0]
        subject = _subject(owner, first)
        expires = owner.session.expires_at if owner else None
        if owner is not None:
            _mint_marks(owner, timeline)
        if first.signed_at is not None:
            timeline.append(
                _entry(
                    first.signed_at,
                    "signed",
                    first,
                    None,
                    f"URL presigned for {first.url_ttl_seconds} s with {subject}",
                    owner=owner,
                )
            )
        assert first.url_expires_at is not None
        details: Details = {
            "requests": len(uses),
            "url_ttl_seconds": max(u.url_ttl_seconds or 0 for u in uses),
            "session_remaining_seconds": whole_seconds(expires - first.signed_at)
            if expires and first.signed_at
            else None,
            "failed_after_signing_seconds": whole_seconds(first.at - first.signed_at)
            if first.signed_at
            else None,
            "url_remaining_seconds": whole_seconds(first.url_expires_at - first.at),
        }
        findings.append(
            make_finding(
                "CA905",
                subject=subject,
                details=details,
                message=f"{len(uses)} presigned request(s) failed with {first.error} while "
                f"their URL "
                f"still had {details['url_remaining_seconds']} s to run: the URL promised "
                f"{details['url_ttl_seconds']} s, the session behind it had "
                f"{details['session_remaining_seconds']} s",
            )
        )
    return findings


def _wrong_source(items: list[tuple[Tracked | None, Use]], tracked: list[Tracked]) -> list[Finding]:
    findings = []
    grouped: dict[str, list[Use]] = defaultdict(list)
    for owner, use in items:
        grouped[
            _subject(owner, use)
            if owner
            else (mask_key(use.key) or use.arn or use.subject or "unknown credential")
        ].append(use)
    for subject, uses in grouped.items():
        first = uses[0]
        valid = sum(
            1
            for t in tracked
            if t.session.expires_at is not None
            and t.start is not None
            and t.start <= first.at < t.session.expires_at
        )
        codes = ",".join(sorted({u.error or "" for u in uses}))
        details: Details = {
            "failures": len(uses),
            "codes": codes,
            "valid_sessions": valid,
            "first_failure_at": format_instant(first.at),
        }
        findings.append(
            make_finding(
                "CA906",
                subject=subject,
                details=details,
                message=f"{len(uses)} request(s) failed with {codes} while {valid} known "
                f"session(s) "
                "were valid: not expiry, the runtime uses another credential",
            )
        )
    return findings


def _skew(items: list[tuple[Tracked | None, Use]]) -> list[Finding]:
    findings = []
    grouped: dict[str, list[Use]] = defaultdict(list)
    for _owner, use in items:
        grouped[_subject(_owner, use)].append(use)
    for subject, uses in grouped.items():
        measured = [
            u.skew_seconds
            if u.skew_seconds is not None
            else whole_seconds(u.at - u.signed_at)
            if u.signed_at
            else None
            for u in uses
        ]
        known = [m for m in measured if m is not None]
        skew = max(known, key=abs) if known else None
        codes = ",".join(sorted({u.error or "" for u in uses}))
        details: Details = {"failures": len(uses), "skew_seconds": skew, "codes": codes}
        findings.append(
            make_finding(
                "CA907",
                subject=subject,
                details=details,
                message=f"{len(uses)} request(s) failed with {codes}"
                + (
                    f": the signing time was {skew} s off the server's"
                    if skew is not None
                    else " (the log states no times to measure the skew)"
                ),
            )
        )
    return findings


def _unreadable(problems: list[Unreadable]) -> list[Finding]:
    per_file: dict[str, list[Unreadable]] = defaultdict(list)
    for problem in problems:
        per_file[_file_of(problem.origin)].append(problem)
    findings = []
    for path, items in per_file.items():
        for problem in items[:PROBLEMS_PER_FILE]:
            findings.append(
                make_finding(
                    "CA908",
                    subject=problem.origin,
                    details={"input": problem.origin},
                    message=f"{problem.origin}: {problem.message}",
                )
            )
        if len(items) > PROBLEMS_PER_FILE:
            more = len(items) - PROBLEMS_PER_FILE
            findings.append(
                make_finding(
                    "CA908",
                    subject=path,
                    details={"input": path, "more": more},
                    message=f"{path}: {more} more unreadable record(s) or line(s)",
                )
            )
    return findings


def _file_of(origin: str) -> str:
    head = origin.split("#", 1)[0]
    base, sep, tail = head.rpartition(":")
    return base if sep and tail.isdigit() else head


# -- the verdict -------------------------------------------------------------------------------


def _verdict(explained: Counter[str], total: int, findings: list[Finding]) -> Verdict:
    from credaudit.incident.advice import advice

    if not explained:
        return Verdict(
            kind="none",
            code=None,
            failures=0,
            total_failures=total,
            fix=None,
            wrong_fix=None,
            explained={},
            summary="no expiry, skew or credential-source failure in these logs"
            if not total
            else f"{total} failure(s), none of them about credentials",
        )
    order = list(_VERDICTS)
    code = max(explained, key=lambda c: (explained[c], -order.index(c)))
    kind = _VERDICTS[code]
    lead = next((f for f in findings if f.code == code), None)
    fix, wrong = advice(code)
    summary = f"{kind}: {explained[code]} of {total} failure(s)" + (
        f" — {lead.message}" if lead else ""
    )
    return Verdict(
        kind=kind,
        code=code,
        failures=explained[code],
        total_failures=total,
        fix=fix,
        wrong_fix=wrong,
        explained={_VERDICTS[c]: n for c, n in explained.items()},
        summary=summary,
    )


def _session_view(t: Tracked) -> SessionView:
    s = t.session
    lifetime = (
        whole_seconds(s.expires_at - s.minted_at)
        if s.expires_at is not None and s.minted_at is not None
        else None
    )
    return SessionView(
        id=t.id,
        access_key_id=mask_key(s.key),
        principal=s.principal,
        arn=s.arn,
        minted_at=s.minted_at,
        expires_at=s.expires_at,
        lifetime_seconds=lifetime,
        minted_by=s.minted_by,
        how=s.how,  # type: ignore[arg-type]
        first_used_at=t.first,
        last_used_at=t.last,
        uses=t.uses,
        failures=sum(1 for u in t.failures if u.error),
        origin=s.origin,
    )


def _use_view(use: Use, owner: Tracked | None, cause: str | None, resent: bool) -> UseView:
    return UseView(
        at=use.at,
        session=owner.id if owner else None,
        source=use.source,
        service=use.service,
        operation=use.operation,
        request_id=use.request_id,
        error=use.error,
        message=use.message,
        signed_at=use.signed_at,
        presigned=use.presigned,
        url_expires_at=use.url_expires_at,
        cause=cause,
        retry=resent,
        origin=use.origin,
    )
