"""The terminal view of ``credaudit incident``: the timeline first (what a responder reads
during the outage), then the verdict with its fix and the wrong fix, then the findings."""

from __future__ import annotations

from tabulate import tabulate

from credaudit.incident.model import IncidentReport
from credaudit.model import format_instant
from credaudit.report.table import render_findings

MAX_TIMELINE = 60


def render(report: IncidentReport, color: bool = False) -> str:
    s = report.summary
    records = ", ".join(f"{n} {kind}" for kind, n in s.records.items()) or "no records"
    out = [
        f"credaudit incident — {s.files} file(s), {records}; {s.sessions} session(s), "
        f"{s.failures} failure(s)\n\n"
    ]
    entries = report.timeline
    if entries:
        shown = entries[:MAX_TIMELINE]
        rows = [[format_instant(e.at), e.kind, e.session or "-", e.detail] for e in shown]
        out.append(
            tabulate(
                rows,
                headers=["at", "event", "session", "what"],
                tablefmt="simple",
                maxcolwidths=[None, None, None, 80],
            )
            + "\n"
        )
        if len(entries) > MAX_TIMELINE:
            out.append(f"… {len(entries) - MAX_TIMELINE} more timeline entries (--format json)\n")
    else:
        out.append("No credential failures in these logs.\n")
    v = report.verdict
    out.append(f"\nverdict: {v.kind} — {v.summary}\n")
    if v.fix:
        out.append(f"  fix: {v.fix}\n")
    if v.wrong_fix:
        out.append(f"  wrong fix: {v.wrong_fix}\n")
    out.append("\n")
    out.append(render_findings(report.findings, color))
    counts = ", ".join(f"{n} {sev}" for sev, n in s.by_severity.items() if n)
    listed = f": {counts}" if counts else ""
    out.append(
        f"\n{s.findings} finding(s){listed}; fail-on {s.fail_on.value}: "
        f"{'FAIL' if s.failed else 'ok'}\n"
    )
    return "".join(out)
