"""Shared helpers for tests against real peers (moto server, AWS CLI v1, s3rver, ...).

A peer that cannot be installed or started must not make a test pass silently: under CI
(``CI=true``) it is a failure, elsewhere a skip with the reason.  Everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / ".peers"


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def require_peer(reason: str) -> NoReturn:
    """Fail under CI, skip elsewhere: a missing peer is never a silent pass."""
    if under_ci():
        pytest.fail(f"peer unavailable under CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(ready: Callable[[], bool], timeout: float = 15.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return True
        except OSError:
            pass
        time.sleep(interval)
    return False


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def find_binary(env_var: str, relative: str, name: str | None = None) -> Path | None:
    """A peer binary: from ``env_var``, from ``.peers/<relative>``, or on PATH."""
    candidates = [os.environ.get(env_var, ""), str(PEERS / relative)]
    if name:
        candidates.append(shutil.which(name) or "")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def start_process(
    argv: Sequence[str], port: int, *, env: dict[str, str] | None = None, timeout: float = 20.0
) -> subprocess.Popen[bytes]:
    """Start a server and wait for its port; a server that never listens is require_peer'd."""
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if not wait_until(lambda: port_open(port) or proc.poll() is not None, timeout):
        proc.kill()
        require_peer(f"{argv[0]} did not listen on 127.0.0.1:{port} within {timeout} s")
    if proc.poll() is not None:
        err = proc.stderr.read().decode(errors="replace")[-300:] if proc.stderr else ""
        require_peer(f"{argv[0]} exited at start: {err}")
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def start_s3rver(data: Path, bucket: str) -> tuple[subprocess.Popen[bytes], str]:
    """npm s3rver on a free loopback port with ``bucket`` configured, and its endpoint URL."""
    binary = find_binary("CREDAUDIT_PEER_S3RVER", "node/node_modules/.bin/s3rver", "s3rver")
    if binary is None:
        require_peer("s3rver not installed (run scripts/peers install)")
    port = free_port()
    argv = [str(binary), "-d", str(data), "-a", "127.0.0.1", "-p", str(port), "-s"]
    proc = start_process([*argv, "--configure-bucket", bucket], port)
    return proc, f"http://127.0.0.1:{port}"
