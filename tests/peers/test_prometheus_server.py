"""A real Prometheus (Debian's prometheus 2.42, unpacked by scripts/peers) scrapes
``credaudit serve`` on loopback and evaluates the project's own alert rules (a copy with
``for:`` shortened).

Four simulated hosts: the bundled example worker (expired env session, critical findings, a
scan pinned to an old instant), and web-1..3 whose sessions expire in the same minute; web-3
measures its clock against a reference ten minutes ahead.  The test holds Prometheus' view to
``scan --format json`` and waits for each alert to fire through ``/api/v1/alerts``; then
web-1 is stopped and the exporter-down alert must fire for it.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from tests.fleet.serve_util import EXAMPLE_ARGS, Served, serving
from tests.peers.peer_util import (
    REPO,
    find_binary,
    free_port,
    require_peer,
    start_process,
    stop_process,
    wait_until,
)
from tests.stubs.servers import date_shifted
from tests.stubs.servers import serving as stub_serving
from tests.test_example import README_ARGS

RULES = REPO / "deploy" / "prometheus" / "credaudit-alerts.yml"
pytestmark = pytest.mark.peer


@dataclass
class Fleet:
    prometheus: str
    hosts: dict[str, Served]
    cluster_expiry: datetime

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.prometheus}{path}?{query}", timeout=5) as answer:
            body = json.load(answer)
        assert body["status"] == "success", body
        return body["data"]

    def firing(self) -> dict[str, list[dict[str, str]]]:
        found: dict[str, list[dict[str, str]]] = {}
        for alert in self.api("/api/v1/alerts")["alerts"]:
            if alert["state"] == "firing":
                found.setdefault(alert["labels"]["alertname"], []).append(alert["labels"])
        return found


def _prometheus() -> Path:
    found = find_binary("CREDAUDIT_PEER_PROMETHEUS", "prometheus/prometheus", "prometheus")
    if found is None:
        require_peer("prometheus is not installed (scripts/peers install)")
    return found


def _fast_rules(target: Path) -> None:
    """The project's rules with every `for:` at 0s and windows short enough for a test."""
    text = RULES.read_text()
    text = re.sub(r"for: \S+", "for: 0s", text)
    target.write_text(text)


