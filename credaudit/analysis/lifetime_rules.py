"""CA101–CA108, CA201, CA202: each resolved credential's lifetime against the budget.

Refresh semantics (reference §2) decide what is judged:

* a static credential (env, credentials file, credential_process without Expiration) is
  judged by its expiry: it must outlive ``run_time`` (CA102), the requests it signs last must
  still be alive after dispatch (CA201/CA202), and it must have ``min_remaining`` now (CA103);
* a refreshable credential is judged by its refresh path: botocore refreshes inside the
  600 s mandatory window, so a signed request is only guaranteed 600 s of life (CA201/CA202),
  and the path itself must work for the whole run — an MFA role cannot renew (CA104), a
  legacy SSO token cannot refresh (CA107), a web-identity token file must be kept fresh
  (CA108), and the requested duration must be one STS accepts (CA105, CA106).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from credaudit.analysis.budget import MANDATORY_REFRESH, Budget
from credaudit.analysis.context import ScanContext
from credaudit.analysis.rules import make_finding
from credaudit.durations import DurationError, format_duration, parse_instant
from credaudit.model import Finding, KeyKind, Observation, Severity, format_instant

STS_MIN = 900
STS_MAX = 43200
CHAINED_MAX = 3600
DEFAULT_ROLE_DURATION = 3600
KUBELET_MAX_AGE = timedelta(hours=24)
KUBELET_FRACTION = 0.8
ZERO = timedelta(0)


def _fmt(span: timedelta) -> str:
    return format_duration(span)


@dataclass(frozen=True)
class _Subject:
    """The profile and credential a finding is about, so each rule states only its message."""

    profile: str
    obs: Observation

    def finding(self, code: str, message: str, severity: Severity | None = None) -> Finding:
        return make_finding(
            code,
            subject=f"profile {self.profile}",
            message=message,
            severity=severity,
            profile=self.profile,
            location=self.obs.location,
        )


def evaluate(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    for profile, winner in ctx.winners.items():
        who = _Subject(profile, winner)
        if winner.refreshable:
            findings.extend(_refreshable(ctx, who))
        else:
            findings.extend(_static(ctx, who))
    findings.extend(_shadowed_role_config(ctx))
    for profile, winner in ctx.winners.items():
        findings.extend(_url_ttl(ctx, _Subject(profile, winner)))
    return findings


def _url_ttl(ctx: ScanContext, who: _Subject) -> list[Finding]:
    """CA301: presigned URLs promised for ``url_ttl`` but signed by these credentials.

    A URL dies with the session that signed it.  A static credential's session ends at its
    expiry; a refreshable one is only guaranteed botocore's 600 s mandatory floor when it
    signs, so a longer promise can be broken (medium) rather than will be (high).
    """
    ttl = ctx.budget.url_ttl
    obs = who.obs
    if ttl <= ZERO:
        return []
    if not obs.refreshable:
        if obs.expires_at is None or obs.key_kind is not KeyKind.TEMPORARY:
            return []
        left = obs.expires_at - ctx.now
        if left >= ttl:
            return []
        return [
            who.finding(
                "CA301",
                f"URLs promised for {_fmt(ttl)} but signed now by {obs.source} from {obs.origin} "
                f"die with its session in {_fmt(max(left, ZERO))}, with ExpiredToken",
            )
        ]
    if ttl <= MANDATORY_REFRESH:
        return []  # within the floor every refreshable source keeps the promise
    return [
        who.finding(
            "CA301",
            f"URLs promised for {_fmt(ttl)} and signed by refreshable {obs.source} credentials "
            f"from {obs.origin} can be signed with as little as {_fmt(MANDATORY_REFRESH)} of "
            "session left (botocore refreshes only then), and die with that session",
            severity=Severity.MEDIUM,
        )
    ]


def _shadowed_role_config(ctx: ScanContext) -> list[Finding]:
    """A role profile hidden by another source (CA401) is still what the operator meant to
    use: its duration defects (CA105, CA106) surface as soon as the shadowing is removed."""
    findings: list[Finding] = []
    for entry in ctx.chain:
        winner = ctx.winners.get(entry.profile)
        if winner is None or winner.source == "assume-role":
            continue
        for obs in ctx.observations:
            if obs.source == "assume-role" and obs.profile == entry.profile:
                findings.extend(_duration_rules(_Subject(entry.profile, obs)))
    return findings


def _static(ctx: ScanContext, who: _Subject) -> list[Finding]:
    """A credential the SDK cannot renew lives exactly until its expiry."""
    obs = who.obs
    if obs.expires_at is None:
        return []
    budget = ctx.budget
    remaining = obs.expires_at - ctx.now
    expires = format_instant(obs.expires_at)
    what = f"{obs.source} credentials from {obs.origin}"
    if remaining <= ZERO:
        return [
            who.finding(
                "CA101",
                f"{what} expired at {expires} ({_fmt(-remaining)} ago) and botocore cannot "
                "refresh them",
            )
        ]
    findings: list[Finding] = []
    run_end = budget.run_time + budget.skew_margin
    if budget.run_time > ZERO and remaining < run_end:
        findings.append(
            who.finding(
                "CA102",
                f"{what} expire at {expires}, in {_fmt(remaining)}, but the run needs "
                f"{_fmt(run_end)}; they cannot be refreshed, so the run fails with ExpiredToken "
                f"after {_fmt(remaining)}",
            )
        )
    else:
        findings.extend(_dispatch(budget, remaining, who, "their remaining life"))
    if remaining < budget.min_remaining:
        findings.append(
            who.finding(
                "CA103",
                f"{what} have {_fmt(remaining)} left (expire {expires}); the minimum is "
                f"{_fmt(budget.min_remaining)}",
            )
        )
    return findings


def _dispatch(budget: Budget, floor: timedelta, who: _Subject, floor_name: str) -> list[Finding]:
    """CA201 when dispatch alone outlives the floor; CA202 when the retries are what do.

    A static credential is used until the end of the run, so its last request is signed at
    ``run_time``; a refreshable one is re-fetched, so only the refresh floor counts.
    """
    obs = who.obs
    before_retries = budget.signing_delay + budget.queue_dwell + budget.skew_margin
    used_until = ZERO if obs.refreshable else budget.run_time
    if before_retries == ZERO and budget.retry_budget == ZERO:
        return []
    left_after_signing = floor - used_until
    if used_until + before_retries > floor:
        return [
            who.finding(
                "CA201",
                f"signing delay + queue dwell ({_fmt(before_retries)}) exceed {floor_name} "
                f"({_fmt(left_after_signing)} after the last signature) for {obs.source} from "
                f"{obs.origin}: requests signed then reach AWS after the credentials died",
            )
        ]
    if budget.retry_budget > ZERO and used_until + before_retries + budget.retry_budget > floor:
        return [
            who.finding(
                "CA202",
                f"retries add {_fmt(budget.retry_budget)} to a signed request; with dispatch "
                f"{_fmt(before_retries)} that exceeds {floor_name} ({_fmt(left_after_signing)}) "
                f"for {obs.source} from {obs.origin}: late retries resend a stale token and "
                "cannot succeed",
            )
        ]
    return []


def _refreshable(ctx: ScanContext, who: _Subject) -> list[Finding]:
    findings = _dispatch(
        ctx.budget, MANDATORY_REFRESH, who, "botocore's guaranteed 600 s refresh floor"
    )
    source = who.obs.source
    if source == "assume-role":
        findings.extend(_assume_role(ctx, who))
    elif source == "sso":
        findings.extend(_sso(ctx, who))
    elif source == "assume-role-with-web-identity":
        findings.extend(_web_identity(ctx, who))
    return findings


def _duration_rules(who: _Subject) -> list[Finding]:
    """CA105 and CA106: what STS and botocore's cache make of ``duration_seconds``."""
    obs = who.obs
    findings: list[Finding] = []
    raw = obs.details.get("duration_seconds")
    duration = raw if isinstance(raw, int) else None
    chained = bool(obs.details.get("chained"))
    if duration is not None:
        ceiling = CHAINED_MAX if chained else STS_MAX
        if duration < STS_MIN or duration > ceiling:
            if duration < STS_MIN:
                why = f"below STS's minimum of {STS_MIN} s"
            elif chained:
                why = "above the 1 h cap on a chained role (its source profile is itself a role)"
            else:
                why = f"above STS's maximum of {STS_MAX} s"
            findings.append(
                who.finding("CA105", f"duration_seconds = {duration} is {why}: AssumeRole fails")
            )
        if duration <= STS_MIN:
            findings.append(
                who.finding(
                    "CA106",
                    f"duration_seconds = {duration}: botocore ignores cached sessions with under "
                    "900 s left, so every process calls AssumeRole again",
                )
            )
    return findings


