"""Real parts for the guard's tests: moto server's STS behind botocore's own assume-role
refresher (``AWS_ENDPOINT_URL_STS``), moto's and a stub's instance metadata, botocore's
``EnvProvider``.

Time is moved, never slept: ``MovingClock`` is both the guard's ``clock`` and the
credentials' own ``_time_fetcher``.  moto stamps every session it issues with the real
clock, so when moto issues a new session the clock returns to real time (``follow``): the
new session is as fresh to the guard as it is to moto.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil.tz import tzlocal

from tests.peers.conftest import moto_endpoint, scrubbed_env
from tests.peers.peer_util import free_port, require_peer, wait_until

__all__ = ["moto_endpoint"]

MINUTE = timedelta(minutes=1)
ROLE_ARN = "arn:aws:iam::123456789012:role/export"
SOURCE_KEY = "AKIAIOSFODNN7EXAMPLE"
SOURCE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSOURCESECRET"


class MovingClock:
    """Now, plus an offset the test sets."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.follow = True

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def local(self) -> datetime:  # botocore's time fetchers return local aware datetimes
        return datetime.now(tzlocal()) + self.offset


def bare_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    """Nothing from this machine's AWS environment; only ``env`` (botocore reads os.environ)."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "BOTO")):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    defaults = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_MAX_ATTEMPTS": "1",  # a dead endpoint fails at once, not after 5 retries
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for key, value in {**defaults, **env}.items():
        monkeypatch.setenv(key, value)


@dataclass
class RoleWorld:
    """A boto3 session whose credentials botocore gets by AssumeRole from moto."""

    session: Any
    clock: MovingClock
    issued: dict[str, datetime] = field(default_factory=dict)  # AccessKeyId -> Expiration

    def credentials(self) -> Any:
        """The credentials object every client of the session signs with."""
        creds = self.session._session.get_credentials()
        creds._time_fetcher = self.clock.local
        return creds

    def expiry(self, key: str) -> datetime:
        return self.issued[key]

    def record(self, parsed: dict[str, Any], **_: Any) -> None:
        creds = parsed.get("Credentials") or {}
        if "AccessKeyId" in creds:
            self.issued[creds["AccessKeyId"]] = creds["Expiration"].astimezone(UTC)
            if self.clock.follow:
                self.clock.offset = timedelta(0)


def role_profile(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, duration: int
) -> str:
    """Profile ``export``: a role (``duration`` seconds) assumed from static keys in
    ``src``, its STS calls sent to ``endpoint``.  Returns the profile's name."""
    config = tmp_path / "config"
    config.write_text(
        "[profile src]\n"
        f"aws_access_key_id = {SOURCE_KEY}\n"
        f"aws_secret_access_key = {SOURCE_SECRET}\n"
        "[profile export]\n"
        f"role_arn = {ROLE_ARN}\n"
        "source_profile = src\n"
        f"duration_seconds = {duration}\n"
        "region = us-east-1\n"
    )
    bare_aws_env(monkeypatch, tmp_path, AWS_CONFIG_FILE=str(config), AWS_ENDPOINT_URL_STS=endpoint)
    return "export"


def make_role_world(
    endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    duration: int = 1800,
) -> RoleWorld:
    import boto3

    profile = role_profile(endpoint, monkeypatch, tmp_path, duration)
    world = RoleWorld(boto3.Session(profile_name=profile), MovingClock())
    world.session.events.register("after-call.sts.AssumeRole", world.record)
    return world


@pytest.fixture
def role_world(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., RoleWorld]:
    def make(duration: int = 1800) -> RoleWorld:
        return make_role_world(moto_endpoint, monkeypatch, tmp_path, duration)

    return make


class OwnMoto:
    """A moto server of the test's own, so the test can stop it."""

    def __init__(self) -> None:
        exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
            "moto_server"
        )
        if exe is None:
            require_peer("moto_server is not installed (pip install 'moto[server]')")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=scrubbed_env(),
        )

        def up() -> bool:
            urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
            return True

        if not wait_until(up, timeout=30, interval=0.2):
            self.stop()
            require_peer("moto_server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def own_moto() -> Iterator[OwnMoto]:
    server = OwnMoto()
    yield server
    server.stop()
