"""Hypothesis over the parsers this package owns outside the sources: durations, instants,
env files and the shared config files.  None may raise anything but its own clear error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.clock import Clock
from credaudit.durations import (
    DurationError,
    format_duration,
    parse_at,
    parse_duration,
    parse_instant,
    whole_seconds,
)
from credaudit.scan import run_scan
from credaudit.target import Target, TargetError, read_env_file

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@given(st.text(max_size=40))
@example("P")
@example("PT")
@example("1e400")
@example("99999999999999999999d")
def test_parse_duration_only_raises_its_own_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except DurationError:
        return
    assert value >= timedelta(0)


@given(st.integers(0, 10**8))
def test_durations_round_trip_through_their_units(seconds: int) -> None:
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    assert parse_duration(f"{d}d{h}h{m}m{s}s") == timedelta(seconds=seconds)
    assert parse_duration(f"P{d}DT{h}H{m}M{s}S") == timedelta(seconds=seconds)
    assert parse_duration(str(seconds)) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", 90), ("15m", 900), ("2h30m", 9000), ("1d", 86400), ("PT1H", 3600), ("1w", 604800)],
)
def test_documented_duration_forms(text: str, expected: int) -> None:
    assert parse_duration(text) == timedelta(seconds=expected)


@pytest.mark.parametrize("text", ["", "5x", "h", "-5m", "1h-", "PT", "P1Y"])
def test_bad_durations_name_themselves(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.text(max_size=40))
@example("2030-13-01T00:00:00Z")
@example("99999999999")
def test_parse_instant_only_raises_its_own_error(text: str) -> None:
    try:
        value = parse_instant(text)
    except DurationError:
        return
    assert value.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-01T12:00:00Z",
        "2030-01-01T12:00:00UTC",
        "2030-01-01T12:00:00+00:00",
        "2030-01-01T12:00:00",
        "2030-01-01 12:00:00",
        "2030-01-01T12:00:00.000000Z",
        "2030-01-01T13:00:00+01:00",
        "1893499200",
        "20300101T120000Z",
    ],
)
def test_every_aws_expiry_spelling_means_the_same_instant(text: str) -> None:
    assert parse_instant(text) == datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_at_accepts_relative_and_absolute() -> None:
    assert parse_at("+2h", NOW) == NOW + timedelta(hours=2)
    assert parse_at("2031-01-01T00:00:00Z", NOW).year == 2031


@pytest.mark.parametrize("seconds", [0, 59, 61, 3600, 5400, 86400 + 3600, -720])
def test_format_duration_is_parseable_back(seconds: int) -> None:
    text = format_duration(seconds)
    assert parse_duration(text.lstrip("-")) == timedelta(seconds=abs(seconds))


def _duration_reference(seconds: int) -> str:
    """format_duration's rules as a divmod chain, for the hypothesis test below."""
    sign, left = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m" if minutes else f"{sign}{hours}h"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s" if secs and minutes < 10 else f"{sign}{minutes}m"
    return f"{sign}{secs}s"


@given(st.integers(min_value=-(10**10), max_value=10**10))
@example(3600 + 60 * 5)
@example(-(9 * 60 + 7))
def test_format_duration_of_any_span(seconds: int) -> None:
    assert format_duration(seconds) == _duration_reference(seconds)
    assert format_duration(timedelta(seconds=seconds)) == _duration_reference(seconds)


@given(st.timedeltas())
@example(timedelta(microseconds=-1))
@example(timedelta(seconds=-1, microseconds=1))
@example(timedelta.max)
@example(timedelta.min)
def test_whole_seconds_truncates_toward_zero_exactly(span: timedelta) -> None:
    micros = (span.days * 86400 + span.seconds) * 10**6 + span.microseconds
    exact = abs(micros) // 10**6 * (1 if micros >= 0 else -1)
    assert whole_seconds(span) == exact
    if abs(micros) < 2**53:  # where the float of total_seconds is exact, the old formula
        assert whole_seconds(span) == int(span.total_seconds())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=80)
@given(st.binary(max_size=300))
def test_env_file_is_parsed_or_refused_with_a_line_number(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "env"
    path.write_bytes(data)
    try:
        env = read_env_file(path)
    except TargetError as exc:
        assert str(path) in str(exc)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    max_examples=60,
    deadline=None,
)
@given(
    config=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)),
    credentials=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
)
@example(config=b"[profile a]\nrole_arn = x\n  nested\n", credentials=b"")
@example(config=b"[default]\ns3 =\n  bad line without equals\n", credentials=b"")
@example(config=b"\xff\xfe[default]", credentials=b"[default\n")
@example(config=b"[profile a]\nsource_profile = a\nrole_arn = r\n", credentials=b"")
def test_any_config_file_scans_without_crashing(
    tmp_path: Path, config: bytes, credentials: bytes
) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "config").write_bytes(config)
    (aws / "credentials").write_bytes(credentials)
    target = Target(
        root=Path("/"),
        home=PurePosixPath(str(tmp_path)),
        env={"AWS_EC2_METADATA_DISABLED": "true"},
        clock=Clock(NOW),
        all_profiles=True,
        network=False,
    )
    report = run_scan(target, Budget())
    assert report.chain, "at least the selected profile is resolved"
    for finding in report.findings:
        if finding.code == "CA702":
            assert str(aws) in finding.message
