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


def _image(tmp_path: Path, *users: str) -> Path:
    """A mounted image tree: a static key in each named user's ~/.aws/credentials."""
    root = tmp_path / "image"
    (root / "home").mkdir(parents=True)
    for user in users:
        home = root / ("root" if user == "root" else f"home/{user}")
        (home / ".aws").mkdir(parents=True)
        (home / ".aws" / "credentials").write_text(
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
        )
    (root / "home" / "nobody").mkdir()  # a home without .aws is not a candidate
    return root


def _scan_json(*args: str, env: dict[str, str]) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["scan", "--no-network", "--format", "json", *args], env=env)
    assert result.exit_code in (0, 1), result.output
    report: dict[str, object] = json.loads(result.output)
    return report


def test_root_alone_does_not_lend_the_image_this_shells_environment(tmp_path: Path) -> None:
    # The operator's own session keys and profile must not be reported as the image's.
    shell = {
        "AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A",
        "AWS_SECRET_ACCESS_KEY": "operator-secret",
        "AWS_PROFILE": "operator-profile",
        "HOME": str(tmp_path / "operator-home"),
    }
    report = _scan_json("--root", str(_image(tmp_path, "app")), env=shell)
    target = report["target"]
    assert isinstance(target, dict)
    assert target["environment"] == options.ROOT_WITHOUT_ENV
    assert target["home"] == "/home/app"  # the one home in the image that has ~/.aws
    credentials = report["credentials"]
    assert isinstance(credentials, list)
    assert [(c["profile"], c["source"]) for c in credentials] == [
        ("default", "shared-credentials-file")
    ]


def test_root_with_env_file_uses_that_environment(tmp_path: Path) -> None:
    root = _image(tmp_path, "app")
    env_file = tmp_path / "image.env"
    env_file.write_text("AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A\nAWS_SECRET_ACCESS_KEY=s\n")
    report = _scan_json("--root", str(root), "--env-file", str(env_file), env={})
    target = report["target"]
    assert isinstance(target, dict) and "environment" not in target
    credentials = report["credentials"]
    assert isinstance(credentials, list)
    assert credentials[0]["source"] == "env"


def test_root_with_several_aws_homes_keeps_root_home_and_says_so(tmp_path: Path) -> None:
    root = _image(tmp_path, "app", "batch")
    result = CliRunner().invoke(cli, ["scan", "--no-network", "--root", str(root)], env={})
    assert result.exit_code in (0, 1), result.output
    assert f"environment: {options.ROOT_WITHOUT_ENV}; home: /root" in result.output
    assert "No credentials found." in result.output
    chosen = _scan_json("--root", str(root), "--home", "/home/batch", env={})
    credentials = chosen["credentials"]
    assert isinstance(credentials, list) and len(credentials) == 1


def test_root_slash_is_this_host_with_this_environment(tmp_path: Path) -> None:
    shell = {
        "AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A",
        "AWS_SECRET_ACCESS_KEY": "s",
        "HOME": str(tmp_path),
    }
    report = _scan_json("--root", "/", env=shell)
    target = report["target"]
    assert isinstance(target, dict) and "environment" not in target
    credentials = report["credentials"]
    assert isinstance(credentials, list)
    assert [c["source"] for c in credentials] == ["env"]
