"""The command line: click commands that build a Target and a Budget, call the library, pick
a renderer and map the result to an exit code.  No logic lives here.

Subcommands live in ``credaudit/commands/<name>.py`` and are imported only when invoked, so
``credaudit explain`` never pays for the scan's imports.  Exit codes: 0 nothing at or above
``--fail-on``; 1 something is; 2 bad input (one clear line); 3 internal error.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

from credaudit import __version__
from credaudit.errors import InputError
from credaudit.stdout import lossless_stdout

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

# command name -> (module, attribute, one-line help shown in `credaudit --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "scan": ("credaudit.commands.scan", "scan", "Audit a host's or a container's AWS credentials."),
    "url": ("credaudit.commands.url", "url", "Check presigned URLs' real remaining life."),
    "incident": (
        "credaudit.commands.incident",
        "incident",
        "Explain an ExpiredToken incident from its logs.",
    ),
    "token": ("credaudit.commands.token", "token", "Check bearer tokens against the budget."),
    "check": ("credaudit.commands.check", "check", "Pre-deploy gate from a policy file."),
    "require": (
        "credaudit.commands.require",
        "require",
        "Run a command only if its credentials will last.",
    ),
    "clock": ("credaudit.commands.clock", "clock", "Measure the local clock's offset."),
    "explain": ("credaudit.commands.rules", "explain", "Print a rule's page (what, why, fix)."),
    "rules": ("credaudit.commands.rules", "rules", "List every finding code."),
    "schema": ("credaudit.commands.scan", "schema", "Print the JSON Schema of the JSON output."),
    "serve": ("credaudit.commands.serve", "serve", "Serve the scan as Prometheus metrics."),
    "fleet": ("credaudit.commands.fleet", "fleet", "Many hosts' reports: clusters, skew, silence."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, spec in COMMANDS.items() if _available(spec[0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None or not _available(spec[0]):
            return None
        command: click.Command = getattr(importlib.import_module(spec[0]), spec[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="credaudit")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Find expired-token failures before they happen, and explain them after they did.

    credaudit holds a credential's lifetime against the time your work needs: the AWS
    credentials botocore would use (scan, check, require), presigned URLs (url), bearer
    tokens (token), an outage's logs (incident), a fleet (serve, fleet). It never prints
    secrets, never writes a cache, and never calls AWS or an identity provider without
    --online.

    \b
    Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 bad input; 3 internal error.
    """
    ctx.obj = {"debug": debug}


@cli.result_callback()
@click.pass_context
def _exit_with(ctx: click.Context, /, rc: Any, **_: Any) -> None:
    """Subcommands return their exit code; exit with it here so that every caller (the
    console script, ``python -m``, click's test runner) sees the same code."""
    if isinstance(rc, int) and rc:
        ctx.exit(rc)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run click, and turn errors into one line and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    lossless_stdout()
    try:
        rc: Any = cli.main(args=argv, prog_name="credaudit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("credaudit: aborted", err=True)
        sys.exit(EXIT_INPUT)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT)
    except InputError as exc:
        click.echo(f"credaudit: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"credaudit: internal error: {type(exc).__name__} (run with --debug for details)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)
