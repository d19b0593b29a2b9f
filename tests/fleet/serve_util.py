"""Running ``credaudit serve`` as a real process for the tests (signals, ports, scrapes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.peers.peer_util import REPO, free_port, wait_until

EXAMPLE = REPO / "docs" / "examples" / "batch-worker"
EXAMPLE_ARGS = [
    "--root",
    str(EXAMPLE),
    "--env-file",
    str(EXAMPLE / "worker.env"),
    "--all-profiles",
    "--run-time",
    "2h",
    "--queue-dwell",
    "20m",
]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env["PYTHONPATH"] = str(REPO)
    return env


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str = "/metrics", timeout: float = 5.0) -> str:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as answer:
            body: bytes = answer.read()
        return body.decode()

    def samples(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        found: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(self.get()):
            for sample in family.samples:
                found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
        return found

    def value(self, name: str) -> float:
        [(_, value)] = self.samples()[name]
        return value

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)


def serve_argv(port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "credaudit", "serve", "--listen", f"127.0.0.1:{port}", *args]


@contextmanager
def serving(*args: str, port: int | None = None, ready: bool = True) -> Iterator[Served]:
    """``credaudit serve`` on loopback until the block ends (SIGTERM, then kill)."""
    port = port or free_port()
    proc = subprocess.Popen(
        serve_argv(port, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=REPO,
    )
    served = Served(proc, port)
    try:
        started = wait_until(lambda: _answers(served) or proc.poll() is not None, timeout=30)
        assert started and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if ready:  # the first scan has been published
            assert wait_until(lambda: _scanned(served), timeout=30)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _answers(served: Served) -> bool:
    try:
        return "ok" in served.get("/healthz", timeout=1)
    except OSError:
        return False


def _scanned(served: Served) -> bool:
    return served.value("credaudit_scans_total") >= 1


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
