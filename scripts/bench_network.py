"""Benchmarks for the network probes (issue 3), printed as Markdown rows for docs/perf-network.md.

1. Blackholed metadata endpoint: a local listener that accepts connections and never answers
   (what a dropped 169.254.169.254 looks like).  `credaudit scan` with default settings
   against a fresh `python -c "import botocore.session; ...get_credentials()"` with its
   defaults, both pointed at it through AWS_EC2_METADATA_SERVICE_ENDPOINT, interleaved,
   medians of N runs.  Target: credaudit ≤ 60 % of botocore.
2. Refusing endpoint (a closed loopback port): `credaudit scan` against
   `credaudit scan --no-network`.  Target: within 50 ms.

Only 127.0.0.1 is ever contacted.  Figures are measured, never asserted.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CREDAUDIT = Path(os.environ.get("CREDAUDIT_BENCH_BIN") or Path(sys.executable).parent / "credaudit")
PYTHON = CREDAUDIT.parent / "python"
RUNS = int(os.environ.get("BENCH_RUNS", "11"))
BOTOCORE = "import botocore.session; botocore.session.Session().get_credentials()"


class Blackhole:
    """Accepts every connection and never reads or answers; holds them until closed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def refusing_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # closed again: connections are refused


def bare_env(home: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
        AWS_EC2_METADATA_SERVICE_ENDPOINT=endpoint,
    )
    return env


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def check_scan(env: dict[str, str], expect: str) -> None:
    """Refuse to time a scan that does not work: it must print JSON with the IMDS probe."""
    done = subprocess.run(
        [str(CREDAUDIT), "scan", "--format", "json"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    try:
        probes = {p["name"]: p for p in json.loads(done.stdout)["probes"]}
    except (ValueError, KeyError):
        sys.exit(f"credaudit scan did not produce a report: {done.stderr.strip()[-300:]}")
    imds = probes.get("imds", {})
    if imds.get("status") != "failed" or expect not in imds.get("detail", ""):
        sys.exit(f"unexpected IMDS probe result: {imds}")
    print(f"sanity: imds probe {imds['status']}: {imds['detail']}")


def medians(cmds: dict[str, list[str]], env: dict[str, str]) -> dict[str, float]:
    for cmd in cmds.values():  # warm the page cache and .pyc files
        wall(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(RUNS):
        for name, cmd in cmds.items():
            times[name].append(wall(cmd, env))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    python = str(PYTHON if PYTHON.exists() else sys.executable)
    print(f"credaudit: {CREDAUDIT}; botocore baseline: {python} -c {BOTOCORE!r}; N={RUNS}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        hole = Blackhole()
        try:
            env = bare_env(home, hole.url)
            check_scan(env, "unreachable")
            m = medians(
                {
                    "scan": [str(CREDAUDIT), "scan", "--format", "json"],
                    "botocore": [python, "-c", BOTOCORE],
                },
                env,
            )
        finally:
            hole.close()
        print("\n| blackholed IMDS (accepts, never answers) | median |")
        print("|---|---|")
        print(f"| `credaudit scan` (default, --probe-timeout 1s) | {m['scan'] * 1000:.0f} ms |")
        print(f"| botocore `get_credentials()` (defaults) | {m['botocore'] * 1000:.0f} ms |")
        print(f"| ratio | {m['scan'] / m['botocore']:.0%} (target ≤ 60 %) |")

        env = bare_env(home, refusing_url())
        check_scan(env, "refused")
        r = medians(
            {
                "scan": [str(CREDAUDIT), "scan", "--format", "json"],
                "offline": [str(CREDAUDIT), "scan", "--format", "json", "--no-network"],
            },
            env,
        )
        delta = (r["scan"] - r["offline"]) * 1000
        print("\n| refusing IMDS (closed port) | median |")
        print("|---|---|")
        print(f"| `credaudit scan` | {r['scan'] * 1000:.0f} ms |")
        print(f"| `credaudit scan --no-network` | {r['offline'] * 1000:.0f} ms |")
        print(f"| difference | {delta:+.0f} ms (target ≤ 50 ms) |")


if __name__ == "__main__":
    main()
