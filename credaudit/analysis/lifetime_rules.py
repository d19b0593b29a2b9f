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

from datetime import timedelta

from credaudit.analysis.budget import MANDATORY_REFRESH, Budget
from credaudit.analysis.context import ScanContext
from credaudit.analysis.rules import make_finding
from credaudit.durations import format_duration, parse_instant
from credaudit.model import Finding, Observation, Severity

STS_MIN = 900
STS_MAX = 43200
CHAINED_MAX = 3600
DEFAULT_ROLE_DURATION = 3600
WEB_IDENTITY_DURATION = timedelta(seconds=3600)
KUBELET_MAX_AGE = timedelta(hours=24)
KUBELET_FRACTION = 0.8


def _fmt(span: timedelta) -> str:
    return format_duration(span)


def evaluate(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    for profile, winner in ctx.winners.items():
        if winner.refreshable:
            findings.extend(_refreshable(ctx, profile, winner))
        else:
            findings.extend(_static(ctx, profile, winner))
    return findings


def _static(ctx: ScanContext, profile: str, obs: Observation) -> list[Finding]:
    """A credential the SDK cannot renew lives exactly until its expiry."""
    if obs.expires_at is None:
        return []
    budget = ctx.budget
    remaining = obs.expires_at - ctx.now
    subject = f"profile {profile}"
    expires = obs.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    common = {"profile": profile, "location": obs.location}
    if remaining <= timedelta(0):
        return [
            make_finding(
                "CA101",
                subject=subject,
                message=(
                    f"{obs.source} credentials from {obs.origin} expired at {expires} "
                    f"({_fmt(-remaining)} ago) and botocore cannot refresh them"
                ),
                **common,  # type: ignore[arg-type]
            )
        ]
    findings: list[Finding] = []
    run_end = budget.run_time + budget.skew_margin
    if budget.run_time > timedelta(0) and remaining < run_end:
        findings.append(
            make_finding(
                "CA102",
                subject=subject,
                message=(
                    f"{obs.source} credentials from {obs.origin} expire at {expires}, in "
                    f"{_fmt(remaining)}, but the run needs {_fmt(run_end)}; they cannot be "
                    f"refreshed, so the run fails with ExpiredToken after {_fmt(remaining)}"
                ),
                **common,  # type: ignore[arg-type]
            )
        )
    else:
        findings.extend(_dispatch(budget, remaining, subject, obs, "their remaining life", common))
    if remaining < budget.min_remaining:
        findings.append(
            make_finding(
                "CA103",
                subject=subject,
                message=(
                    f"{obs.source} credentials from {obs.origin} have {_fmt(remaining)} left "
                    f"(expire {expires}); the minimum is {_fmt(budget.min_remaining)}"
                ),
                **common,  # type: ignore[arg-type]
            )
        )
    return findings


def _dispatch(
    budget: Budget,
    floor: timedelta,
    subject: str,
    obs: Observation,
    floor_name: str,
    common: dict[str, object],
) -> list[Finding]:
    """CA201 when dispatch alone outlives the floor; CA202 when the retries are what do."""
    before_retries = budget.signing_delay + budget.queue_dwell + budget.skew_margin
    # A static credential is used until the end of the run; its last request is signed then.
    used_until = budget.run_time if not obs.refreshable else timedelta(0)
    if before_retries == timedelta(0) and budget.retry_budget == timedelta(0):
        return []
    if used_until + before_retries > floor:
        return [
            make_finding(
                "CA201",
                subject=subject,
                message=(
                    f"signing delay + queue dwell ({_fmt(before_retries)}) exceed {floor_name} "
                    f"({_fmt(floor - used_until)} after the last signature) for {obs.source} "
                    f"from {obs.origin}: requests signed now reach AWS after the credentials died"
                ),
                **common,  # type: ignore[arg-type]
            )
        ]
    if budget.retry_budget > timedelta(0) and used_until + before_retries + budget.retry_budget > floor:
        return [
            make_finding(
                "CA202",
                subject=subject,
                message=(
                    f"retries add {_fmt(budget.retry_budget)} to a signed request; with dispatch "
                    f"{_fmt(before_retries)} that exceeds {floor_name} "
                    f"({_fmt(floor - used_until)}) for {obs.source} from {obs.origin}: late "
                    "retries resend a stale token and cannot succeed"
                ),
                **common,  # type: ignore[arg-type]
            )
        ]
    return []


def _refreshable(ctx: ScanContext, profile: str, obs: Observation) -> list[Finding]:
    subject = f"profile {profile}"
    common: dict[str, object] = {"profile": profile, "location": obs.location}
    findings = _dispatch(
        ctx.budget, MANDATORY_REFRESH, subject, obs,
        "botocore's guaranteed 600 s refresh floor", common,
    )
    if obs.source == "assume-role":
        findings.extend(_assume_role(ctx, subject, obs, common))
    elif obs.source == "sso":
        findings.extend(_sso(ctx, subject, obs, common))
    elif obs.source == "assume-role-with-web-identity":
        findings.extend(_web_identity(ctx, subject, obs, common))
    return findings


def _assume_role(
    ctx: ScanContext, subject: str, obs: Observation, common: dict[str, object]
) -> list[Finding]:
    findings: list[Finding] = []
    raw = obs.details.get("duration_seconds")
    duration = int(raw) if isinstance(raw, int) else None
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
                make_finding(
                    "CA105",
                    subject=subject,
                    message=f"duration_seconds = {duration} is {why}: AssumeRole fails",
                    **common,  # type: ignore[arg-type]
                )
            )
        if duration <= STS_MIN:
            findings.append(
                make_finding(
                    "CA106",
                    subject=subject,
                    message=(
                        f"duration_seconds = {duration}: botocore ignores cached sessions with "
                        "under 900 s left, so every process calls AssumeRole again"
                    ),
                    **common,  # type: ignore[arg-type]
                )
            )
    if obs.details.get("mfa_serial"):
        session = timedelta(seconds=duration or DEFAULT_ROLE_DURATION)
        usable = session
        if obs.expires_at is not None and obs.expires_at > ctx.now:
            usable = obs.expires_at - ctx.now
        if ctx.budget.run_time > usable:
            findings.append(
                make_finding(
                    "CA104",
                    subject=subject,
                    message=(
                        f"role {obs.details.get('role_arn')} needs MFA ({obs.details['mfa_serial']}): "
                        f"botocore cannot renew it in-process (RefreshWithMFAUnsupportedError), "
                        f"so a {_fmt(ctx.budget.run_time)} run fails after {_fmt(usable)}"
                    ),
                    **common,  # type: ignore[arg-type]
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


def _sso(
    ctx: ScanContext, subject: str, obs: Observation, common: dict[str, object]
) -> list[Finding]:
    token = _evidence(ctx, "sso-token", "cache_key", obs.details.get("token_cache_key"))
    session = obs.details.get("sso_session") or obs.details.get("sso_start_url")
    if token is None:
        return [
            make_finding(
                "CA107",
                subject=subject,
                message=f"no cached SSO token for {session}: every call fails until `aws sso login`",
                **common,  # type: ignore[arg-type]
            )
        ]
    if token.expires_at is None:
        return []
    legacy = bool(obs.details.get("legacy"))
    refreshable = token.refreshable and not legacy
    remaining = token.expires_at - ctx.now
    need = ctx.budget.run_time + ctx.budget.skew_margin
    why = (
        "legacy sso_start_url profiles never refresh their token"
        if legacy
        else "the token has no usable refresh token or client registration"
    )
    if not refreshable and remaining <= need:
        expired = remaining <= timedelta(0)
        return [
            make_finding(
                "CA107",
                subject=subject,
                severity=Severity.CRITICAL if expired else Severity.HIGH,
                message=(
                    f"SSO token for {session} ({token.origin}) "
                    + (f"expired {_fmt(-remaining)} ago" if expired else f"expires in {_fmt(remaining)}")
                    + f" and {why}"
                    + ("" if expired else f"; the run needs {_fmt(need)}")
                ),
                **common,  # type: ignore[arg-type]
            )
        ]
    registration = token.details.get("registration_expires_at")
    if refreshable and isinstance(registration, str):
        reg_left = parse_instant(registration) - ctx.now
        if remaining < need and reg_left < need:
            return [
                make_finding(
                    "CA107",
                    subject=subject,
                    message=(
                        f"SSO client registration for {session} expires in {_fmt(reg_left)}: "
                        f"after that the token cannot be refreshed; the run needs {_fmt(need)}"
                    ),
                    **common,  # type: ignore[arg-type]
                )
            ]
    return []


def _web_identity(
    ctx: ScanContext, subject: str, obs: Observation, common: dict[str, object]
) -> list[Finding]:
    token_file = obs.details.get("web_identity_token_file")
    token = _evidence(ctx, "web-identity-token", "token_file", token_file)
    if token is None or token.expires_at is None:
        return []
    remaining = token.expires_at - ctx.now
    if remaining <= timedelta(0):
        return [
            make_finding(
                "CA108",
                subject=subject,
                severity=Severity.CRITICAL,
                message=(
                    f"web-identity token {token_file} expired {_fmt(-remaining)} ago: "
                    "AssumeRoleWithWebIdentity fails (ExpiredTokenException) until it is rewritten"
                ),
                **common,  # type: ignore[arg-type]
            )
        ]
    age_raw = token.details.get("age_seconds")
    lifetime_raw = token.details.get("lifetime_seconds")
    if isinstance(age_raw, int | float) and isinstance(lifetime_raw, int | float) and lifetime_raw > 0:
        age = timedelta(seconds=age_raw)
        limit = min(timedelta(seconds=lifetime_raw * KUBELET_FRACTION), KUBELET_MAX_AGE)
        if age > limit:
            return [
                make_finding(
                    "CA108",
                    subject=subject,
                    message=(
                        f"web-identity token {token_file} was written {_fmt(age)} ago; the kubelet "
                        f"rewrites it by {_fmt(limit)} (80 % of its life or 24 h): the refresh "
                        f"path is broken and the token dies in {_fmt(remaining)}"
                    ),
                    **common,  # type: ignore[arg-type]
                )
            ]
    return []
