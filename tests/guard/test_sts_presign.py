"""Presigns from a 30-minute moto STS session, signed by botocore's own assume-role
refresher: what the seed's "6 h URL from a 1 h session" becomes under the guard."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.config import Config
from prometheus_client import CollectorRegistry

from credaudit.guard import GuardError, PresignOutlivesSession, guard
from credaudit.model import format_instant
from credaudit.presign import inspect
from tests.guard.conftest import SOURCE_SECRET, RoleWorld

pytestmark = pytest.mark.peer

SIX_HOURS = 6 * 3600
PARAMS = {"Bucket": "exports", "Key": "report.csv"}
SIGV4 = Config(signature_version="s3v4")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def url_key(url: str) -> str:
    q = query(url)
    return q.get("AWSAccessKeyId") or q["X-Amz-Credential"].split("/")[0]


def url_end(url: str) -> datetime:
    """When the URL says it expires (SigV2 ``Expires``, SigV4 ``X-Amz-Date + X-Amz-Expires``)."""
    q = query(url)
    if "Expires" in q:
        return datetime.fromtimestamp(int(q["Expires"]), UTC)
    signed = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed + timedelta(seconds=int(q["X-Amz-Expires"]))


def codes(url: str, world: RoleWorld) -> list[str]:
    result = inspect(url, now=datetime.now(UTC), sessions=world.issued)
    assert result.session_expires_at == world.expiry(url_key(url))  # the session is known
    return [f.code for f in result.findings]


def cli_codes(url: str, session_end: datetime) -> list[str]:
    """``credaudit url`` told the session's expiry, as a user would run it: the codes it
    prints (read from its output text, not from the JSON's shape)."""
    out = subprocess.run(
        [
            sys.executable, "-m", "credaudit", "url", "--no-network", "--format", "json",
            "--session-expires", format_instant(session_end), url,
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode in (0, 1), out.stderr
    assert '"status": "valid"' in out.stdout
    return [code for code in ("CA301", "CA302", "CA303") if f'"{code}"' in out.stdout]


@pytest.mark.parametrize("config", [None, SIGV4], ids=["sigv2-default", "sigv4"])
def test_six_hour_url_from_a_30_minute_session_ends_with_the_session(
    role_world: Any, config: Config | None
) -> None:
    world: RoleWorld = role_world(duration=1800)
    guarded = guard(world.session, presign="clamp").client("s3", config=config)
    url = guarded.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert ("Expires" in query(url)) is (config is None)  # botocore's SigV2 default for S3
    session_end = world.expiry(url_key(url))
    assert session_end - datetime.now(UTC) < timedelta(minutes=31)  # moto honoured 1800 s
    assert url_end(url) <= session_end - timedelta(seconds=29)  # the skew is kept
    assert url_end(url) >= session_end - timedelta(seconds=40)  # and nothing more is cut
    assert "CA301" not in codes(url, world)
    assert "CA301" not in cli_codes(url, session_end)

    # The same call on an unguarded client of the same session: the URL outlives it, and
    # the oracle says so.
    bare = world.session._session.__class__.create_client  # botocore's own, unwrapped
    plain = bare(world.session._session, "s3", config=config)
    long_url = plain.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert url_end(long_url) > session_end + timedelta(hours=5)
    assert "CA301" in codes(long_url, world)
    assert "CA301" in cli_codes(long_url, session_end)


def test_refresh_mode_clamps_a_fresh_session_without_another_assume_role(
    role_world: Any,
) -> None:
    world: RoleWorld = role_world(duration=1800)
    s3 = guard(world.session).client("s3", config=SIGV4)  # presign="refresh" by default
    urls = [
        s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
        for _ in range(5)
    ]
    assert len(world.issued) == 1  # a fresh session is not renewed for a presign
    for url in urls:
        assert url_end(url) <= world.expiry(url_key(url))
        assert "CA301" not in codes(url, world)


def test_a_five_minute_url_is_untouched(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    registry = CollectorRegistry()
    session = guard(world.session, presign="refuse", metrics=registry)
    v4 = session.client("s3", config=SIGV4)
    v2 = session.client("s3")
    url4 = v4.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=300)
    assert query(url4)["X-Amz-Expires"] == "300"
    before = int(datetime.now(UTC).timestamp())
    url2 = v2.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=300)
    assert before + 300 <= int(query(url2)["Expires"]) <= before + 302
    assert registry.get_sample_value("credaudit_guard_presigns_total", {"action": "fits"}) == 2


def test_refuse_raises_naming_the_session_expiry(
    role_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world: RoleWorld = role_world(duration=1800)
    registry = CollectorRegistry()
    s3 = guard(world.session, presign="refuse", metrics=registry).client("s3")
    caplog.set_level(logging.INFO, logger="credaudit.guard")
    with pytest.raises(PresignOutlivesSession) as raised:
        s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert isinstance(raised.value, GuardError)
    (key,) = world.issued
    expiry = world.expiry(key)
    assert raised.value.session_expires_at == expiry
    assert raised.value.requested == SIX_HOURS
    message = str(raised.value)
    assert format_instant(expiry) in message and "21600 s" in message
    assert key[:4] + "…" + key[-4:] in message and key not in message
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert registry.get_sample_value("credaudit_guard_presigns_total", {"action": "refused"}) == 1
    creds = world.credentials().get_frozen_credentials()
    for text in [message, caplog.text]:
        assert creds.secret_key not in text and creds.token not in text
        assert SOURCE_SECRET not in text


def test_warn_logs_as_rust_does_and_leaves_the_url(
    role_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world: RoleWorld = role_world(duration=1800)
    s3 = guard(world.session, presign="warn").client("s3", config=SIGV4)
    caplog.set_level(logging.WARNING, logger="credaudit.guard")
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert query(url)["X-Amz-Expires"] == str(SIX_HOURS)
    (record,) = [r for r in caplog.records if r.name == "credaudit.guard"]
    assert record.getMessage().startswith(
        "Presigned request will expire before the given expires_in duration because the "
        "credentials used to sign it will expire first"
    )
    assert "asked for 21600 s" in record.getMessage()


@pytest.mark.parametrize("config", [None, SIGV4], ids=["sigv2-default", "sigv4"])
def test_presigned_post_policy_ends_with_the_session(
    role_world: Any, config: Config | None
) -> None:
    world: RoleWorld = role_world(duration=1800)
    s3 = guard(world.session, presign="clamp").client("s3", config=config)
    post = s3.generate_presigned_post("exports", "upload.csv", ExpiresIn=SIX_HOURS)
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    ends = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    (key,) = world.issued
    assert ends <= world.expiry(key) - timedelta(seconds=29)
    assert ends >= world.expiry(key) - timedelta(seconds=40)


def test_sts_and_other_token_presigns_are_not_clamped(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    sts = guard(world.session, presign="clamp").client("sts", config=SIGV4)
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=SIX_HOURS)
    assert query(url)["X-Amz-Expires"] == str(SIX_HOURS)  # aws/aws-sdk-ruby#2887


def test_guarding_a_client_and_guarding_it_again_replaces_the_policy(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    client = world.session.client("s3", config=SIGV4)
    assert guard(client, presign="warn") is client
    url = client.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert query(url)["X-Amz-Expires"] == str(SIX_HOURS)
    guard(client, presign="refuse")
    with pytest.raises(PresignOutlivesSession):
        client.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)


def test_refresh_mode_renews_a_half_used_session_once_then_clamps(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=3600)
    registry = CollectorRegistry()
    session = guard(world.session, presign="refresh", metrics=registry, clock=world.clock)
    s3 = session.client("s3", config=SIGV4)
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (first,) = world.issued
    world.credentials()
    world.clock.offset = timedelta(minutes=35)  # 25 min left: past half, above the band
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    (second,) = set(world.issued) - {first}
    assert url_key(url) == second  # renewed for the presign, then clamped to the new one
    assert world.expiry(second) - timedelta(seconds=40) <= url_end(url) <= world.expiry(second)
    again = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert url_key(again) == second and len(world.issued) == 2  # once per session
    sample = registry.get_sample_value
    assert sample("credaudit_guard_refreshes_total", {"outcome": "renewed"}) == 1
    assert sample("credaudit_guard_presigns_total", {"action": "clamped"}) == 2


def test_clamp_mode_does_not_renew_for_a_presign(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=3600)
    s3 = guard(world.session, presign="clamp", clock=world.clock).client("s3", config=SIGV4)
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (first,) = world.issued
    world.credentials()
    world.clock.offset = timedelta(minutes=35)
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert url_key(url) == first and len(world.issued) == 1
    assert int(query(url)["X-Amz-Expires"]) <= 25 * 60 - 29


def test_unsigned_clients_pass_through() -> None:
    import boto3
    from botocore import UNSIGNED

    s3 = guard(boto3.Session(region_name="us-east-1")).client(
        "s3", config=Config(signature_version=UNSIGNED)
    )
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert url == "https://exports.s3.amazonaws.com/report.csv"  # nothing signed, nothing bound
