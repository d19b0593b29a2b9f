"""``credaudit check``: the pre-deploy gate, from a policy file and configuration alone."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

import click

from credaudit.clock import Clock
from credaudit.commands.options import color_enabled, exit_code, output_options
from credaudit.durations import DurationError, parse_at
from credaudit.errors import InputError
from credaudit.model import Severity

CHECK_FORMATS = ["table", "json", "sarif", "junit", "github", "markdown", "prometheus"]


@click.command()
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Policy file (default: nearest credaudit.toml or pyproject.toml [tool.credaudit]).",
)
@click.option(
    "--aws-config",
    type=click.Path(path_type=Path),
    help="AWS config file the workloads' profile = ... names are resolved from.",
)
@output_options(CHECK_FORMATS)
@click.option(
    "--online",
    is_flag=True,
    help="Ask IAM for roles' MaxSessionDuration and STS for the caller's account.",
)
@click.option(
    "--at", "at", metavar="INSTANT|+DURATION", help="Judge suppressions' until dates at this time."
)
@click.pass_context
def check(
    ctx: click.Context,
    *,
    policy_path: Path | None,
    aws_config: Path | None,
    fmt: str,
    fail_on: str,
    soft_fail: bool,
    online: bool,
    at: str | None,
) -> int:
    """Pre-deploy gate: will each workload's credentials last as long as its work?

    Reads the policy's [[workload]] tables (source or profile, run time, queue dwell, retries,
    URL TTL, ...) and reports, without live credentials, what cannot last. Exit 1 when a
    finding reaches --fail-on (or the policy's defaults.fail_on), 2 for a bad policy.

    \b
    Examples:
      credaudit check
      credaudit check --policy deploy/credaudit.toml --aws-config deploy/aws-config
      credaudit check --format sarif > credaudit.sarif
    """
    from credaudit.analysis.policy_rules import check_policy
    from credaudit.policy import load_policy

    cwd = Path.cwd()
    now = Clock.system().now()
    if at:
        try:
            now = parse_at(at, now)
        except DurationError as exc:
            raise InputError(f"--at: {exc}") from None
    loaded = load_policy(policy_path, cwd)
    specs = _specs(loaded, aws_config, cwd)
    threshold = Severity(fail_on)
    source = ctx.get_parameter_source("fail_on")
    if source is click.core.ParameterSource.DEFAULT and loaded.policy.defaults.fail_on:
        threshold = loaded.policy.defaults.fail_on
    facts = None
    if online:
        from credaudit import online as online_mod

        policy = loaded.policy
        want_caller = any(
            s.source == "env" and (w.expected_account or policy.defaults.expected_account)
            for w, s in zip(policy.workload, specs, strict=True)
        )
        arns = [s.role_arn for s in specs if s.source == "assume-role" and s.role_arn]
        facts = online_mod.gather(arns, dict(os.environ), want_caller=want_caller)
        for note in facts.notes:
            click.echo(f"credaudit: {note}", err=True)
    report = check_policy(loaded, specs, now, threshold, facts)
    click.echo(_render(report, fmt), nl=False)
    return exit_code(report.findings, threshold.value, soft_fail)


def _specs(loaded: Any, aws_config: Path | None, cwd: Path) -> list[Any]:
    from credaudit.analysis.policy_rules import spec_from_profile, spec_from_source

    policy = loaded.policy
    profiles = None
    specs = []
    for index, workload in enumerate(policy.workload):
        if workload.profile is None:
            specs.append(spec_from_source(workload))
            continue
        line = loaded.workload_line(index)
        where = f"{loaded.path}:{line}" if line else str(loaded.path)
        if aws_config is None:
            raise InputError(
                f"{where}: workload.{index}.profile: profile {workload.profile!r} needs "
                "--aws-config FILE to resolve it"
            )
        if profiles is None:
            profiles = _read_aws_config(aws_config)
        if workload.profile not in profiles:
            raise InputError(
                f"{where}: workload.{index}.profile: no profile {workload.profile!r} in "
                f"{aws_config}"
            )
        specs.append(spec_from_profile(workload.profile, profiles, str(aws_config)))
    return specs


def _read_aws_config(path: Path) -> Any:
    """Profiles of one config file, read with botocore's loader (sources/awsconfig.py)."""
    from credaudit.sources import awsconfig
    from credaudit.target import Target

    absolute = path.resolve()
    target = Target(
        root=Path("/"),
        home=PurePosixPath(absolute.parent.as_posix()),
        env={awsconfig.CONFIG_ENV: str(absolute)},
        clock=Clock.system(),
    )
    config = awsconfig.read_ini(target, awsconfig.CONFIG_ENV, str(absolute))
    if not config.exists:
        raise InputError(f"--aws-config {path}: no such file")
    if config.error:
        raise InputError(f"--aws-config {path}: {config.error}")
    empty = awsconfig.IniFile(in_target="", path=Path(os.devnull), exists=False)
    return awsconfig._build(config, empty).profiles


def _render(report: Any, fmt: str) -> str:
    if fmt == "json":
        from credaudit.report import json as json_report

        return json_report.render(report)
    if fmt == "table":
        return _table(report)
    import importlib

    module = importlib.import_module(f"credaudit.report.{fmt}")
    text: str = module.render(report)
    return text


def _table(report: Any) -> str:
    from tabulate import tabulate

    from credaudit.durations import format_duration
    from credaudit.report.table import render_findings

    rows = [
        [
            w.name,
            w.origin,
            format_duration(w.session_seconds) if w.session_seconds is not None else "unknown",
            "yes" if w.refreshable else "no",
            format_duration(w.budget.run_time),
            ", ".join(w.suppressed),
        ]
        for w in report.workloads
    ]
    head = ["workload", "credentials", "session", "renews", "run time", "suppressed"]
    out = [f"credaudit check — {report.policy}\n", tabulate(rows, head) + "\n\n"]
    out.append(render_findings(report.findings, color=color_enabled()))
    return "".join(out)
