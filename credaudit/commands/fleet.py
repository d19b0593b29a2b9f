"""``credaudit fleet``: many hosts seen together, from their JSON reports or a Prometheus
server.  Wires options to ``credaudit.fleet``; unreadable reports are one line each on stderr
and the rest are analysed (exit 2 at the end: the fleet was not fully read)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from credaudit.clock import Clock
from credaudit.commands.options import DURATION, exit_code, output_options
from credaudit.durations import DurationError, parse_at
from credaudit.errors import InputError
from credaudit.model import Severity

FLEET_FORMATS = ["table", "json", "markdown", "html"]


@click.command()
@click.argument("reports", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--prometheus",
    metavar="URL",
    help="Ask this Prometheus server's HTTP API for the hosts' series instead of reading reports.",
)
@click.option(
    "--host-from-report",
    is_flag=True,
    help="Name each host by the host its report records, not by the file's stem.",
)
@click.option(
    "--host-label",
    default="host",
    show_default=True,
    help="With --prometheus: the target label naming a host (instance when a series lacks it).",
)
@click.option(
    "--min-hosts",
    type=click.IntRange(min=2),
    default=3,
    show_default=True,
    help="Hosts whose credentials expire together that make a cluster (CA951).",
)
@click.option(
    "--window",
    type=DURATION,
    default="2m",
    show_default=True,
    help="How close together expiries count as one instant (CA951).",
)
@click.option(
    "--skew-margin",
    type=DURATION,
    default="0s",
    show_default=True,
    help="Clock offset tolerated beyond the measurement's uncertainty (CA952).",
)
@click.option(
    "--silent-after",
    type=DURATION,
    default="2h",
    show_default=True,
    help="A host whose latest report is older than this is silent (CA953).",
)
@click.option(
    "--at", "at", metavar="INSTANT|+DURATION", help="Evaluate at this instant instead of now."
)
@output_options(FLEET_FORMATS)
def fleet(
    *,
    reports: tuple[Path, ...],
    prometheus: str | None,
    host_from_report: bool,
    host_label: str,
    min_hosts: int,
    window: timedelta,
    skew_margin: timedelta,
    silent_after: timedelta,
    at: str | None,
    fmt: str,
    fail_on: str,
    soft_fail: bool,
) -> int:
    """Many hosts' reports seen together: expiry clusters, clock skew, silent hosts.

    Each REPORT is a `scan --format json` file (one host, named by its stem) or a directory of
    them. With --prometheus the same series come from a Prometheus server instead.

    \b
    Examples:
      credaudit fleet reports/
      credaudit fleet --host-from-report --window 5m --min-hosts 5 s3-sync/*.json
      credaudit fleet --prometheus http://prometheus:9090 --format html > fleet.html
    """
    from credaudit.fleet.analysis import analyse

    now = Clock.system().now()
    if at:
        try:
            now = parse_at(at, now)
        except DurationError as exc:
            raise InputError(f"--at: {exc}") from None
    if bool(reports) == bool(prometheus):
        raise InputError("give report files or directories, or --prometheus URL (one of them)")
    problems: list[Any] = []
    if prometheus:
        from credaudit.fleet.promapi import PrometheusError, hosts_from_prometheus

        try:
            hosts = hosts_from_prometheus(prometheus, at=now, host_label=host_label)
        except PrometheusError as exc:
            raise InputError(str(exc)) from None
        inputs = [prometheus]
    else:
        from credaudit.fleet.hosts import read_reports

        hosts, problems = read_reports(reports, host_from_report=host_from_report)
        inputs = [str(p) for p in reports]
    for problem in problems:
        click.echo(f"credaudit: {problem.line()}", err=True)
    if not hosts and problems:
        raise InputError("no readable report among the inputs")
    report = analyse(
        hosts,
        now=now,
        window=window,
        min_hosts=min_hosts,
        skew_margin=skew_margin,
        silent_after=silent_after,
        fail_on=Severity(fail_on),
        inputs=inputs,
    )
    click.echo(_render(report, fmt), nl=False)
    return 2 if problems else exit_code(report.findings, fail_on, soft_fail)


def _render(report: Any, fmt: str) -> str:
    if fmt == "json":
        from credaudit.report import json as json_report

        return json_report.render(report)
    if fmt == "html":
        from credaudit.report import fleet_html

        return fleet_html.render(report)
    from credaudit.report import fleet_text

    return fleet_text.render_markdown(report) if fmt == "markdown" else fleet_text.render(report)
