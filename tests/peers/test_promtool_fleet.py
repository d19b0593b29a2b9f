"""`promtool test rules` for the fleet alerts (expiry cluster, clock skew, exporter down,
stale scans, scan errors) on series from real runs: ``scan --format prometheus`` of simulated
hosts and scrapes of a running ``credaudit serve``.

Scrapes are one second apart and promtool's interval is one second, so a scrape's instant is
its sample's time.  A series is held past its last scrape (gauges keep their last value,
counters keep their last observed rate) for as long as a rule's ``for:`` needs; the labels
and values themselves are what credaudit served.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from credaudit.cli import cli
from tests.fleet.serve_util import serving
from tests.peers.peer_util import find_binary, require_peer
from tests.peers.test_promtool import RULES, _run
from tests.stubs.servers import date_shifted
from tests.stubs.servers import serving as stub_serving

pytestmark = pytest.mark.peer
Series = dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]
COUNTERS = ("_total",)


@pytest.fixture(scope="module")
def tool() -> Path:
    found = find_binary("CREDAUDIT_PEER_PROMTOOL", "prometheus/promtool", "promtool")
    if found is None:
        require_peer("promtool is not installed (scripts/peers install)")
    return found


def _env(tmp_path: Path, name: str, expiry: datetime) -> Path:
    env = tmp_path / f"{name}.env"
    env.write_text(
        f"HOME={tmp_path}\nAWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A\nAWS_SECRET_ACCESS_KEY=s\n"
        f"AWS_SESSION_TOKEN=t\nAWS_CREDENTIAL_EXPIRATION={expiry.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
    )
    return env


def _add(series: Series, text: str, instance: str, t0: float, fetched: float) -> None:
    """One scrape's samples appended to ``series``: instants relative to ``t0``, the exporter's
    clock as read at this scrape (so its offset from the scrape survives)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            value = sample.value
            if sample.name == "credaudit_clock_time_seconds":
                value = value - fetched + (fetched - t0)
            elif sample.name.endswith("_timestamp_seconds") or sample.name.endswith(
                "_time_seconds"
            ):
                value -= t0
            labels = {**sample.labels, "instance": instance, "job": "credaudit"}
            series.setdefault((sample.name, tuple(sorted(labels.items()))), []).append(value)


def _scan_series(env: Path, at: datetime, instance: str, series: Series) -> None:
    args = [
        "scan",
        "--env-file",
        str(env),
        "--no-network",
        "--at",
        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    result = CliRunner().invoke(cli, [*args, "--format", "prometheus"])
    assert result.exit_code in (0, 1), result.output
    _add(series, result.output, instance, at.timestamp(), at.timestamp())


def _input(series: Series, length: int) -> list[dict[str, str]]:
    rows = []
    for (name, labels), values in sorted(series.items()):
        held = list(values)
        step = held[-1] - held[-2] if name.endswith(COUNTERS) and len(held) > 1 else 0.0
        while len(held) < length:
            held.append(held[-1] + step)
        body = ",".join(f'{k}="{v}"' for k, v in labels)
        rows.append({"series": f"{name}{{{body}}}", "values": " ".join(f"{v:g}" for v in held)})
    return rows


def _test(promtool: Path, tmp_path: Path, rows: list[Any], checks: list[Any]) -> None:
    suite = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1s",
        "tests": [{"interval": "1s", "input_series": rows, "alert_rule_test": checks}],
    }
    path = tmp_path / "suite.yml"
    path.write_text(json.dumps(suite, indent=1))
    result = _run(promtool, "test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def _alert(name: str, at: str, *expected: dict[str, Any]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": list(expected)}


AT = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


def test_expiry_cluster_fires_for_three_hosts_in_one_minute(tool: Path, tmp_path: Path) -> None:
    expiry = AT + timedelta(hours=2, seconds=20)
    series: Series = {}
    for name in ("web-1", "web-2", "web-3"):
        _scan_series(_env(tmp_path, name, expiry), AT, name, series)
    minute = int((expiry - AT).total_seconds()) // 60 * 60
    fired = {
        "exp_labels": {"expiry_minute": str(minute), "severity": "warning"},
        "exp_annotations": {
            "summary": "3 instances' credentials expire in the same minute, "
            "1970-01-01 02:00:00 +0000 UTC",
            "description": "Sessions minted together expire together: every host refreshes (or "
            "fails) at one instant. Refresh by remaining lifetime with jitter (Go's "
            "ExpiryWindowJitterFrac, the credaudit guard), or stagger the jobs. Run `credaudit "
            "fleet` on the hosts' reports and see `credaudit explain CA951`.",
        },
    }
    checks = [
        _alert("CredauditExpiryCluster", "4m"),  # `for: 5m` not yet passed
        _alert("CredauditExpiryCluster", "6m", fired),
        _alert("CredauditExpiryCluster", "2h1m"),  # the minute has passed: no cluster ahead
    ]
    _test(tool, tmp_path, _input(series, 2 * 3600 + 120), checks)


