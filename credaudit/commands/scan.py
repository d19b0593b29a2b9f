"""``credaudit scan`` and ``credaudit schema``."""

from __future__ import annotations

from typing import Any

import click

from credaudit.commands.options import (
    budget_options,
    build_budget,
    build_target,
    color_enabled,
    exit_code,
    output_options,
    target_options,
)
from credaudit.model import Severity

SCAN_FORMATS = ["table", "json", "sarif", "junit", "github", "markdown", "prometheus"]


def render_report(report: Any, fmt: str) -> str:
    """Pick the renderer for a format; the CI formats live in their own modules."""
    if fmt == "json":
        from credaudit.report import json as json_report

        return json_report.render(report)
    if fmt == "table":
        from credaudit.report import table

        return table.render(report, color=color_enabled())
    import importlib

    try:
        module = importlib.import_module(f"credaudit.report.{fmt}")
    except ModuleNotFoundError:
        raise click.UsageError(f"format {fmt} is not available in this build") from None
    text: str = module.render(report)
    return text


def scan_from_options(fail_on: str, **opts: Any) -> Any:
    """One scan as the options describe it, at the moment of the call (``serve`` calls it on
    every interval, so the Target, its clock and the clock check are built afresh each time)."""
    target = build_target(**opts)
    # Start the network probes before the heavier imports below, so their deadline overlaps
    # the scan's own work instead of following it.
    if target.network:
        from credaudit.sources.http_probe import start_network_probes

        start_network_probes(target)
    from credaudit.scan import run_scan

    budget = build_budget(**opts)
    offset = uncertainty = None
    if opts.get("clock_check"):
        from credaudit.commands.clock import measure_for_scan

        offset, uncertainty = measure_for_scan(target, opts.get("clock_reference"))
    return run_scan(
        target,
        budget,
        fail_on=Severity(fail_on),
        clock_offset=offset,
        clock_uncertainty=uncertainty,
    )


def clock_options(func: Any) -> Any:
    """--clock-check and --clock-reference, shared by scan and serve."""
    func = click.option(
        "--clock-reference", metavar="URL", help="HTTP server whose Date header is the reference."
    )(func)
    return click.option(
        "--clock-check",
        is_flag=True,
        help="Measure the clock offset (needs --online or --clock-reference) and add it to the "
        "margin.",
    )(func)


@click.command()
@target_options
@budget_options
@output_options(SCAN_FORMATS)
@clock_options
def scan(fmt: str, fail_on: str, soft_fail: bool, **opts: Any) -> int:
    """Audit a host's or a container's AWS credentials.

    Reads the environment, ~/.aws/config and credentials, the CLI and SSO caches, web-identity
    token files and (when allowed) the metadata and container endpoints; works out which
    source botocore would use per profile; holds each lifetime against the budget.

    \b
    Examples:
      credaudit scan
      credaudit scan --profile batch --run-time 2h --queue-dwell 20m
      credaudit scan --root /mnt/image --home /home/app --format json
      credaudit scan --pid 4242 --at +2h
    """
    report = scan_from_options(fail_on, **opts)
    click.echo(render_report(report, fmt), nl=False)
    return exit_code(report.findings, fail_on, soft_fail)


@click.command()
@click.argument(
    "kind",
    type=click.Choice(["scan", "url", "check", "token", "incident", "fleet"]),
    default="scan",
)
def schema(kind: str) -> int:
    """Print the JSON Schema of the JSON output (scan by default)."""
    from credaudit.report.json import schema as json_schema

    if kind == "scan":
        from credaudit.model import ScanReport

        click.echo(json_schema(ScanReport), nl=False)
        return 0
    import importlib

    module_name, attr = {
        "url": ("credaudit.presign.model", "UrlReport"),
        "check": ("credaudit.policy", "CheckReport"),
        "token": ("credaudit.tokens.model", "TokenReport"),
        "incident": ("credaudit.incident.model", "IncidentReport"),
        "fleet": ("credaudit.fleet.model", "FleetReport"),
    }[kind]
    try:
        model = getattr(importlib.import_module(module_name), attr)
    except (ModuleNotFoundError, AttributeError):
        raise click.UsageError(f"no schema for {kind} in this build") from None
    click.echo(json_schema(model), nl=False)
    return 0
