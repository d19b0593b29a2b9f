"""One self-contained HTML page for the postmortem: an SVG timeline (each session's lifetime as
a bar, failures and retries as marks, expiry boundaries as lines), the verdict, the findings.

Nothing is fetched: styles are inline, the SVG is drawn here from the report, and every drawn
element carries the instant it stands for (``data-at``, ``data-start``, ``data-end``) so that a
browser test can check that it sits where the data says.  Text is escaped; no secret is in the
report, so none can be in the page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from credaudit.incident.model import IncidentReport, SessionView
from credaudit.model import format_instant

LEFT, WIDTH, ROW, TOP = 200, 900, 34, 40
MAX_ROWS = 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEVERITY_COLOUR = {
    "critical": "#7f0000",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#f9a825",
    "info": "#607d8b",
}


def _shown(report: IncidentReport) -> list[SessionView]:
    """The sessions the timeline talks about (or all, when nothing failed), capped."""
    named = {e.session for e in report.timeline} | {u.session for u in report.uses}
    sessions = [s for s in report.sessions if s.id in named] or report.sessions
    return sessions[:MAX_ROWS]


def _span(report: IncidentReport, sessions: list[SessionView]) -> tuple[datetime, datetime]:
    instants: list[datetime] = [e.at for e in report.timeline] + [u.at for u in report.uses]
    for s in sessions:
        instants += [t for t in (s.minted_at, s.expires_at, s.first_used_at, s.last_used_at) if t]
    if not instants:
        return _EPOCH, _EPOCH + timedelta(hours=1)
    start, end = min(instants), max(instants)
    pad = max((end - start) / 20, timedelta(minutes=1))
    return start - pad, end + pad


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.seconds = max((end - start).total_seconds(), 1.0)

    def x(self, at: datetime) -> float:
        return round(LEFT + WIDTH * (at - self.start).total_seconds() / self.seconds, 2)


def _axis(scale: _Scale, start: datetime, end: datetime, height: int) -> list[str]:
    out = []
    ticks = 6
    for i in range(ticks + 1):
        at = start + (end - start) * i / ticks
        x = scale.x(at)
        out.append(
            f'<line class="tick" x1="{x}" y1="{TOP - 10}" x2="{x}" y2="{height - 20}" />'
            f'<text class="tick-label" x="{x}" y="{TOP - 16}" text-anchor="middle">'
            f"{at:%H:%M:%S}</text>"
        )
    return out


def svg(report: IncidentReport) -> str:
    sessions = _shown(report)
    start, end = _span(report, sessions)
    scale = _Scale(start, end)
    rows = {s.id: i for i, s in enumerate(sessions)}
    height = TOP + ROW * max(len(sessions), 1) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="{LEFT + WIDTH + 40}" '
        f'height="{height}" data-start="{format_instant(start)}" '
        f'data-seconds="{scale.seconds}" data-left="{LEFT}" data-width="{WIDTH}">',
        *_axis(scale, start, end, height),
    ]
    for s in sessions:
        y = TOP + ROW * rows[s.id]
        label = f"{s.id} {s.access_key_id or ''} {s.principal.rsplit('/', 1)[-1]}"
        parts.append(f'<text class="label" x="8" y="{y + 17}">{escape(label[:30])}</text>')
        bar_start = s.minted_at or s.first_used_at
        bar_end = s.expires_at or s.last_used_at
        if bar_start is not None and bar_end is not None:
            x0, x1 = scale.x(bar_start), scale.x(bar_end)
            parts.append(
                f'<rect class="session" data-session="{s.id}" '
                f'data-start="{format_instant(bar_start)}" data-end="{format_instant(bar_end)}" '
                f'x="{x0}" y="{y + 4}" width="{max(x1 - x0, 1)}" height="{ROW - 12}" rx="3">'
                f"<title>{escape(s.id)}: {format_instant(bar_start)} → "
                f"{format_instant(bar_end)}</title></rect>"
            )
        if s.expires_at is not None:
            x = scale.x(s.expires_at)
            parts.append(
                f'<line class="expiry" data-session="{s.id}" '
                f'data-at="{format_instant(s.expires_at)}" x1="{x}" y1="{y}" x2="{x}" '
                f'y2="{y + ROW}" />'
            )
    for use in report.uses:
        if not use.error or use.session not in rows:
            continue
        y = TOP + ROW * rows[use.session] + ROW // 2 - 2
        x = scale.x(use.at)
        kind = "retry" if use.retry else "failure"
        title = escape(f"{format_instant(use.at)} {use.error} {use.operation or ''}")
        if kind == "retry":
            shape = (
                f'<path class="retry" data-session="{use.session}" data-at="'
                f'{format_instant(use.at)}" d="M{x - 5},{y - 5} L{x + 5},{y + 5} M{x - 5},'
                f'{y + 5} L{x + 5},{y - 5}"><title>{title}</title></path>'
            )
        else:
            shape = (
                f'<circle class="failure" data-session="{use.session}" data-at="'
                f'{format_instant(use.at)}" cx="{x}" cy="{y}" r="5"><title>{title}</title>'
                "</circle>"
            )
        parts.append(shape)
    for entry in report.timeline:
        if entry.kind == "refresh-restored" and entry.session in rows:
            x = scale.x(entry.at)
            y = TOP + ROW * rows[entry.session]
            parts.append(
                f'<path class="restored" data-session="{entry.session}" '
                f'data-at="{format_instant(entry.at)}" d="M{x},{y + 2} l6,6 l-6,6 l-6,-6 z" />'
            )
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212121}
h1{font-size:20px} .verdict{padding:12px 16px;border-left:6px solid #c62828;background:#fff3f0}
.verdict.none{border-color:#2e7d32;background:#f1f8e9}
svg text{font:12px system-ui,sans-serif;fill:#424242} .tick{stroke:#e0e0e0}
.session{fill:#90caf9;stroke:#1565c0} .expiry{stroke:#c62828;stroke-width:2;stroke-dasharray:4 2}
.failure{fill:#c62828} .retry{stroke:#6a1b9a;stroke-width:2.5;fill:none}
.restored{fill:#2e7d32}
table{border-collapse:collapse;margin-top:16px} td,th{border:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left} code{font-size:13px}
"""


