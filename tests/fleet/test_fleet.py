"""``credaudit fleet`` on simulated hosts' reports, written by real scans: with and without an
expiry cluster, skewed clocks measured against a shifted reference, silent hosts, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from credaudit.cli import cli
from credaudit.fleet.analysis import ADVISORY_REFRESH, analyse, clusters, events_of
from credaudit.fleet.hosts import host_group, read_reports
from credaudit.fleet.model import ExpiryEvent, HostCredential, HostSummary
from credaudit.model import Severity
from credaudit.report import fleet_html, fleet_text
from tests.fleet.serve_util import clean_env
from tests.stubs.servers import date_shifted
from tests.stubs.servers import serving as stub_serving

AT = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scan_report(
    tmp_path: Path, name: str, expiry: datetime, at: datetime = AT, *extra: str
) -> Path:
    """A host's report, as `credaudit scan --format json` writes it on that host."""
    env = tmp_path / f"{name}.env"
    env.write_text(
        f"HOME={tmp_path}\nAWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A\nAWS_SECRET_ACCESS_KEY=s\n"
        f"AWS_SESSION_TOKEN=t\nAWS_CREDENTIAL_EXPIRATION={_stamp(expiry)}\n"
    )
    args = ["scan", "--env-file", str(env), "--no-network", "--at", _stamp(at), *extra]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    path = reports / f"{name}.json"
    path.write_text(result.stdout)
    return path


def _fleet(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["fleet", "--at", _stamp(AT + timedelta(minutes=5)), *args])
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> tuple[int, dict[str, object]]:
    code, out, _ = _fleet(*args, "--format", "json")
    return code, json.loads(out)


def test_hosts_expiring_in_one_minute_are_a_cluster(tmp_path: Path) -> None:
    base = AT + timedelta(hours=2)
    for index in range(4):
        _scan_report(tmp_path, f"web-{index + 1}", base + timedelta(seconds=17 * index))
    _scan_report(tmp_path, "batch-1", base + timedelta(hours=3))
    code, report = _json(str(tmp_path / "reports"))
    assert code == 1  # CA951 is high: at --fail-on high
    findings = report["findings"]
    assert isinstance(findings, list)
    [cluster] = [f for f in findings if f["code"] == "CA951"]
    assert cluster["severity"] == "high"
    assert cluster["details"] == {
        "hosts": 4,
        "host_names": "web-1,web-2,web-3,web-4",
        "instant": _stamp(base),
        "last_instant": _stamp(base + timedelta(seconds=51)),
        "spread_seconds": 51,
        "window_seconds": 120,
        "event": "expiry",
    }
    assert "ExpiryWindowJitterFrac" in cluster["remediation"]
    assert [f["code"] for f in findings] == ["CA951"]


def test_spread_expiries_and_too_few_hosts_are_no_cluster(tmp_path: Path) -> None:
    base = AT + timedelta(hours=2)
    for index in range(5):  # three minutes apart: never three in a 2-minute window
        _scan_report(tmp_path, f"web-{index}", base + timedelta(minutes=3 * index))
    code, report = _json(str(tmp_path / "reports"))
    assert code == 0 and report["findings"] == []
    code, report = _json(str(tmp_path / "reports"), "--window", "7m")  # 3 within 6 minutes
    assert [f["details"]["hosts"] for f in report["findings"]] == [3]  # type: ignore[index]
    code, report = _json(str(tmp_path / "reports"), "--window", "7m", "--min-hosts", "4")
    assert report["findings"] == []


def test_clock_skew_from_the_hosts_clock_checks(tmp_path: Path) -> None:
    with stub_serving(date_shifted(400)) as ahead, stub_serving(date_shifted(0)) as true:
        for name, reference in (("web-1", ahead), ("web-2", true)):
            _scan_report(
                tmp_path,
                name,
                AT + timedelta(hours=5),
                AT,
                "--clock-check",
                "--clock-reference",
                reference.url,
            )
    code, report = _json(str(tmp_path / "reports"))
    findings = report["findings"]
    assert isinstance(findings, list)
    [skew] = findings
    assert skew["code"] == "CA952" and skew["subject"] == "web-1"
    assert skew["severity"] == "high"  # beyond SigV4's five minutes
    assert -401 < skew["details"]["offset_seconds"] < -399
    assert code == 1