def _assume_role(ctx: ScanContext, who: _Subject) -> list[Finding]:
    obs = who.obs
    findings = _duration_rules(who)
    raw = obs.details.get("duration_seconds")
    duration = raw if isinstance(raw, int) else None
    mfa = obs.details.get("mfa_serial")
    if mfa:
        session = timedelta(seconds=duration or DEFAULT_ROLE_DURATION)
        if obs.expires_at is not None and obs.expires_at > ctx.now:
            session = obs.expires_at - ctx.now
        # The advisory refresh (900-600 s left) only logs its failure; the mandatory one
        # (under 600 s) raises RefreshWithMFAUnsupportedError: that is when calls start failing.
        usable = max(session - MANDATORY_REFRESH, ZERO)
        if ctx.budget.run_time > usable:
            findings.append(
                who.finding(
                    "CA104",
                    f"role {obs.details.get('role_arn')} needs MFA ({mfa}): botocore cannot renew "
                    "it in-process and raises RefreshWithMFAUnsupportedError once under 600 s "
                    f"remain, so a {_fmt(ctx.budget.run_time)} run fails after {_fmt(usable)}",
                )
            )
    return findings


def _evidence(ctx: ScanContext, source: str, key: str, value: object) -> Observation | None:
    if not value:
        return None
    for obs in ctx.observations:
        if obs.source == source and obs.details.get(key) == value:
            return obs
    return None


