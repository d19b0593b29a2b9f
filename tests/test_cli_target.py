"""How the CLI builds the Target: --pid reads another process's environment, --env-file
reads KEY=VALUE lines, bad input is one line and exit 2, and colour obeys NO_COLOR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.commands import options


def test_pid_audits_what_the_running_process_sees(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_SESSION_EXPIRATION": "2030-01-01T00:00:00Z",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    try:
        time.sleep(0.2)
        result = CliRunner().invoke(
            cli,
            [
                "scan",
                "--pid",
                str(worker.pid),
                "--format",
                "json",
                "--no-network",
                "--at",
                "2029-12-31T23:00:00Z",
            ],
        )
    finally:
        worker.kill()
        worker.wait()
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    [cred] = report["credentials"]
    assert cred["source"] == "env" and cred["remaining_seconds"] == 3600
    assert report["target"]["pid"] == str(worker.pid)
    assert report["target"]["root"] == f"/proc/{worker.pid}/root"


def test_unknown_pid_is_one_line_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "credaudit", "scan", "--pid", "999999999"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["credaudit: process 999999999: no such process"]


def test_env_file_bad_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "worker.env"
    bad.write_text("AWS_PROFILE=x\nthis is not an assignment\n")
    result = subprocess.run(
        [sys.executable, "-m", "credaudit", "scan", "--env-file", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"credaudit: {bad}:2: not a KEY=VALUE line"


def test_internal_error_is_exit_3_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import credaudit.scan

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(credaudit.scan, "run_scan", boom)
    from credaudit.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["scan", "--no-network"])
    assert exc.value.code == 3


@pytest.mark.parametrize(
    ("tty", "no_color", "expected"), [(True, None, True), (True, "1", False), (False, None, False)]
)
def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, no_color: str | None, expected: bool
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert options.color_enabled() is expected


def test_a_source_that_fails_to_import_is_a_ca702_not_a_lost_scan(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import credaudit.sources as sources

    real = sources.importlib.import_module

    def broken(name: str, *args: object) -> object:
        if name == "credaudit.sources.sso_cache":
            raise ImportError("cannot import name 'x' from 'somedep'")
        return real(name, *args)

    monkeypatch.setattr(sources.importlib, "import_module", broken)
    from credaudit.analysis.budget import Budget
    from credaudit.scan import run_scan
    from tests.helpers_home import make_home

    home = make_home(
        tmp_path,
        env={"AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A", "AWS_SECRET_ACCESS_KEY": "s"},
        network=False,
    )
    report = run_scan(home.target, Budget())
    assert report.chain[0].resolved is not None  # the other sources still ran
    assert any(f.code == "CA702" and "sso_cache" in f.message for f in report.findings)
