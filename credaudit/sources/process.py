"""``credential_process`` profiles: run the command (only when asked) and read its output.

The output's ``Expiration`` is the only way to know how long such credentials live, and
botocore refreshes them only when it is present.  Running a command is a side effect, so it
happens only with ``--run-process`` and never against a ``--root`` tree (the command would run
on this host, not in the audited image).  stdout and stderr may hold secrets: they are parsed
and dropped, never quoted in a message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from credaudit.model import DetailValue, Location, Observation, Problem
from credaudit.sources.jsonfile import credential_fields, instant
from credaudit.target import Target

SOURCE = "process-output"
PROFILE_KEY = "credential_process"
MAX_OUTPUT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ProcessOutput:
    """What botocore would make of a command's stdout, minus the secrets.

    ``error`` is set when ``ProcessProvider._retrieve_credentials_using`` (or the refreshable
    credentials it builds) would reject the output; ``fields`` are Observation keyword args.
    """

    fields: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    expiration_present: bool = False
    error: str | None = None


def parse_process_output(data: bytes, fallback_account_id: str | None = None) -> ProcessOutput:
    """Parse stdout as botocore does: JSON object, ``Version`` == 1, both keys present."""
    if len(data) > MAX_OUTPUT_BYTES:
        return ProcessOutput(error=f"output too large (over {MAX_OUTPUT_BYTES} bytes)")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return ProcessOutput(error="output is not UTF-8")
    except (ValueError, RecursionError):
        return ProcessOutput(error="output is not JSON")
    if not isinstance(parsed, dict):
        return ProcessOutput(error="output is not a JSON object")
    if "Version" not in parsed:
        return ProcessOutput(error="missing key Version")
    if parsed["Version"] != 1:  # botocore's own comparison: 1, 1.0 and true all pass
        return ProcessOutput(error="unsupported Version (only 1 is supported)")
    for key in ("AccessKeyId", "SecretAccessKey"):
        if key not in parsed:
            return ProcessOutput(error=f"missing key {key}")
    fields = credential_fields(
        parsed["AccessKeyId"],
        parsed["SecretAccessKey"],
        parsed.get("SessionToken"),
        parsed.get("AccountId") or fallback_account_id,
    )
    expiration = parsed.get("Expiration")
    if expiration is None:
        return ProcessOutput(fields=fields)
    expires_at, why = instant(expiration)
    if why:
        return ProcessOutput(fields=fields, expiration_present=True, error=f"Expiration {why}")
    return ProcessOutput(fields=fields, expires_at=expires_at, expiration_present=True)


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    stdout: bytes = b""
    error: str | None = None


def run_command(command: str, target: Target) -> RunResult:
    """Run like ``ProcessProvider``: shell-split, no shell, target env, bounded by a timeout.

    The command runs in its own session so a timeout kills everything it started, not just
    the first process (a wrapper script's children would otherwise keep the pipes open).
    """
    from botocore.compat import compat_shell_split

    try:
        argv = compat_shell_split(command)
    except ValueError:
        return RunResult(None, error="cannot split the command line (unbalanced quotes?)")
    if not argv:
        return RunResult(None, error="empty command")
    timeout = target.process_timeout.total_seconds()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(target.env),
            start_new_session=True,
        )
    except FileNotFoundError:
        return RunResult(None, error="command not found")
    except PermissionError:
        return RunResult(None, error="command is not executable")
    except OSError as exc:
        return RunResult(None, error=f"cannot start ({exc.strerror or type(exc).__name__})")
    try:
        stdout, _stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a descendant escaped the group and holds a pipe
            proc.kill()
        return RunResult(None, error=f"timed out after {timeout:g}s")
    if proc.returncode != 0:
        return RunResult(proc.returncode, error=f"exited {proc.returncode}")
    return RunResult(0, stdout)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def collect(target: Target) -> list[Observation]:
    from credaudit.sources import awsconfig

    config = awsconfig.load(target)
    observations = []
    for name in sorted(config.profiles):
        command = config.profiles[name].get(PROFILE_KEY)
        if isinstance(command, str) and command.strip():
            ini, line = config.profile_line(name)
            location = Location(path=str(ini.path), line=line)
            account = config.profiles[name].get("aws_account_id")
            fallback = account if isinstance(account, str) else None
            observations.append(observe(target, name, command, location, fallback))
    return observations


def observe(
    target: Target,
    profile: str,
    command: str,
    location: Location | None = None,
    fallback_account_id: str | None = None,
) -> Observation:
    """One profile's credential_process: described, or run and parsed when allowed."""
    head = command.split(maxsplit=1)[0] if command.split() else ""
    base: dict[str, Any] = {
        "source": SOURCE,
        "origin": f"profile {profile}: credential_process",
        "profile": profile,
        "location": location,
    }
    if not target.run_process:
        details: dict[str, DetailValue] = {
            "ran": False,
            "command_head": head,
            "reason": "not run: --run-process not given",
        }
        return Observation(**base, details=details)
    if str(target.root) != "/":
        details = {"ran": False, "command_head": head, "reason": "not run: --root set"}
        return Observation(**base, details=details)
    result = run_command(command, target)
    details = {"ran": True, "command_head": head, "exit_code": result.exit_code}
    if result.error is not None:
        return Observation(
            **base, details=details, problems=(_problem(profile, head, result.error),)
        )
    output = parse_process_output(result.stdout, fallback_account_id)
    problems = (_problem(profile, head, output.error),) if output.error else ()
    return Observation(
        **base,
        **output.fields,
        expires_at=output.expires_at,
        refreshable=output.expiration_present,
        details=details,
        problems=problems,
    )


def _problem(profile: str, head: str, reason: str) -> Problem:
    return Problem(code="CA702", message=f"profile {profile} credential_process ({head}): {reason}")
