"""Prometheus's own promtool judges the metrics and the shipped alert rules.

`promtool check metrics` lints real scan output; `promtool test rules` runs the alert rules of
deploy/prometheus/credaudit-alerts.yml over series made from real scan output (the bundled
example), with its timestamps moved so the scan happened at promtool's time zero.  A test that
expects the wrong thing must make promtool fail, so the harness cannot pass vacuously.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from credaudit.cli import cli
from tests.peers.peer_util import REPO, find_binary, require_peer
from tests.test_example import README_ARGS

RULES = REPO / "deploy" / "prometheus" / "credaudit-alerts.yml"
SCRAPE = {"instance": "worker-1:9100", "job": "node"}
pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def promtool() -> Path:
    found = find_binary("CREDAUDIT_PEER_PROMTOOL", "prometheus/promtool", "promtool")
    if found is None:
        require_peer("promtool is not installed (scripts/peers install)")
    return found


def _scan(*extra: str) -> str:
    result = CliRunner().invoke(cli, [*README_ARGS, "--format", "prometheus", *extra])
    assert result.exit_code == 1, result.output
    return result.output


def _run(promtool: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def _series(text: str, minutes: int) -> list[dict[str, str]]:
    """Every sample as a promtool input series, constant for ``minutes``, with the scan's
    instant at time zero (timestamps become seconds since the scan) and scrape labels."""
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    at = next(s.value for s in samples if s.name == "credaudit_scan_timestamp_seconds")
    series = []
    for sample in samples:
        value = sample.value - at if sample.name.endswith("_timestamp_seconds") else sample.value
        labels = {**sample.labels, **SCRAPE}
        body = ",".join(
            f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
            for k, v in sorted(labels.items())
        )
        series.append({"series": f"{sample.name}{{{body}}}", "values": f"{value:g}x{minutes}"})
    return series


def _alert(name: str, at: str, *expected: dict[str, Any]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": list(expected)}


def _test_rules(promtool: Path, tmp_path: Path, series: list[Any], checks: list[Any]) -> Any:
    suite = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    path = tmp_path / "suite.yml"
    path.write_text(json.dumps(suite, indent=1))  # JSON is YAML
    return _run(promtool, "test", "rules", str(path))


def test_promtool_lints_scan_output_clean(promtool: Path) -> None:
    result = _run(promtool, "check", "metrics", stdin=_scan())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""  # no lint complaints


def test_promtool_accepts_the_alert_rules(promtool: Path) -> None:
    result = _run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


def _batch_labels() -> dict[str, str]:
    return {
        "account_id": "609629065308",
        "kind": "temporary",
        "origin": "env:AWS_ACCESS_KEY_ID",
        "profile": "batch",
        "refreshable": "false",
        "source": "env",
        **SCRAPE,
    }


def _outlived(left: str) -> dict[str, Any]:
    return {
        "exp_labels": {**_batch_labels(), "severity": "critical"},
        "exp_annotations": {
            "summary": f"env credentials of profile batch on worker-1:9100 expire in {left}, "
            "before the work they serve can finish",
            "description": "Static temporary credentials (env:AWS_ACCESS_KEY_ID) cannot be "
            "refreshed by the SDK: requests after their expiry fail with ExpiredToken. Use a "
            "refreshable source (a role profile, SSO, the platform's role). See `credaudit "
            "explain CA102`.",
        },
    }


def test_alerts_fire_on_the_example_scan(promtool: Path, tmp_path: Path) -> None:
    series = _series(_scan(), minutes=200)
    critical = [
        {
            "exp_labels": {
                "code": code,
                "profile": profile,
                "severity": "critical",
                **SCRAPE,  # the target labels reach the alert, for routing
            },
            "exp_annotations": {
                "summary": f"credaudit {code} on worker-1:9100 (profile {profile})",
                "description": f"Run `credaudit explain {code}` for what it means and the fix.",
            },
        }
        for code, profile in (("CA107", "ops"), ("CA108", "sidecar"))
    ]
    gate = {
        "exp_labels": {**SCRAPE, "fail_on": "high", "severity": "warning"},
        "exp_annotations": {
            "summary": "credaudit findings at or above --fail-on on worker-1:9100",
            "description": "Run `credaudit scan` on the host for the findings and their fixes.",
        },
    }
    stale = {
        "exp_labels": {**SCRAPE, "severity": "warning"},
        "exp_annotations": {
            "summary": "credaudit has not reported from worker-1:9100 for 2h 20m 0s",
            "description": "Check the timer or cron job that runs `credaudit scan --format "
            "prometheus`.",
        },
    }
    checks = [
        # the env session has 1h left and the work needs 2h20m: fires once `for: 5m` has passed
        _alert("CredauditCredentialOutlivedByWork", "3m"),
        _alert("CredauditCredentialOutlivedByWork", "10m", _outlived("50m 0s")),
        _alert("CredauditCriticalFinding", "10m", *critical),
        _alert("CredauditGateFailing", "20m"),
        _alert("CredauditGateFailing", "40m", gate),
        _alert("CredauditNotReporting", "1h"),
        _alert("CredauditNotReporting", "2h20m", stale),
    ]
    result = _test_rules(promtool, tmp_path, series, checks)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_short_budget_alerts_only_when_the_credential_gets_close(
    promtool: Path, tmp_path: Path
) -> None:
    # --run-time 10m: the work needs max(10m, --min-remaining 15m) = 15m of the 1h left
    series = _series(_scan("--run-time", "10m", "--queue-dwell", "0s"), minutes=90)
    checks = [
        _alert("CredauditCredentialOutlivedByWork", "40m"),  # 20m left > 15m
        _alert("CredauditCredentialOutlivedByWork", "55m", _outlived("5m 0s")),  # < 15m at 46m
    ]
    result = _test_rules(promtool, tmp_path, series, checks)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails_promtool(promtool: Path, tmp_path: Path) -> None:
    series = _series(_scan(), minutes=30)
    result = _test_rules(
        promtool, tmp_path, series, [_alert("CredauditCredentialOutlivedByWork", "10m")]
    )
    assert result.returncode != 0
    assert "CredauditCredentialOutlivedByWork" in result.stdout + result.stderr
