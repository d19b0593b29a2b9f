"""Canary: nothing the guard says — log records at every level, exception messages, metrics —
carries a secret key or a session token, whatever path it takes (fits, clamp, refuse, warn,
renewed, failed)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from credaudit.guard import GuardError, guard
from tests.guard.conftest import MINUTE, SOURCE_SECRET, OwnMoto, make_role_world
from tests.guard.test_sts_presign import PARAMS, SIX_HOURS

pytestmark = pytest.mark.peer


def test_no_secret_in_anything_the_guard_says(
    own_moto: OwnMoto,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="credaudit.guard")
    world = make_role_world(own_moto.url, monkeypatch, tmp_path, duration=1800)
    registry = CollectorRegistry()
    secrets: set[str] = {SOURCE_SECRET}
    said: list[str] = []

    def remember() -> None:
        frozen = world.credentials().get_frozen_credentials()
        secrets.update({frozen.secret_key, frozen.token})

    def attempt(client: Any, **kwargs: Any) -> None:
        try:
            client.generate_presigned_url("get_object", Params=PARAMS, **kwargs)
        except GuardError as exc:
            said.append(str(exc))
            said.append(repr(exc))
        remember()

    session = guard(world.session, presign="warn", metrics=registry, clock=world.clock)
    s3 = session.client("s3")
    for mode in ("warn", "clamp", "refuse", "refresh"):
        guard(s3, presign=mode, metrics=registry, clock=world.clock)
        attempt(s3, ExpiresIn=SIX_HOURS)
        attempt(s3, ExpiresIn=60)
    world.credentials()
    world.clock.offset = 16 * MINUTE
    attempt(s3, ExpiresIn=60)  # renewed
    world.credentials()
    own_moto.stop()
    world.clock.offset = 16 * MINUTE
    attempt(s3, ExpiresIn=60)  # failed
    said.extend(r.getMessage() for r in caplog.records)
    said.append(generate_latest(registry).decode())
    outcomes = {
        o: registry.get_sample_value("credaudit_guard_refreshes_total", {"outcome": o})
        for o in ("renewed", "failed")  # "same": test_sts_refresh, with its own canary
    }
    assert all(outcomes.values()), outcomes  # every path was taken
    text = "\n".join(said)
    assert "refused" in text and "Presigned request will expire" in text
    for secret in secrets:
        assert secret and secret not in text
