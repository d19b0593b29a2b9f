"""``credaudit fleet`` as a table (terminal) or markdown (a PR comment, a wiki page): the
findings, the hosts, and the histogram of expiries over time as text bars per host group."""

from __future__ import annotations

from tabulate import tabulate

from credaudit.durations import format_duration
from credaudit.fleet.histogram import Histogram, histogram
from credaudit.fleet.model import FleetReport
from credaudit.model import format_instant

BAR_WIDTH = 40
BLOCK = "█"


def _bars(hist: Histogram) -> list[str]:
    """One line per bucket: its start, a bar per group (a letter each), the count."""
    if not hist.buckets:
        return ["(no future expiries)"]
    letters = {group: chr(ord("A") + i % 26) for i, group in enumerate(hist.groups)}
    scale = max(1.0, hist.peak / BAR_WIDTH)
    lines = [
        f"expiries and refreshes per {format_duration(hist.width)} (UTC), by host group: "
        + ", ".join(f"{letters[g]}={g}" for g in hist.groups)
        + f"; one block = {scale:g} event{'s' if scale != 1 else ''}"
    ]
    for bucket in hist.buckets:
        bar = ""
        for group in hist.groups:
            count = bucket.counts.get(group, 0)
            if count:
                size = max(1, round(count / scale))
                bar += (letters[group] if len(hist.groups) > 1 else BLOCK) * size
        stamp = bucket.start.strftime("%Y-%m-%d %H:%M")
        lines.append(f"{stamp}  {bar:<{BAR_WIDTH}} {bucket.total or ''}".rstrip())
    return lines


def _host_rows(report: FleetReport) -> list[list[str]]:
    rows = []
    for host in report.hosts:
        expiries = sorted(c.expires_at for c in host.credentials)
        upcoming = [e for e in expiries if e >= report.evaluated_at]
        clock = (
            f"{host.clock_offset_seconds:+.1f} s" if host.clock_offset_seconds is not None else ""
        )
        rows.append(
            [
                host.host,
                format_instant(host.reported_at),
                str(len(host.credentials)),
                format_instant(upcoming[0]) if upcoming else "",
                clock,
            ]
        )
    return rows


HEADERS = ["host", "reported", "expiring credentials", "next expiry", "clock offset"]


def _findings(report: FleetReport, markdown: bool) -> list[str]:
    if not report.findings:
        return ["No findings."]
    out = []
    for f in report.findings:
        head = f"{f.severity.value.upper()} {f.code} {f.title}"
        out.append(f"- **{head}**: {f.message}" if markdown else f"{head}\n  {f.message}")
        out.append(f"  Fix: {f.remediation}")
    return out


def _summary(report: FleetReport) -> str:
    window = format_duration(report.window_seconds)
    when = format_instant(report.evaluated_at)
    return (
        f"{len(report.hosts)} hosts, {len(report.events)} future expiry events; clusters: "
        f"≥ {report.min_hosts} hosts within {window}; evaluated {when}"
    )


def render(report: FleetReport) -> str:
    lines = [_summary(report), ""]
    lines += _findings(report, markdown=False)
    lines += ["", tabulate(_host_rows(report), headers=HEADERS, tablefmt="simple"), ""]
    lines += _bars(histogram(report.events))
    return "\n".join(lines) + "\n"


def render_markdown(report: FleetReport) -> str:
    lines = ["## credaudit fleet", "", _summary(report), "", "### Findings", ""]
    lines += _findings(report, markdown=True)
    lines += ["", "### Hosts", "", tabulate(_host_rows(report), headers=HEADERS, tablefmt="github")]
    lines += ["", "### Expiries over time", "", "```text", *_bars(histogram(report.events)), "```"]
    return "\n".join(lines) + "\n"
