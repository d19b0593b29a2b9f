"""CA501–CA505: what the metadata and container endpoints' probes found.

The sources only report what happened on the wire (``details["probe"]``, ``failure``);
whether that matters depends on the chain: an unreachable IMDS is noise on a laptop whose
credentials come from SSO, and the whole story on an instance where nothing else is
configured.  So CA501 fires only when some profile's chain falls through to ``iam-role``
(or fails with no credentials), or a role profile sources its credentials from the instance.
"""

from __future__ import annotations

from datetime import timedelta

from credaudit.analysis.budget import ADVISORY_REFRESH
from credaudit.analysis.context import ScanContext
from credaudit.analysis.rules import make_finding
from credaudit.durations import format_duration
from credaudit.model import Finding, Location, Observation, Severity

# How old LastUpdated may be before the host's rotation looks stuck.  EC2 rotates instance
# role credentials well before they expire (they live about 6 h, reference "Unconfirmed");
# a document last updated longer ago than that has not been rotated on schedule.
STALE_LAST_UPDATED = timedelta(hours=6)

_STALE_EXPLAINED = (
    "botocore does not reject these: when served credentials are expired or about to be, "
    "InstanceMetadataFetcher._evaluate_expiration rewrites their expiry to 17-25 minutes "
    "from now and keeps using them, so the failure shows up as ExpiredToken from AWS, not "
    "as an SDK error"
)


def _location(obs: Observation) -> Location | None:
    return obs.location or (Location(url=obs.origin) if "://" in obs.origin else None)


def imds_expected(ctx: ScanContext) -> bool:
    """Is the instance role the source some profile really depends on?"""
    for entry in ctx.chain:
        if entry.resolved is not None and entry.resolved.source == "iam-role":
            return True
        if entry.resolved is None and "ec2instancemetadata" in (entry.error or "").lower():
            return True
        if entry.resolved is None and entry.error is None:
            return True
    for obs in ctx.observations:
        if str(obs.details.get("credential_source", "")).lower() == "ec2instancemetadata":
            return True
    if not ctx.chain:
        # No chain (a source-only evaluation): expected when nothing else holds credentials.
        return not any(
            o.access_key_id or o.refreshable
            for o in ctx.observations
            if o.source not in ("iam-role", "container-role")
        )
    return False


def _imds(ctx: ScanContext, obs: Observation, expected: bool) -> list[Finding]:
    details = obs.details
    probe, failure = details.get("probe"), details.get("failure")
    detail = str(details.get("probe_detail") or "")
    endpoint = str(details.get("endpoint") or obs.origin)
    loc = _location(obs)
    findings: list[Finding] = []
    if probe == "failed" and failure == "hop-limit":
        findings.append(
            make_finding(
                "CA502",
                severity=Severity.HIGH if expected else Severity.MEDIUM,
                subject=endpoint,
                message=(
                    f"IMDS at {endpoint}: the IMDSv2 token request (PUT /latest/api/token) got "
                    "no answer while a plain GET was answered 401. The instance requires "
                    "IMDSv2 and its response hop limit (HttpPutResponseHopLimit) is 1, so "
                    "the token's answer dies before reaching this container; botocore falls "
                    "back to IMDSv1, is refused, and finds no credentials."
                ),
                location=loc,
            )
        )
    elif probe == "failed" and expected and failure not in ("no-role", None):
        what = (
            "does not answer within the probe deadline"
            if failure == "unreachable"
            else f"answers but yields no credentials ({failure})"
        )
        findings.append(
            make_finding(
                "CA501",
                subject=endpoint,
                message=(
                    f"The instance metadata service at {endpoint} {what}: {detail}. It is the "
                    "source this host's credential chain falls through to, so botocore will "
                    "find no credentials (NoCredentialsError) after waiting for its timeout."
                ),
                location=loc,
            )
        )
    if probe == "ran" and obs.expires_at is not None:
        findings.extend(_stale(ctx, obs, endpoint, loc))
    if probe == "ran" and details.get("token_timeout"):
        findings.append(
            make_finding(
                "CA502",
                severity=Severity.LOW,
                subject=endpoint,
                message=(
                    f"IMDS at {endpoint}: the IMDSv2 token request timed out and credentials "
                    "came over IMDSv1. This works only while the instance still allows v1; "
                    "once IMDSv2 is required, a hop limit of 1 leaves this container without "
                    "credentials."
                ),
                location=loc,
            )
        )
    return findings


def _stale(
    ctx: ScanContext, obs: Observation, endpoint: str, loc: Location | None
) -> list[Finding]:
    assert obs.expires_at is not None
    remaining = obs.expires_at - ctx.now
    role = obs.details.get("role_name") or "the instance role"
    if remaining <= timedelta(0):
        severity, state = Severity.CRITICAL, f"expired {format_duration(-remaining)} ago"
    elif remaining <= ADVISORY_REFRESH:
        severity = Severity.HIGH
        state = (
            f"expire in {format_duration(remaining)}, inside botocore's "
            f"{format_duration(ADVISORY_REFRESH)} refresh window"
        )
    elif obs.issued_at is not None and ctx.now - obs.issued_at > STALE_LAST_UPDATED:
        severity = Severity.MEDIUM
        state = (
            f"were last updated {format_duration(ctx.now - obs.issued_at)} ago "
            f"(LastUpdated), longer than the {format_duration(STALE_LAST_UPDATED)} "
            "rotation the host should keep"
        )
    else:
        return []
    return [
        make_finding(
            "CA503",
            severity=severity,
            subject=f"{endpoint} ({role})",
            message=(
                f"The credentials IMDS serves for {role} {state}: the host's credential "
                f"rotation is broken. {_STALE_EXPLAINED}."
            ),
            location=loc,
        )
    ]


def _container(obs: Observation) -> list[Finding]:
    details = obs.details
    failure = details.get("failure")
    detail = str(details.get("probe_detail") or "")
    endpoint = str(details.get("endpoint") or obs.origin)
    loc = _location(obs)
    if failure == "uri-rejected":
        return [
            make_finding(
                "CA505",
                subject=endpoint,
                message=(
                    f"AWS_CONTAINER_CREDENTIALS_FULL_URI={endpoint} names a host botocore "
                    "refuses (not https, not a loopback address, not 169.254.170.2, "
                    "169.254.170.23, fd00:ec2::23 or localhost): ContainerMetadataFetcher "
                    "raises ValueError and the credential chain fails."
                ),
                location=loc,
            )
        ]
    if details.get("probe") == "failed":
        return [
            make_finding(
                "CA504",
                subject=endpoint,
                message=(
                    f"The container credential endpoint {endpoint} fails ({failure}): {detail}. "
                    "botocore's container-role provider raises instead of falling through, so "
                    "no later source is tried."
                ),
                location=loc,
            )
        ]
    return []


def evaluate(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    expected: bool | None = None
    for obs in ctx.observations:
        if obs.source == "iam-role":
            if expected is None:
                expected = imds_expected(ctx)
            findings.extend(_imds(ctx, obs, expected))
        elif obs.source == "container-role":
            findings.extend(_container(obs))
    return findings
