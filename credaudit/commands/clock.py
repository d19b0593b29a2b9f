"""``credaudit clock``: the local clock's offset against a reference, and ``scan --clock-check``.

Calling AWS needs ``--online`` (then the regional STS endpoint's ``Date`` is the reference);
any other HTTP(S) server can be named with ``--reference``.  Without either there is nothing
to measure against, which is bad input (exit 2), not a pass.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import click

from credaudit.commands.options import DURATION, SEVERITIES, exit_code
from credaudit.errors import InputError
from credaudit.model import format_instant
from credaudit.target import Target

NEEDS_REFERENCE = (
    "clock: nothing to measure against: give --reference URL (an HTTP server whose Date "
    "header is trusted) or --online (the regional STS endpoint)"
)
SCAN_CLOCK_TIMEOUT = 3.0


def _region(env: Any, profile_region: str | None = None) -> str:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = env.get(var)
        if value:
            return str(value)
    return profile_region or "us-east-1"


def _check_reference(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InputError(f"--reference {url[:80]!r}: not an http:// or https:// URL")
    return url


def reference_for(reference: str | None, online: bool, region: str) -> str:
    """The URL to measure against, or InputError when none is allowed."""
    from credaudit.clock_check import sts_url

    if reference:
        return _check_reference(reference)
    if online:
        return sts_url(region)
    raise InputError(NEEDS_REFERENCE)


def measure_for_scan(
    target: Target, reference: str | None
) -> tuple[timedelta | None, timedelta | None]:
    """The offset and uncertainty ``scan --clock-check`` feeds the analysis.

    A reference that cannot be read does not stop the scan: one line on stderr, and the
    scan goes on without a clock verdict.
    """
    from credaudit.clock_check import ClockCheckError, measure
    from credaudit.sources.awsconfig import load, selected_profile

    try:
        profile_region = load(target).profiles.get(selected_profile(target).name, {}).get("region")
    except Exception:  # the scan reports config problems itself
        profile_region = None
    url = reference_for(reference, target.online, _region(target.env, profile_region))
    timeout = max(target.probe_timeout.total_seconds(), SCAN_CLOCK_TIMEOUT)
    try:
        found = measure(url, timeout=timeout)
    except ClockCheckError as exc:
        click.echo(f"credaudit: clock check skipped: {exc}", err=True)
        return None, None
    return found.offset, found.uncertainty


@click.command()
@click.option("--reference", metavar="URL", help="HTTP(S) server whose Date header is trusted.")
@click.option(
    "--online", is_flag=True, help="Measure against the regional STS endpoint (calls AWS)."
)
@click.option(
    "--region", help="Region of the STS endpoint (default: AWS_REGION, AWS_DEFAULT_REGION)."
)
@click.option(
    "--skew-margin",
    type=DURATION,
    default="0s",
    show_default=True,
    help="Tolerated clock error before CA601.",
)
@click.option(
    "--timeout", type=DURATION, default="5s", show_default=True, help="Deadline for all samples."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="high", show_default=True)
def clock(
    *,
    reference: str | None,
    online: bool,
    region: str | None,
    skew_margin: timedelta,
    timeout: timedelta,
    fmt: str,
    fail_on: str,
) -> int:
    """Measure the local clock's offset against a reference's HTTP Date header.

    The offset is corrected for the round trip and given with its uncertainty (half the
    round trip plus half a second, Date's resolution). SigV4 requests start failing at 5
    minutes of skew; everything fails at 15.

    \b
    Examples:
      credaudit clock --online
      credaudit clock --reference https://time.example.internal/ --skew-margin 30s
    """
    from credaudit.analysis.clock_rules import clock_finding
    from credaudit.clock_check import ClockCheckError, measure

    url = reference_for(reference, online, region or _region(os.environ))
    try:
        found = measure(url, timeout=timeout.total_seconds())
    except ClockCheckError as exc:
        raise InputError(f"--reference: {exc}" if reference else f"--online: {exc}") from None
    finding = clock_finding(found.offset, found.uncertainty, skew_margin, found.reference)
    findings = [finding] if finding is not None else []
    if fmt == "json":
        from credaudit.report.json import to_jsonable

        document = {
            "kind": "clock",
            "reference": found.reference,
            "offset_seconds": round(found.offset.total_seconds(), 3),
            "uncertainty_seconds": round(found.uncertainty.total_seconds(), 3),
            "rtt_seconds": round(found.rtt.total_seconds(), 4),
            "reference_date": format_instant(found.reference_date),
            "samples": found.samples,
            "skew_margin_seconds": int(skew_margin.total_seconds()),
            "findings": [to_jsonable(f) for f in findings],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        seconds = found.offset.total_seconds()
        side = "ahead" if seconds > 0 else "behind"
        click.echo(f"reference    {found.reference}")
        click.echo(
            f"offset       {seconds:+.3f} s (local clock {side}) "
            f"± {found.uncertainty.total_seconds():.3f} s"
        )
        click.echo(
            f"round trip   {found.rtt.total_seconds() * 1000:.1f} ms "
            f"(best of {found.samples} samples)"
        )
        if not findings:
            click.echo("no finding: the offset is within the skew margin")
        for f in findings:
            click.echo(f"{f.severity.value.upper():8} {f.code} {f.title}: {f.message}")
    return exit_code(findings, fail_on)