def _host_env(tmp_path: Path, name: str, expiry: datetime) -> Path:
    env = tmp_path / f"{name}.env"
    env.write_text(
        f"HOME=/home/{name}\nAWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A\n"
        "AWS_SECRET_ACCESS_KEY=EXAMPLESECRETEXAMPLESECRETEXAMPLE\n"
        "AWS_SESSION_TOKEN=EXAMPLETOKENEXAMPLETOKENEXAMPLETOKEN\n"
        f"AWS_CREDENTIAL_EXPIRATION={expiry.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
    )
    return env


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    binary = _prometheus()
    tmp = tmp_path_factory.mktemp("prometheus")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    expiry = now + timedelta(hours=2, seconds=30)
    with ExitStack() as stack:
        ahead = stack.enter_context(stub_serving(date_shifted(600)))
        hosts: dict[str, Served] = {
            "worker": stack.enter_context(
                serving(*EXAMPLE_ARGS, "--no-network", "--at", "2026-11-22T04:00:00Z")
            )
        }
        for name in ("web-1", "web-2", "web-3"):
            args = ["--env-file", str(_host_env(tmp, name, expiry)), "--no-network"]
            args += ["--interval", "2s"]
            if name == "web-3":
                args += ["--clock-check", "--clock-reference", ahead.url]
            hosts[name] = stack.enter_context(serving(*args))
        _fast_rules(tmp / "rules.yml")
        targets = [
            {"targets": [f"127.0.0.1:{served.port}"], "labels": {"host": name}}
            for name, served in hosts.items()
        ]
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(tmp / "rules.yml")],
            "scrape_configs": [{"job_name": "credaudit", "static_configs": targets}],
        }
        (tmp / "prometheus.yml").write_text(json.dumps(config))
        port = free_port()
        proc = start_process(
            [
                str(binary),
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                "--storage.tsdb.retention.time=1h",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            port,
            timeout=60,
        )
        stack.callback(stop_process, proc)
        running = Fleet(f"http://127.0.0.1:{port}", hosts, expiry)

        def all_up() -> bool:
            active = running.api("/api/v1/targets")["activeTargets"]
            return len(active) == 4 and all(t["health"] == "up" for t in active)

        assert wait_until(all_up, timeout=60, interval=0.5), running.api("/api/v1/targets")
        yield running


def test_prometheus_scrapes_the_expiry_the_json_report_states(fleet: Fleet) -> None:
    result = CliRunner().invoke(cli, [*README_ARGS, "--format", "json"])
    report = json.loads(result.output)
    [expiring] = [c for c in report["credentials"] if c["expires_at"]]
    want = datetime.fromisoformat(expiring["expires_at"]).timestamp()

    def scraped() -> list[Any]:
        query = 'credaudit_credential_expiry_timestamp_seconds{host="worker"}'
        return list(fleet.api("/api/v1/query", query=query)["result"])

    assert wait_until(lambda: bool(scraped()), timeout=30)
    [series] = scraped()
    assert float(series["value"][1]) == want
    assert series["metric"]["origin"] == expiring["origin"]
    [up] = fleet.api("/api/v1/query", query='credaudit_up{host="web-2"}')["result"]
    assert up["value"][1] == "1"


def test_the_projects_alert_rules_fire(fleet: Fleet) -> None:
    expected = {
        "CredauditCredentialOutlivedByWork",
        "CredauditCriticalFinding",
        "CredauditGateFailing",
        "CredauditNotReporting",
        "CredauditExpiryCluster",
        "CredauditClockSkew",
    }
    assert wait_until(lambda: expected <= set(fleet.firing()), timeout=60, interval=0.5), sorted(
        fleet.firing()
    )
    firing = fleet.firing()
    assert {a["host"] for a in firing["CredauditCredentialOutlivedByWork"]} == {"worker"}
    critical = {(a["host"], a["code"]) for a in firing["CredauditCriticalFinding"]}
    assert critical == {("worker", "CA107"), ("worker", "CA108")}  # as in the promtool test
    [cluster] = firing["CredauditExpiryCluster"]
    minute = int(fleet.cluster_expiry.timestamp()) // 60 * 60
    assert cluster["expiry_minute"] == str(minute)
    assert {a["host"] for a in firing["CredauditClockSkew"]} == {"web-3"}
    assert "CredauditExporterDown" not in firing


def test_credaudit_fleet_asks_the_real_prometheus(fleet: Fleet) -> None:
    def findings() -> list[dict[str, Any]]:
        result = CliRunner().invoke(
            cli, ["fleet", "--prometheus", fleet.prometheus, "--format", "json", "--soft-fail"]
        )
        assert result.exit_code == 0, result.output
        found: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
        return found

    def all_three() -> bool:
        return {"CA951", "CA952", "CA953"} <= {f["code"] for f in findings()}

    assert wait_until(all_three, timeout=30)
    by_code = {f["code"]: f for f in findings()}
    cluster = by_code["CA951"]["details"]
    assert cluster["host_names"] == "web-1,web-2,web-3"  # the `host` target label
    assert cluster["instant"] == fleet.cluster_expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert by_code["CA952"]["subject"] == "web-3"
    assert -601 < by_code["CA952"]["details"]["offset_seconds"] < -599
    assert by_code["CA953"]["subject"] == "worker"  # its scans are pinned to 2026-11-22


def test_a_stopped_exporter_fires_exporter_down(fleet: Fleet) -> None:
    served = fleet.hosts["web-1"]
    served.proc.terminate()
    assert served.proc.wait(timeout=10) == 0

    def down() -> bool:
        return any(a["host"] == "web-1" for a in fleet.firing().get("CredauditExporterDown", []))

    assert wait_until(down, timeout=60, interval=0.5), fleet.firing()
    assert [a["host"] for a in fleet.firing()["CredauditExporterDown"]] == ["web-1"]


def test_prometheus_binary_is_the_debian_one() -> None:
    proc = subprocess.run(
        [str(_prometheus()), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0
    assert re.search(r"prometheus, version 2\.\d+", proc.stdout + proc.stderr)
