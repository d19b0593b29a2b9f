"""Clock offset against a local server whose Date header is shifted by known amounts.

The server and credaudit share this machine's clock, so the true offset (local − reference)
is exactly −shift; the measurement must land within its own stated uncertainty, and the
severity must follow the thresholds (margin, 5 min, 15 min).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.analysis.clock_rules import clock_finding, evaluate, severity_for
from credaudit.analysis.context import ScanContext
from credaudit.cli import cli
from credaudit.clock_check import ClockCheckError, from_response, measure
from credaudit.model import Severity
from credaudit.sources.http_probe import Response
from tests.helpers_home import make_home
from tests.stubs.servers import date_shifted, serving, serving_made, silent

CASES = [
    (0.0, None),
    (90.0, Severity.MEDIUM),
    (360.0, Severity.HIGH),
    (1200.0, Severity.CRITICAL),
]


@pytest.mark.parametrize(("shift", "severity"), CASES)
def test_shifted_date_gives_offset_within_uncertainty(
    shift: float, severity: Severity | None
) -> None:
    with serving(date_shifted(shift)) as server:
        found = measure(server.url, timeout=5)
    error = abs(found.offset.total_seconds() - (-shift))
    assert error <= found.uncertainty.total_seconds() + 0.01
    assert found.uncertainty >= timedelta(seconds=0.5)
    assert found.samples >= 1
    finding = clock_finding(found.offset, found.uncertainty, timedelta(0), server.url)
    assert (finding.severity if finding else None) == severity
    if finding is not None:
        assert finding.code == "CA601"
        assert "behind" in finding.message


def test_ahead_clock_says_ahead() -> None:
    with serving(date_shifted(-400)) as server:
        found = measure(server.url, timeout=5)
    assert found.offset > timedelta(seconds=390)
    finding = clock_finding(found.offset, found.uncertainty, timedelta(0), server.url)
    assert finding is not None and "ahead of" in finding.message
    assert finding.severity is Severity.HIGH


def test_from_response_arithmetic() -> None:
    # Sent at wall 1000.0, answered 0.2 s later; Date says 940 s (server 60 s behind).
    response = Response(
        status=200,
        headers={"date": "Thu, 01 Jan 1970 00:15:40 GMT"},
        body=b"",
        sent_at=50.0,
        answered_at=50.2,
        sent_wall=1000.0,
    )
    found = from_response("ref", response, received_wall=1000.2)
    # local_mid = 1000.1; reference ≈ 940.5 → offset +59.6, uncertainty 0.1 + 0.5
    assert found.offset.total_seconds() == pytest.approx(59.6)
    assert found.uncertainty.total_seconds() == pytest.approx(0.6)
    assert found.rtt.total_seconds() == pytest.approx(0.2)
    assert found.lower_bound.total_seconds() == pytest.approx(59.0)


@pytest.mark.parametrize("date", [None, "yesterday-ish", ""])
def test_missing_or_bad_date_is_one_clear_error(date: str | None) -> None:
    headers = {} if date is None else {"date": date}
    response = Response(200, headers, b"", 0.0, 0.1, 1000.0)
    with pytest.raises(ClockCheckError, match="Date"):
        from_response("http://ref/", response, 1000.1)


def test_unreachable_reference_ends_and_says_so() -> None:
    with serving_made(silent) as server, pytest.raises(ClockCheckError, match="no answer"):
        measure(server.url, timeout=1)


@pytest.mark.parametrize(
    ("certain", "margin", "expected"),
    [
        (0, 0, None),
        (30, 60, None),
        (61, 60, Severity.MEDIUM),
        (10, 0, Severity.LOW),
        (299, 0, Severity.MEDIUM),
        (300, 0, Severity.HIGH),
        (899, 0, Severity.HIGH),
        (900, 0, Severity.CRITICAL),
    ],
)
def test_severity_thresholds(certain: int, margin: int, expected: Severity | None) -> None:
    assert severity_for(timedelta(seconds=certain), timedelta(seconds=margin)) == expected


def test_rules_read_the_scan_context(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = make_home(tmp_path).target
    offset = timedelta(minutes=-6)
    # run_scan hands the rules a budget with the measured skew already in the margin.
    ctx = ScanContext(
        target=target,
        budget=Budget(skew_margin=timedelta(seconds=30)).with_skew(offset),
        observations=[],
        chain=[],
        clock_offset=offset,
        clock_uncertainty=timedelta(seconds=0.6),
    )
    (finding,) = evaluate(ctx)
    assert finding.code == "CA601" and finding.severity is Severity.HIGH
    assert "SigV4" in finding.message
    none = ScanContext(target=target, budget=Budget(), observations=[], chain=[])
    assert evaluate(none) == []


def test_cli_without_reference_needs_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "credaudit", "clock"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--reference" in lines[0] and "--online" in lines[0]


@pytest.mark.parametrize(("shift", "code"), [(0.0, 0), (360.0, 1)])
def test_cli_json_and_exit_code(shift: float, code: int) -> None:
    with serving(date_shifted(shift)) as server:
        result = CliRunner().invoke(cli, ["clock", "--reference", server.url, "--format", "json"])
    assert result.exit_code == code, result.output
    document = json.loads(result.output)
    assert abs(document["offset_seconds"] + shift) <= document["uncertainty_seconds"] + 0.01
    assert [f["code"] for f in document["findings"]] == (["CA601"] if shift else [])


def test_cli_skew_margin_tolerates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with serving(date_shifted(90)) as server:
        result = CliRunner().invoke(
            cli, ["clock", "--reference", server.url, "--skew-margin", "2m", "--fail-on", "low"]
        )
    assert result.exit_code == 0, result.output
    assert "within the skew margin" in result.output


def test_scan_clock_check_feeds_ca601(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env_file = tmp_path / "env"
    env_file.write_text(f"HOME={tmp_path}\n")
    with serving(date_shifted(1200)) as server:
        result = CliRunner().invoke(
            cli,
            [
                "scan",
                "--env-file",
                str(env_file),
                "--home",
                str(tmp_path),
                "--no-network",
                "--clock-check",
                "--clock-reference",
                server.url,
                "--format",
                "json",
            ],
        )
    document = json.loads(result.output)
    ca601 = [f for f in document["findings"] if f["code"] == "CA601"]
    assert len(ca601) == 1 and ca601[0]["severity"] == "critical"


@given(date=st.text(max_size=60))
def test_any_date_header_gives_a_measurement_or_one_clear_error(date: str) -> None:
    response = Response(200, {"date": date}, b"", 0.0, 0.1, 1_000_000.0)
    try:
        found = from_response("http://ref/", response, 1_000_000.1)
    except ClockCheckError as exc:
        assert "http://ref/" in str(exc) and "\n" not in str(exc)
    else:
        assert found.uncertainty.total_seconds() == pytest.approx(0.55)
