"""CA403 (nothing resolves), CA401 (a stale source hides the configured one), CA404 (IAM user
keys in use): what the provider chain itself tells."""

from __future__ import annotations

from credaudit.analysis.context import ScanContext
from credaudit.analysis.rules import make_finding
from credaudit.model import Finding, KeyKind, Location

STATIC_METHODS = {
    "env",
    "shared-credentials-file",
    "config-file",
    "ec2-credentials-file",
    "boto-config",
}


def evaluate(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    for entry in ctx.chain:
        if entry.resolved is None:
            reason = entry.error or "no provider in botocore's chain returns credentials"
            if not ctx.target.network and entry.error is None:
                reason += " (the metadata and container endpoints were not probed: --no-network)"
            findings.append(
                make_finding(
                    "CA403",
                    subject=f"profile {entry.profile}",
                    message=f"no credentials for profile {entry.profile}: {reason}",
                    profile=entry.profile,
                )
            )
            continue
        winner = ctx.winners.get(entry.profile)
        if winner is None:
            continue
        hidden = [s for s in entry.shadowed if s.source not in STATIC_METHODS]
        if winner.source in STATIC_METHODS and hidden:
            names = ", ".join(f"{s.source} ({s.origin})" for s in hidden)
            fix = (
                "unset AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
                if winner.source == "env"
                else f"remove the static keys from {winner.origin}"
            )
            findings.append(
                make_finding(
                    "CA401",
                    subject=f"profile {entry.profile}",
                    message=(
                        f"{winner.source} credentials from {winner.origin} win over the "
                        f"refreshable {names}; botocore never reaches the configured source"
                    ),
                    remediation=f"{fix} so the refreshable source is used.",
                    profile=entry.profile,
                    location=winner.location,
                )
            )
        if winner.key_kind is KeyKind.LONG_TERM:
            findings.append(
                make_finding(
                    "CA404",
                    subject=f"profile {entry.profile}",
                    message=(
                        f"{winner.source} from {winner.origin} uses a long-term IAM user key "
                        f"({winner.access_key_masked}) that never expires and never rotates itself"
                    ),
                    profile=entry.profile,
                    location=winner.location or Location(),
                )
            )
    return findings
