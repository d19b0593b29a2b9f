"""A postmortem section: verdict, timeline, findings with the numbers they rest on, and the
fix beside the wrong fix, ready to paste into the incident document."""

from __future__ import annotations

from credaudit.incident.model import IncidentReport
from credaudit.model import format_instant
from credaudit.report.markdown import cell


def render(report: IncidentReport) -> str:
    v = report.verdict
    s = report.summary
    out = [
        "## Incident: credential timeline",
        "",
        f"**Verdict: {v.kind}** — {cell(v.summary)}",
        "",
        f"{s.files} file(s), {s.sessions} session(s), {s.failures} failure(s) analysed"
        f" by credaudit ({report.engine} engine).",
        "",
    ]
    if report.timeline:
        out += ["### Timeline", "", "| at (UTC) | event | session | what |", "|---|---|---|---|"]
        for e in report.timeline:
            out.append(
                f"| {format_instant(e.at)} | {e.kind} | {e.session or ''} | {cell(e.detail)} |"
            )
        out.append("")
    if report.findings:
        out += [
            "### Findings",
            "",
            "| code | severity | subject | finding | numbers |",
            "|---|---|---|---|---|",
        ]
        for f in report.findings:
            numbers = ", ".join(f"{k}={val}" for k, val in f.details.items() if val is not None)
            out.append(
                f"| `{f.code}` | {f.severity.value} | {cell(f.subject)} | {cell(f.message)} | "
                f"{cell(numbers)} |"
            )
        out.append("")
    if v.fix or v.wrong_fix:
        out += ["### What to do", ""]
        if v.fix:
            out.append(f"- **Fix:** {cell(v.fix)}")
        if v.wrong_fix:
            out.append(f"- **Not this:** {cell(v.wrong_fix)}")
        out.append("")
    return "\n".join(out)
