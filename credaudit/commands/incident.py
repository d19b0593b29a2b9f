"""``credaudit incident``: ExpiredToken forensics from logs.

The command only wires options to ``credaudit.incident``: it parses the window and the field
map, picks the engine, draws progress on stderr when stderr is a terminal and the input is
large, and renders.  ``--sql`` prints the analysis as SQL for Athena, Trino, Spark or DuckDB
instead of reading anything.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

import click

from credaudit.commands.options import exit_code, output_options
from credaudit.durations import DurationError, parse_instant
from credaudit.errors import InputError
from credaudit.model import Severity

INCIDENT_FORMATS = ["table", "json", "markdown", "html"]
SQL_DIALECTS = ["athena", "trino", "spark", "duckdb"]
_TYPES = ["cloudtrail", "s3-access", "sdk-debug", "app"]


def _instant(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(value)
    except DurationError as exc:
        raise InputError(f"{name}: {exc}") from None


def _fields(values: tuple[str, ...]) -> dict[str, str]:
    from credaudit.incident.readers.app import FIELDS

    mapped: dict[str, str] = {}
    for item in values:
        name, sep, key = item.partition("=")
        if not sep or not key:
            raise InputError(f"--field {item[:40]!r}: expected NAME=KEY")
        if name not in FIELDS:
            raise InputError(f"--field {name}: not a field name (one of {', '.join(FIELDS)})")
        mapped[name] = key
    return mapped


class _Progress:
    """Files done / total on one stderr line, erased when done (a terminal only; the engine
    calls it only for large input)."""

    def __init__(self) -> None:
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        sys.stderr.write(f"\rcredaudit incident: {done}/{total} files")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--type", "kind", type=click.Choice(_TYPES), help="Read every file as this kind of log."
)
@click.option(
    "--field",
    "field_values",
    multiple=True,
    metavar="NAME=KEY",
    help="Application logs: read field NAME (requestId, credentialExpiration, …) from KEY.",
)
@click.option("--since", metavar="INSTANT", help="Ignore events before this instant.")
@click.option("--until", metavar="INSTANT", help="Ignore events after this instant.")
@click.option(
    "--engine",
    type=click.Choice(["embedded", "spark"]),
    default="embedded",
    show_default=True,
    help="Run here (streaming, both cores) or on Apache Spark (credaudit[spark]).",
)
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL.")
@click.option("--jobs", type=int, help="Worker processes for the embedded engine (default: cores).")
@click.option(
    "--sql",
    type=click.Choice(SQL_DIALECTS),
    help="Print the analysis as SQL for the Athena CloudTrail / S3 access-log tables instead.",
)
@click.option(
    "--cloudtrail-table", default="cloudtrail_logs", show_default=True, help="--sql: table name."
)
@click.option("--s3-table", default="s3_access_logs", show_default=True, help="--sql: table name.")
@output_options(INCIDENT_FORMATS)
def incident(paths: tuple[str, ...], fmt: str, fail_on: str, soft_fail: bool, **opts: Any) -> int:
    """Explain an ExpiredToken incident from its logs: sessions, failures, retries, dwell.

    PATHS are files or directories (walked; .gz read transparently): CloudTrail delivery files
    or exports, S3 server access logs, botocore/AWS CLI --debug logs, application logs
    (key=value or JSON lines). Each file's kind is read from its content.

    \b
    Examples:
      credaudit incident AWSLogs/ s3-logs/ app.log --since 2026-04-15T08:00:00Z
      credaudit incident worker.log --field requestId=req_id --format markdown
      credaudit incident logs/ --format html > incident.html
      credaudit incident --sql athena
    """
    sql: str | None = opts.get("sql")
    if sql:
        from credaudit.incident.sql import render as render_sql

        tables = {"cloudtrail_table": opts["cloudtrail_table"], "s3_table": opts["s3_table"]}
        click.echo(render_sql(sql, **tables), nl=False)
        return 0
    if not paths:
        raise InputError("give log files or directories (or --sql DIALECT)")
    for path in paths:
        if not path.startswith("s3a://") and not os.path.exists(path):
            raise InputError(f"{path}: no such file or directory")
    from credaudit.incident import collect, report
    from credaudit.incident.embedded import Options
    from credaudit.incident.readers.app import mapping

    field_values: tuple[str, ...] = opts.get("field_values") or ()
    options = Options(
        kind=opts.get("kind"),
        fields=mapping(_fields(field_values)) if field_values else None,
        since=_instant("--since", opts.get("since")),
        until=_instant("--until", opts.get("until")),
    )
    engine: str = opts["engine"]
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        acc = collect(
            list(paths),
            options,
            engine=engine,
            jobs=opts.get("jobs"),
            spark_master=opts.get("spark_master"),
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.close()
    result = report(acc, engine=engine, inputs=list(paths), fail_on=Severity(fail_on))
    for finding in result.findings:
        if finding.code == "CA908":
            click.echo(f"credaudit: {finding.message}", err=True)
    if fmt == "json":
        from credaudit.report.incident_json import chunks

        for chunk in chunks(result):
            click.echo(chunk, nl=False)
    else:
        click.echo(render(result, fmt), nl=False)
    return exit_code(result.findings, fail_on, soft_fail)


def render(result: Any, fmt: str) -> str:
    if fmt == "markdown":
        from credaudit.report.incident_markdown import render as render_markdown

        return render_markdown(result)
    if fmt == "html":
        from credaudit.report.incident_html import render as render_html

        return render_html(result)
    from credaudit.commands.options import color_enabled
    from credaudit.report.incident_table import render as render_table

    return render_table(result, color=color_enabled())
