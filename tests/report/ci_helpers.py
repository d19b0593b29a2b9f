"""Small reports for the CI-format tests: real Findings, and the shape every report shares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from credaudit.analysis.rules import make_finding
from credaudit.model import Finding, Location, Severity

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO / ".." / "shared" / "conformance" / "sarif" / "sarif-schema-2.1.0.json"


@dataclass
class Summary:
    fail_on: Severity = Severity.HIGH


@dataclass
class Report:
    """The least a report needs to be rendered by a CI format (report.ci.CiReport)."""

    findings: list[Finding]
    kind: str = "check"
    summary: Summary = field(default_factory=Summary)


def finding(code: str, subject: str = "w", message: str = "m", **kw: Any) -> Finding:
    return make_finding(code, subject=subject, message=message, **kw)


def at(path: str, line: int | None = None) -> Location:
    return Location(path=path, line=line)


def validate_sarif(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(log)
    return log


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update(HOME=str(home), **extra)
    return env


def credaudit(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credaudit", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
