"""Options shared by the commands that audit a target (scan, url, require) and by every
command that reports findings: how the Target and the Budget are built from flags, and how
a report becomes output and an exit code.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import click

from credaudit.analysis.budget import Budget
from credaudit.clock import Clock
from credaudit.durations import DurationError, parse_at, parse_duration
from credaudit.errors import InputError
from credaudit.model import Finding, Severity
from credaudit.target import (
    DEFAULT_PROBE_TIMEOUT,
    Target,
    TargetError,
    default_home,
    read_env_file,
    read_process_env,
)

F = TypeVar("F", bound=Callable[..., Any])

SEVERITIES = [s.value for s in Severity]


class DurationParam(click.ParamType):  # type: ignore[type-arg]
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except DurationError as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationParam()


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def target_options(func: F) -> F:
    """--root/--home/--env-file/--pid/--profile/--all-profiles/--at/--run-process/network."""
    return _stack(
        click.option(
            "--root",
            type=click.Path(file_okay=False, path_type=Path),
            help="Audit a mounted container or image filesystem (default: /).",
        ),
        click.option(
            "--home", help="Home directory inside the target (default: the target's $HOME)."
        ),
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Take the environment from KEY=VALUE lines instead of this process's.",
        ),
        click.option(
            "--pid",
            type=int,
            help="Audit what a running process sees: its /proc/PID/environ and /proc/PID/root.",
        ),
        click.option(
            "--profile",
            help="Audit this profile, chosen explicitly (as Session(profile_name=...)): "
            "the env provider is dropped.",
        ),
        click.option("--all-profiles", is_flag=True, help="Audit every profile in the config."),
        click.option(
            "--at",
            "at",
            metavar="INSTANT|+DURATION",
            help="Evaluate at a later instant: '+2h' asks 'will this still work in 2 h?'.",
        ),
        click.option(
            "--run-process",
            is_flag=True,
            help="Run credential_process commands (with a timeout) to read their expiry.",
        ),
        click.option(
            "--no-network", is_flag=True, help="Do not probe the metadata or container endpoints."
        ),
        click.option(
            "--probe-timeout",
            type=DURATION,
            default=str(int(DEFAULT_PROBE_TIMEOUT.total_seconds())) + "s",
            show_default=True,
            help="Overall deadline for all network probes together.",
        ),
        click.option(
            "--online", is_flag=True, help="Allow calls to AWS (never made without this flag)."
        ),
    )(func)


def budget_options(func: F) -> F:
    """The work's time budget, in human durations (90s, 15m, 2h30m, PT1H)."""
    return _stack(
        click.option(
            "--run-time", type=DURATION, default="0s", help="How long the work uses one credential."
        ),
        click.option(
            "--queue-dwell",
            type=DURATION,
            default="0s",
            help="Longest wait between signing a request and sending it.",
        ),
        click.option(
            "--signing-delay",
            type=DURATION,
            default="0s",
            help="Time between getting credentials and signing.",
        ),
        click.option(
            "--retry-budget",
            type=DURATION,
            default="0s",
            help="Total extra time retries add to a signed request.",
        ),
        click.option(
            "--url-ttl",
            type=DURATION,
            default="0s",
            help="The presigned-URL lifetime you intend to promise.",
        ),
        click.option(
            "--min-remaining",
            type=DURATION,
            default="15m",
            show_default=True,
            help="Least remaining lifetime acceptable now.",
        ),
        click.option(
            "--skew-margin",
            type=DURATION,
            default="0s",
            help="Tolerated clock error, added to every budget.",
        ),
    )(func)


def output_options(formats: list[str], default: str = "table") -> Callable[[F], F]:
    return _stack(
        click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=default,
            show_default=True,
            help="Output format.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(SEVERITIES),
            default="high",
            show_default=True,
            help="Exit 1 when a finding is at or above this severity.",
        ),
        click.option(
            "--soft-fail",
            is_flag=True,
            help="Report findings but exit 0 (bad input still exits 2).",
        ),
    )


