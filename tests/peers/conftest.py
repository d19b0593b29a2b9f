"""Real peers for the tests: moto server and the AWS CLI v1, installed by scripts/peers.

A peer that cannot be found or started skips the test on a developer machine, but FAILS it
under CI (CI=true): a green CI must mean the peer tests ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.peer_util import REPO, free_port
from tests.peers.peer_util import require_peer as peer_missing


def scrubbed_env(**extra: str) -> dict[str, str]:
    """A bare-host environment: no AWS_* from this machine (it sets AWS_CA_BUNDLE)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
        "moto_server"
    )
    if exe is None:
        peer_missing("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=scrubbed_env(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                peer_missing("moto_server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def aws_cli() -> Path:
    """The AWS CLI v1 in its own venv (scripts/peers install)."""
    exe = REPO / ".peers" / "awscli" / "bin" / "aws"
    if not exe.exists():
        peer_missing(f"{exe} missing: run scripts/peers install")
    return exe
