"""``credaudit fleet --format html``: one self-contained page (inline CSS and SVG, no script,
nothing fetched) with the findings, the hosts and the expiries over time as stacked bars per
host group.  Every text from the input is escaped: host names come from files and servers."""

from __future__ import annotations

from html import escape

from credaudit.durations import format_duration
from credaudit.fleet.histogram import Histogram, histogram
from credaudit.fleet.model import FleetReport
from credaudit.model import format_instant

COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"]
BAR, GAP, HEIGHT, LEFT, BOTTOM = 28, 6, 220, 48, 70


def svg(hist: Histogram) -> str:
    if not hist.buckets:
        return "<p>No future expiries.</p>"
    width = LEFT + len(hist.buckets) * (BAR + GAP) + 180
    peak = max(1, hist.peak)
    colour = {g: COLOURS[i % len(COLOURS)] for i, g in enumerate(hist.groups)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT + BOTTOM}" '
        f'role="img" aria-label="expiries per {escape(format_duration(hist.width))}">',
        f'<line x1="{LEFT}" y1="{HEIGHT}" x2="{width - 180}" y2="{HEIGHT}" stroke="#333"/>',
        f'<text x="{LEFT - 6}" y="12" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{HEIGHT}" text-anchor="end" font-size="11">0</text>',
    ]
    for index, bucket in enumerate(hist.buckets):
        x = LEFT + index * (BAR + GAP) + GAP
        y = float(HEIGHT)
        for group in hist.groups:
            count = bucket.counts.get(group, 0)
            if not count:
                continue
            h = count / peak * (HEIGHT - 16)
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{BAR}" height="{h:.1f}" '
                f'fill="{colour[group]}"><title>{escape(group)}: {count} at '
                f"{bucket.start.strftime('%Y-%m-%d %H:%M')} UTC</title></rect>"
            )
        if bucket.total:
            parts.append(
                f'<text x="{x + BAR / 2}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="11">{bucket.total}</text>'
            )
        label = bucket.start.strftime("%H:%M")
        parts.append(
            f'<text x="{x + BAR / 2}" y="{HEIGHT + 14}" text-anchor="end" font-size="10" '
            f'transform="rotate(-45 {x + BAR / 2} {HEIGHT + 14})">{label}</text>'
        )
    legend_x = width - 170
    for index, group in enumerate(hist.groups):
        y = 16 + index * 18
        parts.append(
            f'<rect x="{legend_x}" y="{y - 10}" width="12" height="12" fill="{colour[group]}"/>'
            f'<text x="{legend_x + 18}" y="{y}" font-size="12">{escape(group)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _offset(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:+.1f} s"


def render(report: FleetReport) -> str:
    hist = histogram(report.events)
    findings = "".join(
        f"<li><strong>{escape(f.severity.value.upper())} {escape(f.code)} "
        f"{escape(f.title)}</strong>: {escape(f.message)}<br><em>Fix:</em> "
        f"{escape(f.remediation)}</li>"
        for f in report.findings
    )
    rows = "".join(
        f"<tr><td>{escape(h.host)}</td><td>{escape(h.group)}</td>"
        f"<td>{format_instant(h.reported_at)}</td><td>{len(h.credentials)}</td>"
        f"<td>{_offset(h.clock_offset_seconds)}</td></tr>"
        for h in report.hosts
    )
    first = hist.buckets[0].start.strftime("%Y-%m-%d") if hist.buckets else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>credaudit fleet</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 2px 8px; }}
li {{ margin-bottom: .6em; }}
</style></head><body>
<h1>credaudit fleet</h1>
<p>{len(report.hosts)} hosts, {len(report.events)} future expiry events; clusters: at least
{report.min_hosts} hosts within {escape(format_duration(report.window_seconds))}; evaluated
{format_instant(report.evaluated_at)}.</p>
<h2>Findings</h2>
{f"<ul>{findings}</ul>" if findings else "<p>No findings.</p>"}
<h2>Expiries over time</h2>
<p>Expiries (static credentials) and refreshes (refreshable ones, 15 minutes before expiry)
per {escape(format_duration(hist.width))}, UTC, from {first}, by host group.</p>
{svg(hist)}
<h2>Hosts</h2>
<table><tr><th>host</th><th>group</th><th>reported</th><th>expiring credentials</th>
<th>clock offset</th></tr>{rows}</table>
</body></html>
"""