def _sso(ctx: ScanContext, who: _Subject) -> list[Finding]:
    obs = who.obs
    token = _evidence(ctx, "sso-token", "cache_key", obs.details.get("token_cache_key"))
    session = obs.details.get("sso_session") or obs.details.get("sso_start_url")
    if token is None:
        return [
            who.finding(
                "CA107",
                f"no cached SSO token for {session}: every call fails until `aws sso login`",
            )
        ]
    if token.expires_at is None:
        return []
    legacy = bool(obs.details.get("legacy"))
    refreshable = token.refreshable and not legacy
    remaining = token.expires_at - ctx.now
    need = ctx.budget.run_time + ctx.budget.skew_margin
    if not refreshable and remaining <= need:
        why = (
            "legacy sso_start_url profiles never refresh their token"
            if legacy
            else "the token has no usable refresh token or client registration"
        )
        expired = remaining <= ZERO
        when = f"expired {_fmt(-remaining)} ago" if expired else f"expires in {_fmt(remaining)}"
        tail = "" if expired else f"; the run needs {_fmt(need)}"
        return [
            who.finding(
                "CA107",
                f"SSO token for {session} ({token.origin}) {when} and {why}{tail}",
                severity=Severity.CRITICAL if expired else Severity.HIGH,
            )
        ]
    registration = token.details.get("registration_expires_at")
    if refreshable and isinstance(registration, str) and remaining < need:
        try:
            reg_left = parse_instant(registration) - ctx.now
        except DurationError:
            return []
        if reg_left < need:
            return [
                who.finding(
                    "CA107",
                    f"SSO client registration for {session} expires in {_fmt(reg_left)}: after "
                    f"that the token cannot be refreshed; the run needs {_fmt(need)}",
                )
            ]
    return []


def _web_identity(ctx: ScanContext, who: _Subject) -> list[Finding]:
    token_file = who.obs.details.get("web_identity_token_file")
    token = _evidence(ctx, "web-identity-token", "token_file", token_file)
    if token is None or token.expires_at is None:
        return []
    remaining = token.expires_at - ctx.now
    if remaining <= ZERO:
        return [
            who.finding(
                "CA108",
                f"web-identity token {token_file} expired {_fmt(-remaining)} ago: "
                "AssumeRoleWithWebIdentity fails (ExpiredTokenException) until it is rewritten",
                severity=Severity.CRITICAL,
            )
        ]
    age_raw = token.details.get("age_seconds")
    lifetime_raw = token.details.get("lifetime_seconds")
    if (
        isinstance(age_raw, int | float)
        and isinstance(lifetime_raw, int | float)
        and lifetime_raw > 0
    ):
        age = timedelta(seconds=age_raw)
        limit = min(timedelta(seconds=lifetime_raw * KUBELET_FRACTION), KUBELET_MAX_AGE)
        if age > limit:
            return [
                who.finding(
                    "CA108",
                    f"web-identity token {token_file} was written {_fmt(age)} ago; the kubelet "
                    f"rewrites it by {_fmt(limit)} (80 % of its life or 24 h): the refresh path "
                    f"is broken and the token dies in {_fmt(remaining)}",
                )
            ]
    return []
