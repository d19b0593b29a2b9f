"""The README's bundled example must keep showing what it promises, on any date."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "batch-worker"
README_ARGS = [
    "scan",
    "--root",
    str(EXAMPLE),
    "--env-file",
    str(EXAMPLE / "worker.env"),
    "--all-profiles",
    "--at",
    "2026-11-22T04:00:00Z",
    "--run-time",
    "2h",
    "--queue-dwell",
    "20m",
    "--no-network",
]


def _run(*extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "credaudit", *README_ARGS, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_readme_command_is_the_one_tested() -> None:
    readme = (REPO / "README.md").read_text()
    assert "--root docs/examples/batch-worker" in readme
    assert "--at 2026-11-22T04:00:00Z --run-time 2h --queue-dwell 20m" in readme


def test_example_shows_at_least_four_codes_with_their_reasons() -> None:
    result = _run("--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    codes = {f["code"] for f in report["findings"]}
    assert {"CA102", "CA106", "CA107", "CA108", "CA401", "CA404"} <= codes
    by_profile = {c["profile"]: c for c in report["credentials"]}
    # leftover env credentials win for the worker's AWS_PROFILE=batch
    assert by_profile["batch"]["source"] == "env"
    assert by_profile["batch"]["remaining_seconds"] == 3600
    assert by_profile["batch"]["account_id"] == "609629065308"


def test_example_table_names_the_codes_and_the_verdict() -> None:
    result = _run("--format", "table")
    assert result.returncode == 1
    for code in ("CA102", "CA107", "CA108", "CA401"):
        assert code in result.stdout
    assert "fail-on high: FAIL" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour
