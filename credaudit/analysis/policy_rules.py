"""Static analysis of a policy: per workload, the rules decidable from configuration alone.

``credaudit check`` runs before a deploy, where no live credentials exist.  So each workload's
source is turned into what it *can* live (``lifetimes.py``), and that is held against the
workload's budget.  A limit that can never be met is high; one that holds only sometimes
(a URL signed late in a session) is medium.  Suppressions are applied last, so an expired
suppression can say that it no longer hides anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from credaudit.analysis import lifetimes as lt
from credaudit.analysis.budget import CACHE_EXPIRY_WINDOW, Budget
from credaudit.analysis.rules import make_finding, sort_findings
from credaudit.durations import format_duration
from credaudit.keys import account_from_key, key_kind
from credaudit.model import Finding, KeyKind, Location, Severity, Summary
from credaudit.policy import CheckReport, LoadedPolicy, Suppression, Workload, WorkloadView

_ROLE_ACCOUNT_FIELD = 4  # arn:aws:iam::ACCOUNT:role/NAME


@dataclass(frozen=True)
class Spec:
    """What a workload's credentials are, resolved from ``source=`` or from its profile."""

    source: str  # a key of lifetimes.SOURCE_FACTS
    origin: str
    requested: timedelta | None = None  # an explicit session duration request
    role_arn: str | None = None
    chained: bool = False
    mfa: bool = False
    account: str | None = None
    long_term: bool = False
    problem: str | None = None  # the profile yields no credentials (CA403)


@dataclass(frozen=True)
class OnlineFacts:
    """What ``--online`` learned from AWS: roles' MaxSessionDuration, the caller's account."""

    max_session: Mapping[str, timedelta] = field(default_factory=dict)
    caller_account: str | None = None
    notes: tuple[str, ...] = ()


def role_account(role_arn: str | None) -> str | None:
    if not role_arn:
        return None
    parts = role_arn.split(":")
    return parts[_ROLE_ACCOUNT_FIELD] if len(parts) > _ROLE_ACCOUNT_FIELD else None


def spec_from_source(workload: Workload) -> Spec:
    source = workload.source or "env"
    return Spec(
        source=source,
        origin=f"source {source}",
        requested=workload.duration,
        role_arn=workload.role_arn,
        chained=workload.chained,
        mfa=workload.mfa,
        account=role_account(workload.role_arn),
    )


def _is_role_session(profile: Mapping[str, Any]) -> bool:
    return "role_arn" in profile or "sso_account_id" in profile


def spec_from_profile(name: str, profiles: Mapping[str, Mapping[str, Any]], where: str) -> Spec:
    """The source botocore would build for ``name`` (reference §1 order), from config alone."""
    profile = profiles[name]
    origin = f"profile {name} ({where})"
    role_arn = profile.get("role_arn")
    if role_arn and ("source_profile" in profile or "credential_source" in profile):
        requested: timedelta | None = None
        raw = profile.get("duration_seconds")
        if raw is not None:
            try:
                requested = timedelta(seconds=int(str(raw)))
            except ValueError:
                return Spec(
                    "assume-role",
                    origin,
                    role_arn=role_arn,
                    problem=f"duration_seconds {raw!r} is not an integer",
                )
        parent = profiles.get(str(profile.get("source_profile", "")), {})
        return Spec(
            "assume-role",
            origin,
            requested=requested,
            role_arn=role_arn,
            # Assuming a role from another role's session (a role profile, an SSO permission
            # set) is role chaining: STS caps it at 1 h.
            chained=parent is not profile and _is_role_session(parent),
            mfa="mfa_serial" in profile,
            account=role_account(role_arn),
        )
    if role_arn and "web_identity_token_file" in profile:
        return Spec("web-identity", origin, role_arn=role_arn, account=role_account(role_arn))
    if "sso_account_id" in profile or "sso_role_name" in profile:
        return Spec("sso", origin, account=profile.get("sso_account_id"))
    if "credential_process" in profile:
        return Spec("process", origin)
    key = profile.get("aws_access_key_id")
    if key:
        token = profile.get("aws_session_token") or profile.get("aws_security_token")
        long_term = key_kind(str(key)) is KeyKind.LONG_TERM and not token
        return Spec(
            "static-keys" if long_term else "static-session",
            origin,
            account=account_from_key(str(key)),
            long_term=long_term,
        )
    return Spec(
        "env",
        origin,
        problem="configures no credential source (role_arn, sso_*, credential_process or keys)",
    )


@dataclass
class _Judge:
    """Collects one workload's findings, all located at its [[workload]] line."""

    workload: Workload
    location: Location
    findings: list[Finding] = field(default_factory=list)

    def add(self, code: str, message: str, severity: Severity | None = None) -> None:
        self.findings.append(
            make_finding(
                code,
                subject=self.workload.name,
                message=message,
                severity=severity,
                profile=self.workload.profile,
                location=self.location,
            )
        )


