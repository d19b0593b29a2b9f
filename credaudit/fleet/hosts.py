"""Hosts' summaries from their ``scan --format json`` reports, however the fleet gathers them
(SSM Run Command output, Ansible fetch, a shared bucket synced to a directory).

Each file is one host, named by its stem (``web-1.json`` is ``web-1``) or, with
``host_from_report``, by the ``host`` the report records.  A file that is not a readable scan
report is one ``InputProblem`` naming it; the other files are read all the same.  When two
files name the same host, its latest report wins.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credaudit.fleet.model import HostCredential, HostSummary

MAX_REPORT_BYTES = 32 * 1024 * 1024
_TRAILING_NUMBER = re.compile(r"[-_.]?\d+$")


@dataclass(frozen=True)
class InputProblem:
    origin: str
    message: str

    def line(self) -> str:
        return f"{self.origin}: {self.message}"


def host_group(host: str) -> str:
    """``web-1`` → ``web``, ``ip-10-0-1-17`` → ``ip-10-0-1``; a name without a trailing
    number is its own group."""
    return _TRAILING_NUMBER.sub("", host) or host


def report_files(paths: Iterable[Path]) -> tuple[list[Path], list[InputProblem]]:
    """The JSON files named, and those directly inside named directories (sorted)."""
    files: list[Path] = []
    problems: list[InputProblem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
            if not found:
                problems.append(InputProblem(str(path), "no *.json reports in this directory"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(InputProblem(str(path), "no such file or directory"))
    return files, problems


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not an instant")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("an instant without a time zone")
    if not 1970 < parsed.year < 9000:  # room for the analysis' arithmetic, and plausible
        raise ValueError(f"implausible instant {value[:40]!r}")
    return parsed.astimezone(UTC)


# No clock is off by more (3,000 years), and the analysis' timedelta arithmetic stays in range;
# the Prometheus reader drops samples beyond the same bound.
MAX_SECONDS = 1e11


def _seconds(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number of seconds: {str(value)[:40]!r}")
    if abs(number) > MAX_SECONDS:
        raise ValueError(f"implausible number of seconds: {str(value)[:40]!r}")
    return number


def summary_from_report(data: Any, host: str, origin: str) -> HostSummary:
    """One host from a parsed scan report; ValueError names what is wrong."""
    if not isinstance(data, dict) or data.get("kind") != "scan":
        raise ValueError('not a credaudit scan report (no "kind": "scan")')
    reported_at = _instant(data.get("evaluated_at"))
    credentials = []
    for index, item in enumerate(data.get("credentials") or []):
        if not isinstance(item, dict):
            raise ValueError(f"credentials[{index}] is not an object")
        if item.get("expires_at") is None:
            continue
        credentials.append(
            HostCredential(
                profile=item.get("profile") if isinstance(item.get("profile"), str) else None,
                source=str(item.get("source") or ""),
                origin=str(item.get("origin") or ""),
                refreshable=item.get("refreshable") is True,
                expires_at=_instant(item["expires_at"]),
            )
        )
    clock = data.get("clock")
    offset = uncertainty = None
    if isinstance(clock, dict):
        offset = _seconds(clock["offset_seconds"])
        uncertainty = _seconds(clock.get("uncertainty_seconds") or 0.0)
    return HostSummary(
        host=host,
        group=host_group(host),
        reported_at=reported_at,
        origin=origin,
        credentials=credentials,
        clock_offset_seconds=offset,
        clock_uncertainty_seconds=uncertainty,
    )


def read_reports(
    paths: Iterable[Path], *, host_from_report: bool = False
) -> tuple[list[HostSummary], list[InputProblem]]:
    files, problems = report_files(paths)
    hosts: dict[str, HostSummary] = {}
    for path in files:
        try:
            if path.stat().st_size > MAX_REPORT_BYTES:
                raise ValueError(f"larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB")
            data = json.loads(path.read_bytes())
            host = path.stem
            if host_from_report:
                recorded = data.get("host") if isinstance(data, dict) else None
                if not isinstance(recorded, str) or not recorded:
                    raise ValueError("the report records no host (scan before credaudit 0.2?)")
                host = recorded
            summary = summary_from_report(data, host, str(path))
        except OSError as exc:
            problems.append(InputProblem(str(path), f"cannot read ({exc.strerror or exc})"))
            continue
        except KeyError as exc:
            problems.append(InputProblem(str(path), f"missing field {exc}"))
            continue
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            reason = "not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
            problems.append(InputProblem(str(path), reason[:200]))
            continue
        known = hosts.get(summary.host)
        if known is None or summary.reported_at > known.reported_at:
            hosts[summary.host] = summary
    return sorted(hosts.values(), key=lambda h: h.host), problems
