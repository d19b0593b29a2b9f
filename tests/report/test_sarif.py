"""SARIF 2.1.0 of scan, url and check validates against the OASIS schema and locates results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from credaudit.model import Location, Severity
from credaudit.presign.model import UrlReport
from credaudit.report import sarif
from tests.presign.helpers import presign
from tests.report.ci_helpers import Report, at, bare_env, credaudit, finding, validate_sarif

AT = "2030-01-01T12:00:00Z"


def test_empty_report_is_valid_with_no_rules() -> None:
    log = validate_sarif(sarif.render(Report([])))
    run = log["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["automationDetails"]["id"] == "credaudit/check/"


def test_one_rule_per_code_and_index_points_at_it() -> None:
    report = Report(
        [
            finding("CA201", "a", location=at("credaudit.toml", 3)),
            finding("CA105", "b", location=at("credaudit.toml", 9)),
            finding("CA201", "c", location=at("credaudit.toml", 14)),
        ]
    )
    run = validate_sarif(sarif.render(report))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["CA105", "CA201"]
    assert rules[0]["name"] == "DurationBeyondCeiling"
    assert [(r["ruleId"], r["ruleIndex"]) for r in run["results"]] == [
        ("CA201", 1),
        ("CA105", 0),
        ("CA201", 1),
    ]
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]]
    assert lines == [3, 9, 14]
    # Distinct findings get distinct fingerprints; the same finding keeps its own.
    prints = [r["partialFingerprints"]["credauditFinding/v1"] for r in run["results"]]
    assert len(set(prints)) == 3
    assert prints == [
        r["partialFingerprints"]["credauditFinding/v1"]
        for r in json.loads(sarif.render(report))["runs"][0]["results"]
    ]


def test_levels_follow_severity() -> None:
    report = Report(
        [
            finding("CA101"),
            finding("CA102", severity=Severity.MEDIUM),
            finding("CA106"),
            finding("CA302", severity=Severity.INFO),
        ]
    )
    levels = [r["level"] for r in validate_sarif(sarif.render(report))["runs"][0]["results"]]
    assert levels == ["error", "warning", "note", "note"]


def test_absolute_paths_become_file_uris_and_env_vars_logical_locations() -> None:
    report = Report(
        [
            finding("CA702", location=at("/home/app/.aws/config", 4)),
            finding("CA102", location=Location(env_var="AWS_ACCESS_KEY_ID")),
            finding(
                "CA303",
                location=Location(
                    url="https://b.s3.amazonaws.com/k?X-Amz-Security-Token=CANARYTOKEN7f3a", line=2
                ),
            ),
        ]
    )
    text = sarif.render(report)
    assert "CANARYTOKEN7f3a" not in text
    results = validate_sarif(text)["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "file:///home/app/.aws/config"
    )
    assert results[1]["locations"][0]["logicalLocations"] == [
        {"name": "AWS_ACCESS_KEY_ID", "kind": "variable"}
    ]
    physical = results[2]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "https://b.s3.amazonaws.com/k"
    assert physical["region"]["startLine"] == 2


def test_scan_sarif_validates(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text("[profile broken\nregion = us-east-1\n")
    (aws / "config").chmod(0o600)
    env = bare_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="ASIAY34FZKBOKMUTVV7A",
        AWS_SECRET_ACCESS_KEY="not-a-real-secret",
        AWS_SESSION_TOKEN="not-a-real-token",
        AWS_CREDENTIAL_EXPIRATION="2030-01-01T12:10:00Z",
    )
    result = credaudit(
        ["scan", "--no-network", "--at", AT, "--run-time", "1h", "--format", "sarif"], env
    )
    assert result.returncode == 1, result.stderr
    assert "not-a-real" not in result.stdout
    run = validate_sarif(result.stdout)["runs"][0]
    assert run["automationDetails"]["id"] == "credaudit/scan/"
    ids = {r["ruleId"] for r in run["results"]}
    assert "CA102" in ids and "CA702" in ids
    located = next(r for r in run["results"] if r["ruleId"] == "CA702")
    uri = located["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == (aws / "config").as_uri()


def test_url_sarif_validates(tmp_path: Path) -> None:
    url = presign(token="TOKEN-xyz", expires=7200)
    env = bare_env(tmp_path)
    result = credaudit(
        ["url", url, "--no-network", "--session-expires", "+20m", "--format", "json"], env
    )
    report = TypeAdapter(UrlReport).validate_json(result.stdout)
    text = sarif.render(report)
    assert "TOKEN-xyz" not in text
    run = validate_sarif(text)["runs"][0]
    assert run["automationDetails"]["id"] == "credaudit/url/"
    assert "CA301" in {r["ruleId"] for r in run["results"]}
    assert {r["ruleId"] for r in run["results"]} == {f.code for f in report.findings}


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "markdown"])
def test_url_command_speaks_every_ci_format_without_the_token(tmp_path: Path, fmt: str) -> None:
    url = presign(token="TOKEN-ci-canary", expires=7200)
    result = credaudit(
        ["url", url, "--no-network", "--session-expires", "+20m", "--format", fmt],
        bare_env(tmp_path),
    )
    assert "TOKEN-ci-canary" not in result.stdout + result.stderr
    assert "CA301" in result.stdout
    if fmt == "sarif":
        run = validate_sarif(result.stdout)["runs"][0]
        assert "CA301" in {r["ruleId"] for r in run["results"]}
