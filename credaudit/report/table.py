"""The human table for ``scan``: credentials with a life bar, then the findings.

The bar compares remaining life with what the budget needs (run time + dispatch + skew, or
the minimum remaining when no budget is given): full and green means it will last.
"""

from __future__ import annotations

from datetime import datetime

from tabulate import tabulate

from credaudit.durations import format_duration
from credaudit.model import CredentialView, Finding, ScanReport, Severity

BAR_WIDTH = 12
_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def life_bar(remaining: int | None, need: int, refreshable: bool, color: bool) -> str:
    if remaining is None:
        return "refreshes" if refreshable else "no expiry known"
    if remaining <= 0:
        return _paint("[" + "!" * BAR_WIDTH + "] expired", "\033[1;31m", color)
    need = max(need, 1)
    filled = min(BAR_WIDTH, round(BAR_WIDTH * remaining / need))
    ok = remaining >= need
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    label = f"[{bar}] {'covers' if ok else 'short of'} {format_duration(need)}"
    return _paint(label, "\033[32m" if ok else "\033[31m", color)


def _expiry(expires_at: datetime | None, remaining: int | None) -> str:
    if expires_at is None or remaining is None:
        return "-"
    when = expires_at.strftime("%Y-%m-%d %H:%M:%SZ")
    rel = (
        f"in {format_duration(remaining)}"
        if remaining > 0
        else f"{format_duration(-remaining)} ago"
    )
    return f"{when} ({rel})"


def _credential_rows(creds: list[CredentialView], need: int, color: bool) -> list[list[str]]:
    return [
        [
            c.profile or "-",
            c.source,
            c.access_key_id or "-",
            _expiry(c.expires_at, c.remaining_seconds),
            "yes" if c.refreshable else "no",
            life_bar(c.remaining_seconds, need, c.refreshable, color),
        ]
        for c in creds
    ]


def render_findings(findings: list[Finding], color: bool) -> str:
    if not findings:
        return "No findings.\n"
    rows = [
        [
            f.code,
            _paint(f.severity.value, _COLORS[f.severity], color),
            f.subject,
            f.message,
            f.remediation,
        ]
        for f in findings
    ]
    return (
        tabulate(
            rows,
            headers=["code", "severity", "subject", "message", "fix"],
            tablefmt="simple",
            maxcolwidths=[None, None, 28, 60, 48],
        )
        + "\n"
    )


def render(report: ScanReport, color: bool = False) -> str:
    need = report.budget.required_seconds()
    out = [f"credaudit scan — evaluated at {report.evaluated_at.strftime('%Y-%m-%d %H:%M:%SZ')}\n"]
    if "environment" in report.target:
        out.append(f"environment: {report.target['environment']}; home: {report.target['home']}\n")
    if report.credentials:
        out.append(
            tabulate(
                _credential_rows(report.credentials, need, color),
                headers=["profile", "source", "key", "expires", "refreshable", "life vs budget"],
                tablefmt="simple",
            )
            + "\n"
        )
    else:
        out.append("No credentials found.\n")
    for entry in report.chain:
        resolved = (
            entry.resolved.source if entry.resolved else f"none ({entry.error or 'no source'})"
        )
        shadow = ", ".join(s.source for s in entry.shadowed)
        out.append(
            f"chain [{entry.profile}]: {resolved}"
            + (f" (shadows {shadow})" if shadow else "")
            + "\n"
        )
    if report.probes:
        out.append(
            "probes: "
            + ", ".join(
                f"{p.name} {p.status}" + (f" ({p.detail})" if p.detail else "")
                for p in report.probes
            )
            + "\n"
        )
    out.append("\n")
    out.append(render_findings(report.findings, color))
    s = report.summary
    counts = ", ".join(f"{n} {sev}" for sev, n in s.by_severity.items() if n)
    verdict = "FAIL" if s.failed else "ok"
    listed = f": {counts}" if counts else ""
    out.append(f"\n{s.findings} finding(s){listed}; fail-on {s.fail_on.value}: {verdict}\n")
    return "".join(out)