def test_silent_hosts(tmp_path: Path) -> None:
    _scan_report(tmp_path, "web-1", AT + timedelta(hours=5), AT - timedelta(hours=3))
    _scan_report(tmp_path, "web-2", AT + timedelta(hours=5), AT)
    code, report = _json(str(tmp_path / "reports"))
    findings = report["findings"]
    assert isinstance(findings, list)
    [silent] = findings
    assert (silent["code"], silent["subject"]) == ("CA953", "web-1")
    assert silent["details"]["age_seconds"] == 3 * 3600 + 300
    assert code == 0  # medium, below --fail-on high
    _, report = _json(str(tmp_path / "reports"), "--silent-after", "4h")
    assert report["findings"] == []


def test_host_names_from_the_reports(tmp_path: Path) -> None:
    for index in range(3):
        path = _scan_report(tmp_path, f"collected-{index}", AT + timedelta(hours=2))
        data = json.loads(path.read_text())
        assert data["host"]  # scan records the host that ran it
        data["host"] = f"ip-10-0-0-{index + 10}"
        path.write_text(json.dumps(data))
    _, by_stem = _json(str(tmp_path / "reports"))
    _, by_host = _json(str(tmp_path / "reports"), "--host-from-report")
    names = [h["host"] for h in by_host["hosts"]]  # type: ignore[union-attr]
    assert names == ["ip-10-0-0-10", "ip-10-0-0-11", "ip-10-0-0-12"]
    assert [h["host"] for h in by_stem["hosts"]] == [  # type: ignore[union-attr]
        "collected-0",
        "collected-1",
        "collected-2",
    ]
    assert {h["group"] for h in by_host["hosts"]} == {"ip-10-0-0"}  # type: ignore[union-attr]


def test_a_bad_file_is_one_line_and_the_rest_is_analysed(tmp_path: Path) -> None:
    for index in range(3):
        _scan_report(tmp_path, f"web-{index}", AT + timedelta(hours=2))
    reports = tmp_path / "reports"
    (reports / "torn.json").write_text('{"kind": "scan", "evaluated_at": ')
    (reports / "other.json").write_text('{"kind": "url"}')
    code, out, err = _fleet(str(reports))
    assert code == 2
    assert "CA951" in out  # the three good reports were analysed
    lines = err.strip().splitlines()
    assert lines == [
        f'credaudit: {reports / "other.json"}: not a credaudit scan report (no "kind": "scan")',
        f"credaudit: {reports / 'torn.json'}: not JSON",
    ]


def _fleet_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credaudit", "fleet", *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )


