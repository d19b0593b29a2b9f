"""CA601: the local clock's measured offset against the skew the work can tolerate.

botocore signs and judges expiry with the local clock and never corrects it (reference §7),
so the offset alone decides when requests start failing: past 5 minutes most SigV4 requests
are refused, past 15 minutes every one is (and S3 header-signed requests too).  Only the
part of the offset that is certain — |offset| minus the measurement's uncertainty — counts.
"""

from __future__ import annotations

from datetime import timedelta

from credaudit.analysis.context import ScanContext
from credaudit.analysis.rules import make_finding
from credaudit.durations import format_duration
from credaudit.model import Finding, Severity

SIGV4_WINDOW = timedelta(minutes=5)
HARD_WINDOW = timedelta(minutes=15)
NOTICEABLE = timedelta(minutes=1)


def severity_for(certain: timedelta, margin: timedelta) -> Severity | None:
    """The CA601 severity for a skew known to be at least ``certain``; None within margin."""
    if certain <= margin:
        return None
    if certain >= HARD_WINDOW:
        return Severity.CRITICAL
    if certain >= SIGV4_WINDOW:
        return Severity.HIGH
    if certain >= NOTICEABLE:
        return Severity.MEDIUM
    return Severity.LOW


_CONSEQUENCE = {
    Severity.CRITICAL: "every SigV4 request fails now (RequestExpired / RequestTimeTooSkewed, "
    "S3 header-signed requests included) and presigned URLs are born expired or future-dated",
    Severity.HIGH: "SigV4 requests fail now: AWS refuses signatures more than 5 minutes off "
    "(RequestExpired, 'Signature expired'); S3 header-signed requests fail at 15 minutes",
    Severity.MEDIUM: "requests still pass, but the offset eats the margin of every expiry "
    "check and signed request; it fails at 5 minutes",
    Severity.LOW: "harmless for signing today, but beyond the skew margin the budget allows",
}


def clock_finding(
    offset: timedelta, uncertainty: timedelta, margin: timedelta, reference: str
) -> Finding | None:
    """The CA601 finding for a measurement, or None when it is within the margin."""
    certain = max(timedelta(0), abs(offset) - uncertainty)
    severity = severity_for(certain, margin)
    if severity is None:
        return None
    direction = "ahead of" if offset > timedelta(0) else "behind"
    seconds = offset.total_seconds()
    return make_finding(
        "CA601",
        severity=severity,
        subject="local clock",
        message=(
            f"The local clock is {format_duration(abs(offset))} {direction} {reference} "
            f"(offset {seconds:+.1f} s ± {uncertainty.total_seconds():.1f} s; skew margin "
            f"{format_duration(margin)}): {_CONSEQUENCE[severity]}. botocore does not "
            "correct clock skew."
        ),
    )


def evaluate(ctx: ScanContext) -> list[Finding]:
    if ctx.clock_offset is None:
        return []
    # ctx.budget already has the measured skew added to its margin (Budget.with_skew); the
    # margin the user tolerates is what remains after taking it back out.
    margin = max(timedelta(0), ctx.budget.skew_margin - abs(ctx.clock_offset))
    finding = clock_finding(
        ctx.clock_offset,
        ctx.clock_uncertainty or timedelta(0),
        margin,
        "the reference clock",
    )
    return [finding] if finding is not None else []
