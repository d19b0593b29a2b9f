"""The aiobotocore variant, against moto STS through aiobotocore's own assume-role refresher.

aiobotocore pins botocore to a narrow range, so it lives in a venv of its own
(``scripts/test_guard_range`` makes it and sets ``CREDAUDIT_REQUIRE_AIOBOTOCORE``, under
which a missing aiobotocore fails instead of skipping)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from prometheus_client import CollectorRegistry

from credaudit.guard import RefreshFailed, guard
from credaudit.presign import inspect
from tests.guard.conftest import MINUTE, MovingClock, OwnMoto, role_profile
from tests.guard.test_sts_presign import PARAMS, SIX_HOURS, url_end, url_key

pytestmark = pytest.mark.peer
SIGV4 = Config(signature_version="s3v4")

try:
    from aiobotocore.session import AioSession
except ImportError:  # pragma: no cover - depends on the venv
    if os.environ.get("CREDAUDIT_REQUIRE_AIOBOTOCORE") == "1":
        raise
    pytest.skip(
        "aiobotocore is not installed in this venv (scripts/test_guard_range runs it)",
        allow_module_level=True,
    )


class AioWorld:
    def __init__(self, endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.session = AioSession(profile=role_profile(endpoint, monkeypatch, tmp_path, 1800))
        self.clock = MovingClock()
        self.issued: dict[str, datetime] = {}
        self.session.register("after-call.sts.AssumeRole", self.record)

    def record(self, parsed: dict[str, Any], **_: Any) -> None:
        creds = parsed["Credentials"]
        self.issued[creds["AccessKeyId"]] = creds["Expiration"].astimezone(UTC)
        self.clock.offset = timedelta(0)

    async def credentials(self) -> Any:
        creds = await self.session.get_credentials()
        creds._time_fetcher = self.clock.local
        return creds


def refreshes(registry: CollectorRegistry, outcome: str) -> float | None:
    return registry.get_sample_value("credaudit_guard_refreshes_total", {"outcome": outcome})


def test_aio_clamps_renews_once_for_sixteen_tasks(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = AioWorld(moto_endpoint, monkeypatch, tmp_path)
    registry = CollectorRegistry()
    guard(world.session, presign="clamp", metrics=registry, clock=world.clock)

    async def run() -> None:
        async with world.session.create_client("s3", config=SIGV4) as s3:
            url = await s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
            (first,) = world.issued
            assert url_end(url) <= world.issued[first] - timedelta(seconds=29)
            result = inspect(url, now=datetime.now(UTC), sessions=world.issued)
            assert "CA301" not in [f.code for f in result.findings]
            await world.credentials()
            world.clock.offset = 16 * MINUTE
            urls = await asyncio.gather(
                *(
                    s3.generate_presigned_url(
                        "get_object", Params={**PARAMS, "Key": f"part-{i}"}, ExpiresIn=SIX_HOURS
                    )
                    for i in range(16)
                )
            )
            (second,) = set(world.issued) - {first}
            assert {url_key(u) for u in urls} == {second}
            assert all(url_end(u) <= world.issued[second] for u in urls)
            assert refreshes(registry, "renewed") == 1

    asyncio.run(run())


def test_aio_dead_refresh_path_fails_fast(
    own_moto: OwnMoto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = AioWorld(own_moto.url, monkeypatch, tmp_path)
    registry = CollectorRegistry()
    guard(world.session, metrics=registry, clock=world.clock)

    async def run() -> None:
        async with world.session.create_client("s3") as s3:
            await s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
            await world.credentials()
            own_moto.stop()
            world.clock.offset = 16 * MINUTE
            with pytest.raises(RefreshFailed) as raised:
                await s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
            assert raised.value.outcome == "failed"
            assert refreshes(registry, "failed") == 1

    asyncio.run(run())