def _d(span: timedelta) -> str:
    return format_duration(span)


def evaluate_workload(
    workload: Workload,
    *,
    spec: Spec,
    budget: Budget,
    expected_account: str | None,
    online: OnlineFacts,
    location: Location,
) -> tuple[list[Finding], timedelta | None, bool]:
    """Findings for one workload, the life of one of its sessions, and whether it renews."""
    judge = _Judge(workload, location)
    if spec.problem:
        judge.add("CA403", f"{spec.origin}: {spec.problem}")
        return judge.findings, None, False
    facts = lt.facts(spec.source)
    horizon = budget.horizon
    session = facts.session
    refreshable = facts.refreshable and not spec.mfa

    if spec.source == "assume-role":
        session = spec.requested or lt.STS_DEFAULT_DURATION
        _role_duration(judge, spec, session, workload, online)
        if spec.mfa and horizon > session:
            judge.add(
                "CA104",
                f"the MFA role session lasts {_d(session)} but the work needs {_d(horizon)}; "
                "botocore cannot renew it without a new MFA code",
            )
    elif spec.source == "sso":
        portal = spec.requested or lt.SSO_SESSION_DEFAULT
        if horizon > portal:
            judge.add(
                "CA107",
                f"the SSO session lasts {_d(portal)} but the work needs {_d(horizon)}; after "
                "it ends every call fails until `aws sso login`",
            )
    elif spec.source in ("env", "static-session", "lambda", "process"):
        session = spec.requested
        if not refreshable:
            _static_outlived(judge, spec, facts, session, horizon)
    if spec.long_term:
        judge.add("CA404", f"{spec.origin} uses a long-term IAM user access key")

    floor = _signing_floor(spec, session, refreshable)
    if floor is not None:
        _dispatch(judge, budget, floor, refreshable)
    if budget.url_ttl > timedelta(0) and not spec.long_term:
        _url(judge, budget=budget, spec=spec, facts=facts, session=session, refreshable=refreshable)
    _account(judge, spec, expected_account, online)
    return judge.findings, session, refreshable


def _role_duration(
    judge: _Judge, spec: Spec, session: timedelta, workload: Workload, online: OnlineFacts
) -> None:
    ceiling = workload.max_session_duration
    ceiling_source = "the role's MaxSessionDuration (policy)"
    if spec.role_arn and spec.role_arn in online.max_session:
        ceiling = online.max_session[spec.role_arn]
        ceiling_source = "the role's MaxSessionDuration (IAM GetRole)"
    asked = f"duration {_d(session)}"
    if session < lt.STS_MIN_DURATION:
        judge.add("CA105", f"{asked} is below STS's minimum of 15m; AssumeRole fails")
    elif session > lt.ROLE_MAX_SESSION_CEILING:
        judge.add("CA105", f"{asked} is above STS's maximum of 12h; AssumeRole fails")
    elif spec.chained and session > lt.CHAINED_ROLE_MAX:
        judge.add(
            "CA105",
            f"{asked} on a chained role (its source is itself a role session) is above the "
            "1h STS allows for role chaining; AssumeRole fails",
        )
    elif ceiling is not None and session > ceiling:
        judge.add("CA105", f"{asked} is above {ceiling_source} of {_d(ceiling)}; AssumeRole fails")
    if session <= CACHE_EXPIRY_WINDOW:
        judge.add(
            "CA106",
            f"{asked} is within botocore's 15m cache expiry window: a cached session is "
            "never reused and every call assumes the role again",
        )


def _static_outlived(
    judge: _Judge,
    spec: Spec,
    facts: lt.Lifetime,
    session: timedelta | None,
    horizon: timedelta,
) -> None:
    if session is not None:
        if horizon > session:
            judge.add(
                "CA102",
                f"{spec.origin} gives a non-refreshable session of {_d(session)} but the work "
                f"needs {_d(horizon)}",
            )
    elif horizon > facts.ceiling:
        judge.add(
            "CA102",
            f"{spec.origin} is not refreshable and no such session lives longer than "
            f"{_d(facts.ceiling)}, but the work needs {_d(horizon)}",
        )
    elif horizon > lt.STS_DEFAULT_DURATION:
        judge.add(
            "CA102",
            f"{spec.origin} is not refreshable and its lifetime is unknown; the work needs "
            f"{_d(horizon)}, longer than STS's default 1h session (state `duration`)",
            severity=Severity.MEDIUM,
        )


def _signing_floor(spec: Spec, session: timedelta | None, refreshable: bool) -> timedelta | None:
    """The life a credential is guaranteed to have left when it signs, if decidable."""
    if spec.long_term:
        return None
    if refreshable:
        return lt.REFRESH_FLOOR
    return session


