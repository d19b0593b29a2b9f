"""Secrets never leave through the fleet: the canaries of tests/test_canary.py, in every
source, must not reach `serve`'s /metrics, /healthz or log, nor any format of `fleet`, nor
`url --format prometheus`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.commands.fleet import FLEET_FORMATS
from tests.fleet.serve_util import serving
from tests.test_canary import CANARIES, _home


def _leaked(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


def _canary_args(tmp_path: Path) -> list[str]:
    home, paths = _home(tmp_path)
    return [
        "--home",
        str(home),
        "--env-file",
        paths["env_file"],
        "--all-profiles",
        "--run-process",
        "--probe-timeout",
        "0.3s",
    ]


def test_serve_leaks_no_canary(tmp_path: Path) -> None:
    with serving(*_canary_args(tmp_path), "--interval", "1s") as served:
        text = served.get() + served.get("/healthz")
        served.proc.terminate()
        served.proc.wait(timeout=10)
        assert served.proc.stderr is not None
        text += served.proc.stderr.read()
    assert "credaudit_credential_info" in text  # the sources were read
    assert "ASIAENVKEY0000000001" not in text
    assert _leaked(text) == []


@pytest.mark.parametrize("fmt", FLEET_FORMATS)
def test_fleet_leaks_no_canary(tmp_path: Path, fmt: str) -> None:
    scan = CliRunner().invoke(cli, ["scan", *_canary_args(tmp_path), "--format", "json"])
    assert scan.exit_code in (0, 1)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "web-1.json").write_text(scan.stdout)
    (reports / "web-2.json").write_text(CANARIES["corrupt"])  # a bad file is quoted by name only
    result = CliRunner().invoke(cli, ["fleet", str(reports), "--format", fmt])
    assert result.exit_code == 2
    assert "web-1" in result.stdout
    assert _leaked(result.stdout + result.stderr) == []


def test_url_prometheus_leaks_no_canary() -> None:
    token = CANARIES["envtoken"]
    url = (
        "https://bkt.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=ASIAY34FZKBOKMUTVV7A%2F20261122%2Feu-west-1%2Fs3%2Faws4_request"
        f"&X-Amz-Date=20261122T030000Z&X-Amz-Expires=3600&X-Amz-Security-Token={token}"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "ab" * 32
    )
    result = CliRunner().invoke(
        cli, ["url", "--no-network", "--at", "2026-11-22T03:10:00Z", "--format", "prometheus", url]
    )
    assert result.exit_code in (0, 1), result.output
    assert "credaudit_urls" in result.stdout
    assert _leaked(result.stdout) == [] and "ASIA" not in result.stdout


def test_check_prometheus_leaks_no_secret() -> None:
    from tests.test_check import check

    out = check("profiles.toml", "--format", "prometheus").stdout
    assert "credaudit_workload_required_lifetime_seconds" in out
    assert "not-a-real-secret" not in out and "AKIAY34FZKBOKMUTVV7A" not in out
