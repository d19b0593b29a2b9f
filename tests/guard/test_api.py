"""The guard's options, credentials without a session or without an expiry (botocore's own
EnvProvider), and the metrics sinks (prometheus-client, OpenTelemetry's SDK)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from prometheus_client import CollectorRegistry

from credaudit.guard import GuardError, guard
from credaudit.model import format_instant
from tests.guard.conftest import RoleWorld, bare_aws_env
from tests.guard.test_sts_presign import PARAMS, SIX_HOURS, query, url_end

SIGV4 = Config(signature_version="s3v4")
TOKEN = "IQoJb3JpZ2luX2VjENVSESSIONTOKEN-never-printed"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYENVSECRET"


@pytest.mark.parametrize(
    "options",
    [
        {"presign": "shorten"},
        {"min_remaining": -1},
        {"skew": "30s"},
        {"jitter": 1.5},
        {"metrics": object()},
    ],
)
def test_bad_options_are_refused_with_the_option_named(options: dict[str, Any]) -> None:
    with pytest.raises(GuardError) as raised:
        guard(boto3.Session(region_name="us-east-1"), **options)
    assert next(iter(options)) in str(raised.value)


def test_a_target_that_is_not_a_session_or_client_is_refused() -> None:
    with pytest.raises(GuardError, match="expected a boto3 or botocore Session or a client"):
        guard(object())


def env_session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Any:
    bare_aws_env(
        monkeypatch,
        tmp_path,
        AWS_ACCESS_KEY_ID="ASIAY34FZKBOKMUTENV1",
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        **env,
    )
    return boto3.Session()


def test_env_session_token_without_expiry_is_reported_not_guessed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    session = env_session(monkeypatch, tmp_path, AWS_SESSION_TOKEN=TOKEN)
    registry = CollectorRegistry()
    s3 = guard(session, presign="refuse", metrics=registry).client("s3", config=SIGV4)
    caplog.set_level(logging.WARNING, logger="credaudit.guard")
    for _ in range(3):
        url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
        assert query(url)["X-Amz-Expires"] == str(SIX_HOURS)  # not refused, not guessed
    (record,) = caplog.records  # said once
    assert "no expiry" in record.getMessage() and "AWS_CREDENTIAL_EXPIRATION" in record.getMessage()
    assert TOKEN not in caplog.text and SECRET not in caplog.text
    sample = registry.get_sample_value
    assert sample("credaudit_guard_presigns_total", {"action": "unknown_expiry"}) == 3
    expiry = "credaudit_guard_credential_expiry_timestamp_seconds"
    assert sample(expiry, {"source": "env"}) is None  # no expiry: no made-up series


def test_env_credentials_with_their_expiration_are_bounded_by_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=40)
    session = env_session(
        monkeypatch,
        tmp_path,
        AWS_SESSION_TOKEN=TOKEN,
        AWS_CREDENTIAL_EXPIRATION=format_instant(ends),
    )
    s3 = guard(session, presign="clamp").client("s3")
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert ends - timedelta(seconds=40) <= url_end(url) <= ends - timedelta(seconds=29)


def test_long_term_keys_have_no_session_to_outlive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    session = env_session(monkeypatch, tmp_path)
    s3 = guard(session, presign="refuse", metrics=registry).client("s3")
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert int(query(url)["Expires"]) >= int(datetime.now(UTC).timestamp()) + SIX_HOURS - 5
    assert registry.get_sample_value("credaudit_guard_presigns_total", {"action": "no_session"})


@pytest.mark.peer
def test_one_registry_serves_several_guards(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    registry = CollectorRegistry()
    guard(world.session, metrics=registry)
    first = world.session.client("s3")
    guard(world.session, presign="clamp", metrics=registry)  # same registry: no clash
    second = world.session.client("s3")
    for client in (first, second):
        client.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert registry.get_sample_value("credaudit_guard_presigns_total", {"action": "clamped"}) == 2


@pytest.mark.peer
def test_opentelemetry_meter_gets_the_same_metrics(role_world: Any) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("credaudit.guard.test")
    world: RoleWorld = role_world(duration=1800)
    s3 = guard(world.session, presign="clamp", metrics=meter).client("s3")
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    (key,) = world.issued
    points: dict[str, list[Any]] = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = list(metric.data.data_points)
    (expiry,) = points["credaudit_guard_credential_expiry_timestamp_seconds"]
    assert expiry.value == world.expiry(key).timestamp()
    assert dict(expiry.attributes) == {"source": "assume-role"}
    (presign,) = points["credaudit_guard_presigns_total"]
    assert presign.value == 1 and dict(presign.attributes) == {"action": "clamped"}


def test_metrics_and_async_libraries_are_imported_only_when_asked() -> None:
    import subprocess
    import sys

    code = (
        "import sys, botocore.session\n"
        "from credaudit.guard import guard\n"
        "guard(botocore.session.Session())\n"
        "heavy = ('prometheus_client', 'opentelemetry', 'asyncio', 'boto3', 'pydantic')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