def _dispatch(judge: _Judge, budget: Budget, floor: timedelta, refreshable: bool) -> None:
    why = (
        "refreshable credentials are only guaranteed 10m when they sign"
        if refreshable
        else f"the session lasts only {_d(floor)}"
    )
    if budget.dispatch > floor:
        judge.add(
            "CA201",
            f"signing delay + queue dwell + retries = {_d(budget.dispatch)}, but {why}",
        )
    if budget.retry_budget > floor:
        judge.add(
            "CA202",
            f"retries re-send signed requests for {_d(budget.retry_budget)}, but {why}",
        )


def _url(
    judge: _Judge,
    *,
    budget: Budget,
    spec: Spec,
    facts: lt.Lifetime,
    session: timedelta | None,
    refreshable: bool,
) -> None:
    longest = session if session is not None else facts.ceiling
    ttl = budget.url_ttl
    if ttl > longest:
        kind = "its sessions last" if session is not None else "no such session lives longer than"
        judge.add(
            "CA301",
            f"promises {_d(ttl)} presigned URLs, but {kind} {_d(longest)}: every URL dies early",
        )
        return
    floor = lt.REFRESH_FLOOR if refreshable else None
    if floor is None and session is not None:
        floor = session - budget.run_time
    if floor is None or ttl > floor:
        left = "an unknown time" if floor is None else _d(max(floor, timedelta(0)))
        judge.add(
            "CA302",
            f"promises {_d(ttl)} presigned URLs, but a URL signed late in a session has only "
            f"{left} before its session ends",
        )


def _account(judge: _Judge, spec: Spec, expected: str | None, online: OnlineFacts) -> None:
    if expected is None:
        return
    actual, how = spec.account, "configuration"
    if spec.source == "env" and online.caller_account:
        actual, how = online.caller_account, "STS GetCallerIdentity"
    if actual is not None and actual != expected:
        judge.add("CA402", f"credentials resolve to account {actual} ({how}), expected {expected}")


def apply_suppressions(
    findings: list[Finding],
    ignores: list[Suppression],
    today: date,
    subject: str,
    location: Location | None = None,
) -> tuple[list[Finding], list[str]]:
    """Drop findings an active suppression covers; an expired one says so (info) instead.

    A suppression is active through its ``until`` date.  An expired one must not vanish
    silently: the team that wrote it has to decide again, so it becomes an info finding.
    """
    active = {s.code for s in ignores if s.until is None or s.until >= today}
    kept = [f for f in findings if f.code not in active]
    suppressed = sorted({f.code for f in findings if f.code in active})
    for s in ignores:
        if s.until is not None and s.until < today:
            kept.append(
                make_finding(
                    s.code,
                    subject=subject,
                    message=(
                        f"the suppression of {s.code} expired on {s.until.isoformat()} "
                        f"({s.reason}) and no longer suppresses"
                    ),
                    severity=Severity.INFO,
                    remediation=(
                        "Fix the finding, or renew the suppression with a new until date and "
                        "a reason that still holds."
                    ),
                    location=location,
                )
            )
    return kept, suppressed


def summarize(findings: list[Finding], count: int, fail_on: Severity) -> Summary:
    by: dict[str, int] = {s.value: 0 for s in Severity}
    for f in findings:
        by[f.severity.value] += 1
    highest = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return Summary(
        credentials=count,
        findings=len(findings),
        by_severity=by,
        highest=highest,
        fail_on=fail_on,
        failed=any(f.severity.at_least(fail_on) for f in findings),
    )


def check_policy(
    loaded: LoadedPolicy,
    specs: list[Spec],
    now: datetime,
    fail_on: Severity,
    online: OnlineFacts | None = None,
) -> CheckReport:
    """Judge every workload of ``loaded`` (``specs`` in the same order) against its budget."""
    online = online or OnlineFacts()
    policy = loaded.policy
    findings: list[Finding] = []
    views: list[WorkloadView] = []
    for index, (workload, spec) in enumerate(zip(policy.workload, specs, strict=True)):
        line = loaded.workload_line(index)
        location = Location(path=str(loaded.path), line=line)
        budget = workload.budget(policy.defaults)
        expected = workload.expected_account or policy.defaults.expected_account
        raw, session, refreshable = evaluate_workload(
            workload,
            spec=spec,
            budget=budget,
            expected_account=expected,
            online=online,
            location=location,
        )
        kept, suppressed = apply_suppressions(
            raw, workload.ignore, now.date(), workload.name, location
        )
        findings.extend(kept)
        views.append(
            WorkloadView(
                name=workload.name,
                source=spec.source,
                origin=spec.origin,
                role_arn=spec.role_arn,
                session_seconds=int(session.total_seconds()) if session is not None else None,
                refreshable=refreshable,
                budget=budget.view(),
                line=line,
                suppressed=suppressed,
            )
        )
    ordered = sort_findings(findings)
    return CheckReport(
        evaluated_at=now,
        policy=str(loaded.path),
        workloads=views,
        findings=ordered,
        notes=list(online.notes),
        summary=summarize(ordered, len(views), fail_on),
    )
