"""`url --format prometheus` and `check --format prometheus`: the expiries JSON reports, as
timestamps, in bounded label sets (no URL, key id or token ever becomes a label)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from credaudit.cli import cli
from tests.test_check import AT as CHECK_AT
from tests.test_check import GOOD, check

Samples = dict[str, list[tuple[dict[str, str], float]]]


def _samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def _presigned(count: int, expires_in: int) -> list[str]:
    """Real botocore presigns with a session key (as a worker with a role would sign)."""
    session = botocore.session.get_session()
    session.set_credentials("ASIAY34FZKBOKMUTVV7A", "secretsecretsecret", "tokentoken")
    client = session.create_client(
        "s3",
        region_name="eu-west-1",
        config=botocore.config.Config(signature_version="s3v4"),
    )
    return [
        client.generate_presigned_url(
            "get_object", Params={"Bucket": "bkt", "Key": f"export/{i}.csv"}, ExpiresIn=expires_in
        )
        for i in range(count)
    ]


@pytest.fixture
def url_file(tmp_path: Path) -> Path:
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(_presigned(3, 7200) + _presigned(2, 600)) + "\n")
    return path


SESSION_EXPIRES = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(*args: str) -> str:
    """The URLs, signed by a session that expires in an hour (the same instant every run)."""
    result = CliRunner().invoke(
        cli, ["url", "--no-network", "--session-expires", SESSION_EXPIRES, *args]
    )
    assert result.exit_code in (0, 1), result.output
    return result.output


def test_url_metrics_hold_the_earliest_real_expiry_per_group(url_file: Path) -> None:
    report = json.loads(_url("--from", str(url_file), "--format", "json"))
    text = _url("--from", str(url_file), "--format", "prometheus")
    metrics = _samples(text)
    groups: dict[tuple[str, ...], list[float]] = {}
    for u in report["urls"]:
        key = (u["service"], u["region"], u["key_kind"], u["status"])
        groups.setdefault(key, []).append(
            datetime.fromisoformat(u["effective_expires_at"]).timestamp()
        )
    names = ("service", "region", "key_kind", "status")
    counts = {tuple(lb[n] for n in names): v for lb, v in metrics["credaudit_urls"]}
    assert counts == {key: len(values) for key, values in groups.items()}
    assert sum(counts.values()) == 5
    soonest = {
        tuple(lb[n] for n in names): v
        for lb, v in metrics["credaudit_url_expiry_timestamp_seconds"]
    }
    assert soonest == {key: min(values) for key, values in groups.items()}
    # the 600 s URLs expire before their 1 h session; the 2 h ones die with the session
    everything = sorted(v for values in groups.values() for v in values)
    assert everything[-1] - everything[0] > 2000
    assert "ASIA" not in text and "export/" not in text and "bkt" not in text


def test_url_groups_split_by_status(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(_presigned(2, 7200)) + "\nnot a url\n")
    metrics = _samples(_url("--from", str(path), "--format", "prometheus"))
    statuses = {labels["status"]: value for labels, value in metrics["credaudit_urls"]}
    assert sum(statuses.values()) == 3
    assert len(statuses) == 2  # the unreadable line is its own group
    codes = {labels["code"] for labels, _ in metrics["credaudit_findings"]}
    assert codes  # the bad line's finding is counted


def test_check_metrics_are_the_workloads_lifetimes() -> None:
    report = json.loads(check("roles.toml", "--format", "json", "--soft-fail").stdout)
    result = check("roles.toml", "--format", "prometheus")
    assert result.returncode == 1, result.stderr  # the gate's verdict is the exit code, as ever
    metrics = _samples(result.stdout)
    at = datetime.fromisoformat(CHECK_AT.replace("Z", "+00:00")).timestamp()
    expiries = {
        labels["workload"]: value
        for labels, value in metrics["credaudit_workload_expiry_timestamp_seconds"]
    }
    want = {
        w["name"]: at + w["session_seconds"]
        for w in report["workloads"]
        if w["session_seconds"] is not None
    }
    assert expiries == want and want
    required = {
        labels["workload"]: value
        for labels, value in metrics["credaudit_workload_required_lifetime_seconds"]
    }
    assert set(required) == {w["name"] for w in report["workloads"]}
    assert metrics["credaudit_scan_failed"] == [({"fail_on": "high"}, 1.0)]
    counted = sum(value for _, value in metrics["credaudit_findings"])
    assert counted == len(report["findings"])
    assert (GOOD / "roles.toml").exists()
