"""CA702 (a source could not be read) and CA701 (a credential file others can read).

Every Problem a source attached becomes a finding here, so sources never decide severity.
"""

from __future__ import annotations

from credaudit.analysis.context import ScanContext
from credaudit.analysis.rules import make_finding
from credaudit.model import Finding, Location

# Sources whose file holds a secret or a bearer token, so group/other access matters.
SECRET_FILES = {
    "cli-cache",
    "sso-token",
    "sso-registration",
    "login-token",
    "credentials-file",
    "web-identity-token",
    "shared-credentials-file",
    "ec2-credentials-file",
    "boto-config",
}
GROUP_OTHER = 0o077


def evaluate(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    seen_problems: set[tuple[str, str]] = set()
    seen_paths: set[str] = set()
    for obs in ctx.observations:
        for problem in obs.problems:
            if (problem.code, problem.message) in seen_problems:
                continue
            seen_problems.add((problem.code, problem.message))
            findings.append(
                make_finding(
                    problem.code,
                    subject=obs.origin,
                    message=problem.message,
                    profile=obs.profile,
                    location=obs.location,
                )
            )
        holds_secret = obs.source in SECRET_FILES or bool(obs.details.get("holds_secrets"))
        path = obs.location.path if obs.location else None
        if (
            holds_secret
            and path
            and obs.file_mode is not None
            and obs.file_mode & GROUP_OTHER
            and path not in seen_paths
        ):
            seen_paths.add(path)
            findings.append(
                make_finding(
                    "CA701",
                    subject=path,
                    message=(
                        f"{path} has mode {obs.file_mode:04o}: group or others can read or write "
                        "a file that holds credentials or a bearer token"
                    ),
                    remediation=f"chmod 600 {path}",
                    location=Location(path=path),
                )
            )
    return findings