def test_no_cluster_for_two_hosts_or_spread_expiries(tool: Path, tmp_path: Path) -> None:
    series: Series = {}
    for index, name in enumerate(("web-1", "web-2", "web-3", "web-4")):
        expiry = AT + timedelta(hours=2, minutes=2 * (index // 2))  # pairs, two minutes apart
        _scan_series(_env(tmp_path, name, expiry), AT, name, series)
    _test(tool, tmp_path, _input(series, 600), [_alert("CredauditExpiryCluster", "6m")])


def _scrapes(
    served: Any, count: int, every: float = 1.0, between: Callable[[int], None] | None = None
) -> tuple[Series, float]:
    series: Series = {}
    t0 = 0.0
    for index in range(count):
        fetched = time.time()
        text = served.get()
        t0 = t0 or fetched
        _add(series, text, "web-1", t0, fetched)
        if between is not None:
            between(index)
        time.sleep(every)
    return series, t0


def test_clock_skew_fires_on_a_measured_offset_beyond_the_margin(
    tool: Path, tmp_path: Path
) -> None:
    with stub_serving(date_shifted(600)) as ahead:
        args = ["--env-file", str(_env(tmp_path, "web-1", AT)), "--no-network"]
        with serving(
            *args, "--clock-check", "--clock-reference", ahead.url, "--skew-margin", "30s"
        ) as served:
            series, _ = _scrapes(served, 3)
    [offset] = [v for (name, _), v in series.items() if name == "credaudit_clock_offset_seconds"]
    assert -601 < offset[0] < -599  # the local clock is ten minutes behind the reference
    checks = [_alert("CredauditClockSkew", "4m")]
    rows = _input(series, 420)
    [(labels, _)] = [
        (k[1], v) for k, v in series.items() if k[0] == "credaudit_clock_offset_seconds"
    ]
    skew = dict(labels)
    checks.append(
        {
            "eval_time": "6m",
            "alertname": "CredauditClockSkew",
            "exp_alerts": [
                {
                    "exp_labels": {**skew, "severity": "warning"},
                    "exp_annotations": {
                        "summary": f"the clock of web-1 is off by {_humanized(abs(offset[0]) - _uncertainty(series))}",
                        "description": "botocore signs and judges expiry with the local clock "
                        "and never corrects it: past 5 minutes SigV4 requests fail "
                        "(RequestExpired). Fix time sync on the host (chrony, the Amazon Time "
                        "Sync Service). See `credaudit explain CA601` and CA952.",
                    },
                }
            ],
        }
    )
    _test(tool, tmp_path, rows, checks)


def _uncertainty(series: Series) -> float:
    [values] = [
        v for (name, _), v in series.items() if name == "credaudit_clock_uncertainty_seconds"
    ]
    return values[-1]


def _humanized(seconds: float) -> str:
    """promtool's humanizeDuration for 1 min ≤ seconds < 1 h."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m {int(rest)}s"


def test_no_clock_skew_against_a_true_reference(tool: Path, tmp_path: Path) -> None:
    with stub_serving(date_shifted(0)) as true:
        args = ["--env-file", str(_env(tmp_path, "web-1", AT)), "--no-network"]
        with serving(*args, "--clock-check", "--clock-reference", true.url) as served:
            series, _ = _scrapes(served, 2)
    _test(tool, tmp_path, _input(series, 420), [_alert("CredauditClockSkew", "6m")])


def test_stale_scans_and_scan_errors_fire_when_the_target_goes(tool: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, "web-1", AT + timedelta(hours=3))
    with serving("--env-file", str(env), "--no-network", "--interval", "1s") as served:
        # two good scrapes, then the env file disappears: every later scan fails
        series, _ = _scrapes(served, 8, between=lambda i: env.unlink() if i == 1 else None)
    [(_, ups)] = [(k, v) for k, v in series.items() if k[0] == "credaudit_up"]
    assert ups[0] == 1 and ups[-1] == 0
    errors = {
        dict(k[1])["reason"]: v for k, v in series.items() if k[0] == "credaudit_scan_errors_total"
    }
    assert errors["target"][-1] >= 3 and errors["scan"][-1] == 0
    [last_success] = [
        v for k, v in series.items() if k[0] == "credaudit_last_success_timestamp_seconds"
    ]
    scrape = {"instance": "web-1", "job": "credaudit"}
    stale = {
        "exp_labels": {**scrape, "severity": "warning"},
        "exp_annotations": {
            "summary": "credaudit on web-1 last scanned successfully "
            f"{_humanized(360 - last_success[-1])} ago",
            "description": "The metrics it serves are from its last successful scan "
            "(credaudit_up says whether the latest one worked). Check its log (journalctl -u "
            "credaudit, kubectl logs).",
        },
    }
    failing = {
        "exp_labels": {**scrape, "reason": "target", "severity": "warning"},
        "exp_annotations": {
            "summary": "credaudit scans on web-1 fail: target",
            "description": "reason scan: the scan itself failed; target: the audited process "
            "or env file is gone; source: a credential file is unreadable (CA702); clock: "
            "--clock-check gets no answer. The exporter's log names the input.",
        },
    }
    checks = [
        _alert("CredauditScanStale", "4m"),
        _alert("CredauditScanErrors", "9m"),
        _alert("CredauditScanStale", "6m", stale),
        _alert("CredauditScanErrors", "11m", failing),
    ]
    _test(tool, tmp_path, _input(series, 720), checks)


def test_exporter_down_fires_for_a_target_that_served_credaudit(tool: Path, tmp_path: Path) -> None:
    with serving("--env-file", str(_env(tmp_path, "web-1", AT)), "--no-network") as served:
        series, _ = _scrapes(served, 1)
    rows = _input(series, 60)
    # Prometheus' own `up` for the target: up for a minute, then down for ten
    rows.append({"series": 'up{instance="web-1",job="credaudit"}', "values": "1x59 0x600"})
    rows.append({"series": 'up{instance="web-2",job="other"}', "values": "1x59 0x600"})
    down = {
        "exp_labels": {"instance": "web-1", "job": "credaudit", "severity": "warning"},
        "exp_annotations": {
            "summary": "credaudit on web-1 cannot be scraped",
            "description": "The exporter (credaudit serve, or node_exporter serving its "
            "textfile) is down or unreachable: its credentials are not being watched. Check the "
            "unit or the pod.",
        },
    }
    checks = [_alert("CredauditExporterDown", "5m"), _alert("CredauditExporterDown", "7m", down)]
    _test(tool, tmp_path, rows, checks)
