"""Refresh by remaining lifetime, fail fast, same-session detection and threads, against
botocore's own assume-role refresher and moto server's STS."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.utils import JSONFileCache
from prometheus_client import CollectorRegistry

from credaudit.guard import RefreshFailed, guard
from credaudit.presign import inspect
from tests.guard.conftest import MINUTE, OwnMoto, RoleWorld, make_role_world
from tests.guard.test_sts_presign import PARAMS, SIX_HOURS, url_end, url_key

pytestmark = pytest.mark.peer
SIGV4 = Config(signature_version="s3v4")


def refreshes(registry: CollectorRegistry, outcome: str) -> float | None:
    return registry.get_sample_value("credaudit_guard_refreshes_total", {"outcome": outcome})


def test_renews_by_remaining_lifetime_before_signing(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    registry = CollectorRegistry()
    s3 = guard(world.session, presign="clamp", metrics=registry, clock=world.clock).client(
        "s3", config=SIGV4
    )
    first = url_key(s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60))
    world.credentials()
    world.clock.offset = 11 * MINUTE  # 19 min left: above the band's top (900 s * 1.2)
    assert url_key(s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)) == first
    assert len(world.issued) == 1
    world.clock.offset = 16 * MINUTE  # 14 min left < min_remaining: renew before signing
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    second = url_key(url)
    assert second != first and set(world.issued) == {first, second}
    assert url_end(url) <= world.expiry(second)
    assert refreshes(registry, "renewed") == 1
    assert refreshes(registry, "failed") == 0


def test_an_ordinary_call_renews_too(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    sts = guard(world.session, clock=world.clock).client("sts")
    signed: list[str] = []
    sts.meta.events.register(
        "before-send", lambda request, **_: signed.append(request.headers["Authorization"])
    )
    sts.get_caller_identity()
    (first,) = world.issued
    world.credentials()
    world.clock.offset = 16 * MINUTE
    sts.get_caller_identity()  # before-sign renewed, then botocore signed with the new one
    (second,) = set(world.issued) - {first}
    assert f"Credential={first}/" in signed[0].decode()
    assert f"Credential={second}/" in signed[1].decode()


def test_a_role_shorter_than_min_remaining_fails_once_not_per_call(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=900)
    registry = CollectorRegistry()
    s3 = guard(world.session, min_remaining=900, metrics=registry).client("s3")
    with pytest.raises(RefreshFailed) as raised:
        s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    assert raised.value.outcome == "short" and "shorter than min_remaining" in str(raised.value)
    for _ in range(5):
        with pytest.raises(RefreshFailed):
            s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    assert len(world.issued) == 2  # botocore's first fetch and one renewal, not one per call
    assert refreshes(registry, "renewed") == 1


def test_jitter_spreads_the_refresh_point_above_min_remaining(role_world: Any) -> None:
    from credaudit.guard.lifeline import Lifeline, Policy

    world: RoleWorld = role_world(duration=1800)
    creds = world.credentials()
    policy = Policy.build("clamp", 900, 30, 0.2, None, None)
    draws = [Lifeline(creds).view(policy.now()).spread for _ in range(200)]
    points = sorted(policy.threshold(d) for d in draws)
    assert 900 <= points[0] < 920 and 1060 < points[-1] <= 1080  # spread over the band
    assert len({round(p) for p in points}) > 100  # not the same second


def test_dead_refresh_path_fails_fast_before_signing(
    own_moto: OwnMoto,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = make_role_world(own_moto.url, monkeypatch, tmp_path, duration=1800)
    registry = CollectorRegistry()
    session = guard(world.session, presign="clamp", metrics=registry, clock=world.clock)
    s3 = session.client("s3", config=SIGV4)
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (key,) = world.issued
    creds = world.credentials()
    own_moto.stop()
    world.clock.offset = 16 * MINUTE  # 14 min left: inside min_remaining
    caplog.set_level(logging.WARNING)
    with pytest.raises(RefreshFailed) as raised:
        s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    assert raised.value.outcome == "failed"
    assert raised.value.session_expires_at == world.expiry(key)
    assert "EndpointConnectionError" in str(raised.value)
    assert refreshes(registry, "failed") == 1
    # A second call inside the retry window fails as fast, without a second attempt.
    with pytest.raises(RefreshFailed):
        s3.list_buckets()  # an ordinary call: before-sign
    assert refreshes(registry, "failed") == 1
    world.clock.offset += timedelta(seconds=11)  # past the retry window: tried again
    with pytest.raises(RefreshFailed):
        s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    assert refreshes(registry, "failed") == 2
    frozen = creds.get_frozen_credentials()
    for text in (str(raised.value), caplog.text):
        assert frozen.secret_key not in text and frozen.token not in text

    # botocore alone keeps going: its advisory refresh fails, is logged, and the dying
    # credentials sign a URL anyway.
    plain = world.session._session.__class__.create_client(world.session._session, "s3")
    url = plain.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    assert url_key(url) == key
    assert "advisory refresh period" in caplog.text


def test_a_refresh_that_hands_back_the_same_session_is_not_renewed(
    role_world: Any, tmp_path: Path
) -> None:
    world: RoleWorld = role_world(duration=1800)
    # The AWS CLI's way: an on-disk cache, which the guard never touches.  botocore's
    # fetcher answers from it while the cached session has > 15 min by the real clock.
    provider = world.session._session.get_component("credential_provider").get_provider(
        "assume-role"
    )
    provider.cache = JSONFileCache(str(tmp_path / "cli-cache"))
    registry = CollectorRegistry()
    s3 = guard(world.session, presign="clamp", metrics=registry, clock=world.clock).client("s3")
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (key,) = world.issued
    world.credentials()
    world.clock.offset = 16 * MINUTE
    with pytest.raises(RefreshFailed) as raised:
        s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    assert raised.value.outcome == "same"
    assert "same session" in str(raised.value)
    assert refreshes(registry, "same") == 1 and refreshes(registry, "renewed") == 0
    assert list(world.issued) == [key]  # no second AssumeRole: the cache answered
    frozen = world.credentials().get_frozen_credentials()
    assert frozen.secret_key not in str(raised.value) and frozen.token not in str(raised.value)


def test_sixteen_threads_during_a_refresh_cause_one_and_agree(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    registry = CollectorRegistry()
    session = guard(world.session, presign="clamp", metrics=registry, clock=world.clock)
    clients = [session.client("s3", config=SIGV4 if i % 2 else None) for i in range(2)]
    clients[0].generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (first,) = world.issued
    world.credentials()
    world.clock.offset = 16 * MINUTE
    barrier = threading.Barrier(16)
    urls: list[str] = []
    errors: list[BaseException] = []

    def presign(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            urls.append(
                clients[i % 2].generate_presigned_url(
                    "get_object", Params={**PARAMS, "Key": f"part-{i}"}, ExpiresIn=SIX_HOURS
                )
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=presign, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(urls) == 16
    assert len(world.issued) == 2 and refreshes(registry, "renewed") == 1  # one refresh
    (second,) = set(world.issued) - {first}
    assert {url_key(u) for u in urls} == {second}  # all agree on the new session
    now = datetime.now(UTC)
    for url in urls:
        assert url_end(url) <= world.expiry(second)
        result = inspect(url, now=now, sessions=world.issued)
        assert "CA301" not in [f.code for f in result.findings]


def test_expiry_metric_is_the_sessions_expiry(role_world: Any) -> None:
    world: RoleWorld = role_world(duration=1800)
    registry = CollectorRegistry()
    s3 = guard(world.session, metrics=registry, clock=world.clock).client("s3")
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (key,) = world.issued
    name = "credaudit_guard_credential_expiry_timestamp_seconds"
    assert registry.get_sample_value(name, {"source": "assume-role"}) == (
        world.expiry(key).timestamp()
    )
    world.credentials()
    world.clock.offset = 16 * MINUTE
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (second,) = set(world.issued) - {key}
    assert registry.get_sample_value(name, {"source": "assume-role"}) == (
        world.expiry(second).timestamp()
    )
    assert world.expiry(second) - world.expiry(key) < timedelta(minutes=1)


def test_a_failed_presign_refresh_above_min_remaining_clamps_to_the_old_session(
    own_moto: OwnMoto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = make_role_world(own_moto.url, monkeypatch, tmp_path, duration=3600)
    registry = CollectorRegistry()
    s3 = guard(world.session, metrics=registry, clock=world.clock).client("s3", config=SIGV4)
    s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
    (key,) = world.issued
    world.credentials()
    own_moto.stop()
    world.clock.offset = 35 * MINUTE  # 25 min left: a presign refresh would help, and fails
    url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert url_key(url) == key and refreshes(registry, "failed") == 1
    assert int(url.split("X-Amz-Expires=")[1].split("&")[0]) <= 25 * 60 - 29