def build_budget(**opts: Any) -> Budget:
    return Budget(
        run_time=opts.get("run_time") or timedelta(0),
        queue_dwell=opts.get("queue_dwell") or timedelta(0),
        signing_delay=opts.get("signing_delay") or timedelta(0),
        retry_budget=opts.get("retry_budget") or timedelta(0),
        url_ttl=opts.get("url_ttl") or timedelta(0),
        min_remaining=opts.get("min_remaining") or timedelta(0),
        skew_margin=opts.get("skew_margin") or timedelta(0),
    )


ROOT_WITHOUT_ENV = "empty (--root without --env-file or --pid)"


def build_target(**opts: Any) -> Target:
    """The one place that reads this process's environment, home and clock."""
    root: Path | None = opts.get("root")
    pid: int | None = opts.get("pid")
    env_file: Path | None = opts.get("env_file")
    if pid is not None and env_file is not None:
        raise InputError("--pid and --env-file both name the environment: choose one")
    labels: dict[str, str] = {}
    try:
        if pid is not None:
            env = read_process_env(pid)
            labels["pid"] = str(pid)
            if root is None:
                root = Path(f"/proc/{pid}/root")
        elif env_file is not None:
            env = read_env_file(env_file)
            labels["env_file"] = str(env_file)
        elif root is not None and root.resolve() != Path("/"):
            # A mounted image or container filesystem: this shell's variables (the operator's
            # own keys, AWS_PROFILE, HOME) are not what its processes get.
            env = {}
            labels["environment"] = ROOT_WITHOUT_ENV
        else:
            env = dict(os.environ)
    except TargetError as exc:
        raise InputError(str(exc)) from None
    if root is None:
        root = Path("/")
    elif not root.is_dir():
        raise InputError(f"--root {root}: not a directory")
    home_opt: str | None = opts.get("home")
    if home_opt:
        home = PurePosixPath(home_opt)
    elif str(root) == "/" and pid is None and env_file is None:
        home = PurePosixPath(os.path.expanduser("~"))
    else:
        home = default_home(env, root)
    clock = Clock.system()
    at: str | None = opts.get("at")
    if at:
        try:
            clock = Clock(parse_at(at, clock.now()))
        except DurationError as exc:
            raise InputError(f"--at: {exc}") from None
    profile: str | None = opts.get("profile")
    all_profiles = bool(opts.get("all_profiles"))
    if profile and all_profiles:
        raise InputError("--profile and --all-profiles: choose one")
    return Target(
        root=root,
        home=home,
        env=env,
        clock=clock,
        profile=profile,
        all_profiles=all_profiles,
        run_process=bool(opts.get("run_process")),
        network=not opts.get("no_network"),
        online=bool(opts.get("online")),
        probe_timeout=opts.get("probe_timeout") or DEFAULT_PROBE_TIMEOUT,
        labels=labels,
        host=socket.gethostname(),
    )


def exit_code(findings: list[Finding], fail_on: str, soft_fail: bool = False) -> int:
    """1 when a finding reaches --fail-on (unless --soft-fail), else 0."""
    if soft_fail:
        return 0
    threshold = Severity(fail_on)
    return 1 if any(f.severity.at_least(threshold) for f in findings) else 0


def color_enabled() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if "NO_COLOR" in os.environ:
        return False
    return sys.stdout.isatty()


def read_input_file(path: str, flag: str, limit: int) -> tuple[bytes, float | None]:
    """A file named by an option (a key, a JWKS, a token file), read as the scan reads its
    sources (``read_bytes``: regular files only, never blocking on a FIFO, at most ``limit``
    bytes); its bytes and mtime, or an InputError naming the option and the file."""
    from credaudit.sources.jsonfile import read_bytes

    raw = read_bytes(Path(path), limit)
    if raw.data is None:
        raise InputError(f"{flag} {path}: cannot read ({raw.error})")
    return raw.data, raw.mtime