def test_no_input_and_both_inputs_are_bad_usage(tmp_path: Path) -> None:
    for args in ([], [str(tmp_path), "--prometheus", "http://127.0.0.1:9/"]):
        proc = _fleet_process(*args)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            "credaudit: give report files or directories, or --prometheus URL (one of them)"
        ]
    proc = _fleet_process(str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no such file or directory" in proc.stderr
    assert "no readable report" in proc.stderr


def test_an_unreachable_prometheus_is_one_line(tmp_path: Path) -> None:
    proc = _fleet_process("--prometheus", "http://127.0.0.1:9/")
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("credaudit: --prometheus http://127.0.0.1:9/: ")


def test_the_histogram_draws_the_cluster_as_one_bar(tmp_path: Path) -> None:
    base = AT + timedelta(hours=2)
    for index in range(4):
        _scan_report(tmp_path, f"web-{index}", base + timedelta(seconds=5 * index))
    _scan_report(tmp_path, "batch-0", base + timedelta(hours=1))
    _, table, _ = _fleet(str(tmp_path / "reports"))
    bars = [line for line in table.splitlines() if line.startswith("2026-12-02 ")]
    assert bars[0].split() == ["2026-12-02", "06:00", "BBBB", "4"]  # web = B
    assert bars[-1].split() == ["2026-12-02", "07:00", "A", "1"]  # batch = A
    _, markdown, _ = _fleet(str(tmp_path / "reports"), "--format", "markdown")
    assert "```text" in markdown and "| web-0" in markdown


def test_html_is_one_self_contained_page_with_an_svg(tmp_path: Path) -> None:
    for index in range(3):
        _scan_report(tmp_path, f"web-{index}", AT + timedelta(hours=2))
    _scan_report(tmp_path, "<script>alert(1)", AT + timedelta(hours=4))
    _, page, _ = _fleet(str(tmp_path / "reports"), "--format", "html")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    links = [u for u in __import__("re").findall(r"(?:src|href)=\"([^\"]+)", page)]
    assert links == []  # nothing is fetched
    assert page.count("<rect") >= 3


# -- the analysis, in-process ------------------------------------------------------------------


def _host(name: str, *expiries: datetime, refreshable: bool = False) -> HostSummary:
    return HostSummary(
        host=name,
        group=host_group(name),
        reported_at=AT,
        origin=name,
        credentials=[
            HostCredential(
                profile=None,
                source="iam-role",
                origin="imds",
                refreshable=refreshable,
                expires_at=e,
            )
            for e in expiries
        ],
    )


def test_refreshable_credentials_cluster_at_their_refresh() -> None:
    expiry = AT + timedelta(hours=6)
    hosts = [_host(f"node-{i}", expiry, refreshable=True) for i in range(3)]
    report = analyse(
        hosts,
        now=AT,
        window=timedelta(minutes=2),
        min_hosts=3,
        skew_margin=timedelta(0),
        silent_after=timedelta(hours=2),
        fail_on=Severity.HIGH,
        inputs=[],
    )
    [finding] = report.findings
    assert finding.details["event"] == "refresh"
    assert finding.details["instant"] == _stamp(expiry - ADVISORY_REFRESH)
    assert finding.severity is Severity.MEDIUM  # a refresh storm, not yet an outage


def test_one_host_with_many_credentials_is_not_a_cluster() -> None:
    expiry = AT + timedelta(hours=1)
    events = events_of([_host("web-1", expiry, expiry, expiry), _host("web-2", expiry)], AT)
    assert clusters(events, timedelta(minutes=2), 3) == []


def test_past_expiries_are_no_events() -> None:
    assert events_of([_host("web-1", AT - timedelta(seconds=1))], AT) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 3600)), min_size=0, max_size=40),
    st.integers(1, 600),
    st.integers(2, 5),
)
def test_clusters_are_disjoint_windows_of_enough_hosts(
    raw: list[tuple[int, int]], window_seconds: int, min_hosts: int
) -> None:
    events = sorted(
        (
            ExpiryEvent(
                host=f"h{h}", group="h", at=AT + timedelta(seconds=s), kind="expiry", source="env"
            )
            for h, s in raw
        ),
        key=lambda e: (e.at, e.host),
    )
    window = timedelta(seconds=window_seconds)
    found = clusters(events, window, min_hosts)
    seen: list[ExpiryEvent] = []
    for group in found:
        assert len({e.host for e in group}) >= min_hosts
        assert group[-1].at - group[0].at <= window
        seen += group
    assert len(seen) == len(set(map(id, seen)))  # no event in two clusters
    if not found:  # then no window holds enough hosts
        for event in events:
            inside = {e.host for e in events if timedelta(0) <= e.at - event.at <= window}
            assert len(inside) < min_hosts


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_file_is_a_host_or_one_problem(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "h.json").write_bytes(data)
    hosts, problems = read_reports([folder])
    assert len(hosts) + len(problems) == 1
    for problem in problems:
        assert len(problem.line().splitlines()) == 1


