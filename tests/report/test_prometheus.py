"""`scan --format prometheus`: the exposition parses, and every value is the JSON report's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from credaudit.cli import cli
from tests.test_example import README_ARGS

AT = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def _scan(*extra: str) -> str:
    result = CliRunner().invoke(cli, [*README_ARGS, *extra])
    assert result.exit_code == 1, result.output
    return result.output


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def test_metrics_carry_the_reports_values() -> None:
    report = json.loads(_scan("--format", "json"))
    metrics = _samples(_scan("--format", "prometheus"))

    assert metrics["credaudit_scan_timestamp_seconds"] == [({}, AT.timestamp())]
    assert metrics["credaudit_scan_failed"] == [({"fail_on": "high"}, 1.0)]
    assert metrics["credaudit_build_info"][0][0]["version"]

    info = {labels["origin"]: labels for labels, _ in metrics["credaudit_credential_info"]}
    assert set(info) == {c["origin"] for c in report["credentials"]}
    batch = info["env:AWS_ACCESS_KEY_ID"]
    assert batch == {
        "profile": "batch",
        "source": "env",
        "origin": "env:AWS_ACCESS_KEY_ID",
        "kind": "temporary",
        "refreshable": "false",
        "account_id": "609629065308",
    }
    [(labels, expiry)] = metrics["credaudit_credential_expiry_timestamp_seconds"]
    assert labels == batch
    assert expiry == AT.timestamp() + 3600  # 05:00Z, as in the JSON
    [(_, required)] = metrics["credaudit_credential_required_lifetime_seconds"]
    assert required == 2 * 3600 + 20 * 60  # --run-time 2h + --queue-dwell 20m

    counts: dict[tuple[str, str, str], float] = {}
    for finding in report["findings"]:
        key = (finding["code"], finding["severity"], finding["profile"] or "")
        counts[key] = counts.get(key, 0) + 1
    exported = {
        (labels["code"], labels["severity"], labels["profile"]): value
        for labels, value in metrics["credaudit_findings"]
    }
    assert exported == counts
    assert exported[("CA701", "medium", "")] == 4

    chain = {
        (labels["profile"], labels["source"]): v
        for labels, v in metrics["credaudit_chain_resolved"]
    }
    assert chain[("batch", "env")] == 1.0
    assert chain[("default", "none")] == 0.0
    assert metrics["credaudit_probe_status"] == [({"probe": "imds", "status": "skipped"}, 1.0)]


def test_a_key_id_never_becomes_a_label() -> None:
    text = _scan("--format", "prometheus")
    assert "ASIA" not in text and "AKIA" not in text  # not even masked: it churns series


def test_passing_scan_exports_failed_zero_and_no_finding_series(tmp_path: Path) -> None:
    home = tmp_path
    env = home / "env"
    env.write_text(
        "AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A\nAWS_SECRET_ACCESS_KEY=s\nAWS_SESSION_TOKEN=t\n"
        "AWS_CREDENTIAL_EXPIRATION=2030-01-01T08:00:00Z\n"
        f"HOME={home}\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            "--env-file",
            str(env),
            "--no-network",
            "--at",
            "2030-01-01T00:00:00Z",
            "--format",
            "prometheus",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = _samples(result.output)
    assert metrics["credaudit_scan_failed"] == [({"fail_on": "high"}, 0.0)]
    assert "credaudit_findings" not in metrics
    [(_, expiry)] = metrics["credaudit_credential_expiry_timestamp_seconds"]
    assert expiry == datetime(2030, 1, 1, 8, tzinfo=UTC).timestamp()
    [(_, required)] = metrics["credaudit_credential_required_lifetime_seconds"]
    assert required == 15 * 60  # no budget given: the default --min-remaining
