"""``credaudit require``: start a command only if its credentials will last, then step aside.

A job that dies with ExpiredToken after two hours of work wastes the two hours; refusing to
start it costs nothing.  The verdict reuses the scan pipeline with the run time set to
``--for``, so "will it last" means exactly what ``scan`` means by it.  Once the command runs,
credaudit is a transparent parent: the same stdin/stdout/stderr, every SIGTERM, SIGINT and
SIGHUP passed on, and the command's own exit status (128 + N when a signal N killed it, as
shells report it).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import click

from credaudit.commands.options import DURATION, build_target, target_options
from credaudit.durations import format_duration
from credaudit.errors import InputError
from credaudit.model import Finding, ScanReport, Severity

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126
# Findings that mean "the credentials will not last the run" (RULES.md CA1xx, CA4xx, CA5xx).
BLOCKING = frozenset(
    {"CA101", "CA102", "CA104", "CA107", "CA108", "CA403", "CA501", "CA503", "CA504", "CA505"}
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def decide(report: ScanReport, profile: str, needed: timedelta, now: datetime) -> Verdict:
    """Will the credentials ``profile`` resolves to last ``needed`` from ``now``?

    A refreshable source counts as lasting unless a rule found its refresh path broken (an
    MFA role, an SSO token that cannot refresh, a stale token file, a failing endpoint); a
    static one must simply not expire within ``needed``.
    """
    entry = next((e for e in report.chain if e.profile == profile), None)
    if entry is None or entry.resolved is None:
        why = entry.error if entry is not None and entry.error else "no source yields any"
        return Verdict(
            False,
            f"profile {profile!r} has no credentials ({why}); configure a source or pick "
            "another --profile",
        )
    resolved = entry.resolved
    what = f"profile {profile!r} uses {resolved.source} credentials ({resolved.origin})"
    blocking = _blocking(report.findings, profile)
    if blocking is not None:
        return Verdict(False, f"{what}: {blocking.code} {blocking.message}; {blocking.remediation}")
    if not resolved.refreshable and resolved.expires_at is not None:
        left = resolved.expires_at - now
        if left < needed:
            state = (
                f"expired {format_duration(-left)} ago"
                if left <= timedelta(0)
                else (f"expire in {format_duration(left)}")
            )
            return Verdict(
                False,
                f"{what} that {state}, but the command needs {format_duration(needed)}; "
                "refresh them (re-run the login or assume-role step) or use a refreshable "
                "source such as a role profile",
            )
    return Verdict(True)


def _blocking(findings: list[Finding], profile: str) -> Finding | None:
    for finding in findings:
        if (
            finding.code in BLOCKING
            and finding.severity.at_least(Severity.HIGH)
            and finding.profile in (None, profile)
        ):
            return finding
    return None


def run_child(argv: Sequence[str]) -> int:
    """Run ``argv`` with our stdio, forward signals to it, and return its exit status.

    The handlers go in before the child starts: a signal that arrives while it is being
    spawned would otherwise hit the default action and kill us, leaving the child orphaned.
    One that arrives before the child exists is held and sent once it does."""
    child: subprocess.Popen[bytes] | None = None
    held: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child is None:
            held.append(signum)
        elif child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        try:
            child = subprocess.Popen(list(argv))
        except FileNotFoundError:
            raise _ChildError(f"{argv[0]}: command not found", EXIT_NOT_FOUND) from None
        except PermissionError:
            raise _ChildError(f"{argv[0]}: permission denied", EXIT_NOT_EXECUTABLE) from None
        except OSError as exc:
            raise _ChildError(
                f"{argv[0]}: cannot run ({exc.strerror})", EXIT_NOT_EXECUTABLE
            ) from None
        for signum in held:
            child.send_signal(signum)
        status = child.wait()  # PEP 475: wait() resumes itself after a handler runs
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - status if status < 0 else status


class _ChildError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--for",
    "needed",
    type=DURATION,
    required=True,
    help="How long the command will use its credentials.",
)
@click.option(
    "--margin",
    type=DURATION,
    default="5m",
    show_default=True,
    help="Extra life required on top of --for (clock error, start-up).",
)
@target_options
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def require(needed: timedelta, margin: timedelta, command: tuple[str, ...], **opts: Any) -> int:
    """Run COMMAND only if the credentials it would get will last --for plus --margin.

    Otherwise print one line (which source, how long it has, what to do) and exit 1 without
    starting COMMAND. When COMMAND runs, its exit status is credaudit's.

    \b
    Examples:
      credaudit require --for 2h -- ./nightly-backup.sh
      credaudit require --for 45m --profile deploy -- terraform apply
    """
    from credaudit.analysis.budget import Budget
    from credaudit.scan import run_scan
    from credaudit.sources.awsconfig import selected_profile

    if not command:
        raise InputError("give the command to run after --")
    target = build_target(**opts)
    budget = Budget(run_time=needed, skew_margin=margin, min_remaining=timedelta(0))
    report = run_scan(target, budget)
    profile = selected_profile(target).name
    verdict = decide(report, profile, needed + margin, target.clock.now())
    if not verdict.ok:
        click.echo(f"credaudit: not starting {command[0]}: {verdict.reason}", err=True)
        return 1
    try:
        return run_child(command)
    except _ChildError as exc:
        click.echo(f"credaudit: {exc}", err=True)
        return exc.status