@pytest.mark.parametrize(
    "document",
    [
        {"kind": "scan", "evaluated_at": "2026-12-02T04:00:00"},  # no time zone
        {"kind": "scan", "evaluated_at": "2026-12-02T04:00:00Z", "credentials": [1]},
        {"kind": "scan", "evaluated_at": "2026-12-02T04:00:00Z", "clock": {"x": 1}},
        {"kind": "scan", "evaluated_at": 5},
        {"kind": "scan", "evaluated_at": "0001-01-01T00:00:00Z"},
        {
            "kind": "scan",
            "evaluated_at": "2026-12-02T04:00:00Z",
            "clock": {"offset_seconds": "nan"},
        },
        {
            "kind": "scan",
            "evaluated_at": "2026-12-02T04:00:00Z",
            "credentials": [{"expires_at": "0001-01-01T00:10:00+00:00", "refreshable": True}],
        },
        [],
    ],
)
def test_malformed_reports_are_problems(tmp_path: Path, document: object) -> None:
    (tmp_path / "h.json").write_text(json.dumps(document))
    hosts, problems = read_reports([tmp_path])
    assert hosts == [] and len(problems) == 1


def test_fleet_json_conforms_to_its_schema(tmp_path: Path) -> None:
    import jsonschema

    for index in range(3):
        _scan_report(tmp_path, f"web-{index}", AT + timedelta(hours=2))
    _, report = _json(str(tmp_path / "reports"))
    schema = json.loads(CliRunner().invoke(cli, ["schema", "fleet"]).stdout)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(report)) == []
    assert report["kind"] == "fleet" and len(report["events"]) == 3  # type: ignore[arg-type]


_scalar = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
_json_value = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"kind": st.just("scan")},
        optional={
            "evaluated_at": st.sampled_from(["2026-12-02T04:00:00Z", "2026-12-02", "x"])
            | _json_value,
            "credentials": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "expires_at": st.sampled_from(["2026-12-02T05:00:00Z", "nope"])
                        | _json_value,
                        "refreshable": _json_value,
                        "profile": _json_value,
                        "source": _json_value,
                    },
                ),
                max_size=3,
            )
            | _json_value,
            "clock": st.fixed_dictionaries(
                {}, optional={"offset_seconds": _json_value, "uncertainty_seconds": _json_value}
            )
            | _json_value,
            "host": _json_value,
        },
    )
)
@example(
    {
        "kind": "scan",
        "evaluated_at": "2026-12-02T04:00:00Z",
        "clock": {"offset_seconds": 86400000000000.0},
    }
)  # found by hypothesis: a 2.7-million-year offset overflowed timedelta in the analysis
def test_report_shaped_json_is_a_host_or_one_problem(
    tmp_path_factory: pytest.TempPathFactory, document: dict[str, object]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "h.json").write_text(json.dumps(document))
    for from_report in (False, True):
        hosts, problems = read_reports([folder], host_from_report=from_report)
        assert len(hosts) + len(problems) == 1
        report = analyse(  # whatever was read, the analysis and every renderer take it
            hosts,
            now=AT,
            window=timedelta(minutes=2),
            min_hosts=2,
            skew_margin=timedelta(0),
            silent_after=timedelta(hours=2),
            fail_on=Severity.HIGH,
            inputs=[],
        )
        fleet_text.render(report)
        fleet_html.render(report)


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200)
    | _json_value.map(lambda v: json.dumps(v).encode())
    | st.lists(
        st.fixed_dictionaries(
            {
                "metric": st.dictionaries(
                    st.sampled_from(["host", "instance", "source"]), _json_value
                )
                | _json_value,
                "value": st.lists(
                    _json_value | st.sampled_from(["1.7e9", "NaN", "+Inf", "1e300"]), max_size=3
                )
                | _json_value,
            }
        ),
        max_size=3,
    ).map(
        lambda r: json.dumps(
            {"status": "success", "data": {"resultType": "vector", "result": r}}
        ).encode()
    )
)
def test_any_prometheus_answer_is_samples_or_none(body: bytes) -> None:
    from credaudit.fleet.promapi import _samples, parse_answer

    items = parse_answer(body)
    if items is not None:
        for host, labels, value in _samples(items, "host"):
            assert isinstance(host, str) and isinstance(labels, dict)
            assert value == value and abs(value) <= 1e11