def render(report: IncidentReport) -> str:
    v = report.verdict
    rows = []
    for f in report.findings:
        numbers = ", ".join(f"{k}={val}" for k, val in f.details.items() if val is not None)
        colour = _SEVERITY_COLOUR[f.severity.value]
        rows.append(
            f'<tr class="finding" data-code="{f.code}"><td><code>{f.code}</code></td>'
            f'<td style="color:{colour}">{f.severity.value}</td><td>{escape(f.subject)}</td>'
            f"<td>{escape(f.message)}</td><td>{escape(numbers)}</td></tr>"
        )
    timeline = "".join(
        f'<tr class="entry" data-kind="{e.kind}"><td>{format_instant(e.at)}</td>'
        f"<td>{e.kind}</td><td>{escape(e.session or '')}</td><td>{escape(e.detail)}</td></tr>"
        for e in report.timeline
    )
    advice = ""
    if v.fix:
        advice += f"<p><b>Fix:</b> {escape(v.fix)}</p>"
    if v.wrong_fix:
        advice += f"<p><b>Not this:</b> {escape(v.wrong_fix)}</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>credaudit incident</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Incident: credential timeline</h1>"
        f'<div class="verdict {escape(v.kind)}" id="verdict" data-kind="{escape(v.kind)}">'
        f"<b>Verdict: {escape(v.kind)}</b> — {escape(v.summary)}{advice}</div>"
        f"<h2>Timeline</h2>{svg(report)}"
        "<p>Bars: session lifetimes (minted → expiry). Dashed red: expiry. Dots: failures; "
        "crosses: re-sends of a failed request; green diamond: refresh restored.</p>"
        "<table><tr><th>at (UTC)</th><th>event</th><th>session</th><th>what</th></tr>"
        f"{timeline}</table>"
        "<h2>Findings</h2><table><tr><th>code</th><th>severity</th><th>subject</th>"
        f"<th>finding</th><th>numbers</th></tr>{''.join(rows)}</table>"
        "</body></html>\n"
    )
