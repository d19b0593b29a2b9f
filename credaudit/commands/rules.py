"""``credaudit explain CODE`` and ``credaudit rules``: the rule catalogue for people.

Both read only the catalogue (analysis/rules.py) and the rule pages, so they import neither
botocore nor the sources: asking what CA201 means must stay instant and work on a machine
with no AWS configuration at all.
"""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from credaudit.analysis.rules import RULES, Rule
from credaudit.rule_pages import normalize_code, read_page

EXIT_UNKNOWN_CODE = 2


@click.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Print the page of rule CODE (e.g. CA201): what it does, why, how to fix, the wrong fix."""
    canonical = normalize_code(code)
    entry = RULES.get(canonical) if canonical else None
    if entry is None:
        shown = code.strip()[:40]
        click.echo(
            f"credaudit: unknown rule code {shown!r}; run `credaudit rules` to list every code",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_UNKNOWN_CODE)
    page = read_page(entry.code)
    if page is None:
        # A broken install (the pages were not packaged) should still answer from the
        # catalogue rather than fail: the short texts are what findings carry anyway.
        click.echo(f"credaudit: no page installed for {entry.code}; showing its summary", err=True)
        page = _summary(entry)
    click.echo(page.rstrip("\n"))


@click.command("rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def rules(fmt: str) -> None:
    """List every finding code with its name, default severity and title."""
    ordered = [RULES[code] for code in sorted(RULES)]
    if fmt == "json":
        click.echo(json.dumps([_as_dict(r) for r in ordered], indent=2))
        return
    rows = [(r.code, r.name, r.severity.value, r.title) for r in ordered]
    click.echo(tabulate(rows, headers=["code", "name", "severity", "title"], tablefmt="simple"))


def _as_dict(entry: Rule) -> dict[str, str]:
    return {
        "code": entry.code,
        "name": entry.name,
        "severity": entry.severity.value,
        "title": entry.title,
        "fix": entry.fix,
        "source": entry.source,
    }


def _summary(entry: Rule) -> str:
    return (
        f"# {entry.code} — {entry.name}\n\n{entry.title}.\n\n"
        f"## How to fix\n\n{entry.fix}\n\n"
        f"## Default severity\n\n{entry.severity.value}\n\nSource: {entry.source}\n"
    )
