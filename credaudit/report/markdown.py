"""A pull-request comment: verdict first, one table row per finding, fixes folded away.

Reviewers read a PR comment in seconds, so the heading says pass or fail and how many
findings reach ``--fail-on``; the table is GitHub-flavoured Markdown with ``|`` escaped so a
message can never break a row.
"""

from __future__ import annotations

from credaudit.analysis.rules import RULES
from credaudit.report.ci import CiReport, fail_on, failing, title, where

_ICON = {"critical": "🛑", "high": "🔴", "medium": "🟠", "low": "🟡", "info": "🔵"}


def cell(text: str) -> str:
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def render(report: CiReport) -> str:
    threshold = fail_on(report)
    bad = failing(report)
    findings = report.findings
    if bad:
        verdict = f"❌ failed: {len(bad)} finding(s) at or above {threshold.value}"
    elif findings:
        verdict = f"✅ passed: {len(findings)} finding(s), none at or above {threshold.value}"
    else:
        verdict = "✅ passed: no findings"
    out = [f"### {title(report)}: {verdict}"]
    if findings:
        out += ["", "| Severity | Code | Subject | Finding | Where |", "|---|---|---|---|---|"]
        for f in findings:
            place = where(f)
            out.append(
                f"| {_ICON[f.severity.value]} {f.severity.value} | `{f.code}` | "
                f"{cell(f.subject)} | {cell(f.message)} | {cell(place) if place else ''} |"
            )
        out += ["", "<details><summary>How to fix</summary>", ""]
        for code in sorted({f.code for f in findings}):
            entry = RULES.get(code)
            fix = next(f.remediation for f in findings if f.code == code)
            name = f" ({entry.name})" if entry else ""
            out.append(f"- **{code}**{name}: {cell(fix)}")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
