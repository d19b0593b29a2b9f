"""Benchmark for `credaudit serve` (issue 12), printed as Markdown rows for docs/performance.md.

1. p99 `/metrics` latency under 20 concurrent keep-alive scrapers on loopback: `credaudit serve`
   (the bundled example host, `--no-network`) against node_exporter 1.5 with minimal collectors
   (`--collector.disable-defaults --collector.loadavg`), in the same run, interleaved rounds of
   the same load, median of the rounds' p99.  Target: credaudit ≤ 1.5× node_exporter.
2. credaudit's RSS after 10,000 scrapes against its RSS after a 200-scrape warm-up.
   Target: ≤ 1.2×.

The same load generator as the tests (tests/fleet/load.py).  Only 127.0.0.1 is contacted;
every round is bounded in requests and seconds.  Figures are measured, never asserted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fleet.load import scrape_load  # noqa: E402
from tests.fleet.serve_util import EXAMPLE_ARGS, clean_env, rss_kib  # noqa: E402
from tests.peers.peer_util import free_port, port_open, wait_until  # noqa: E402
from tests.peers.test_serve_load import node_exporter_argv  # noqa: E402

CREDAUDIT = Path(os.environ.get("CREDAUDIT_BENCH_BIN") or Path(sys.executable).parent / "credaudit")
NODE_EXPORTER = REPO / ".peers" / "node_exporter" / "node_exporter"
ROUNDS = int(os.environ.get("BENCH_RUNS", "7"))
PER_ROUND = 2000
SCRAPERS = 20


def start(argv: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env()
    )
    if not wait_until(lambda: port_open(port), timeout=30):
        proc.kill()
        raise SystemExit(f"{argv[0]} did not listen on 127.0.0.1:{port}")
    return proc


def scanned(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
        return b"credaudit_scans_total 1.0" in answer.read()


def main() -> None:
    node_port, serve_port = free_port(), free_port()
    node = start(node_exporter_argv(NODE_EXPORTER, node_port), node_port)
    argv = [str(CREDAUDIT), "serve", "--listen", f"127.0.0.1:{serve_port}", *EXAMPLE_ARGS]
    serve = start([*argv, "--no-network"], serve_port)
    try:
        wait_until(lambda: scanned(serve_port), timeout=30)
        scrape_load(serve_port, scrapers=SCRAPERS, requests=200, seconds=10)
        scrape_load(node_port, scrapers=SCRAPERS, requests=200, seconds=10)
        rss_before = rss_kib(serve.pid)
        ours, theirs = [], []
        scrapes = 200
        for _ in range(ROUNDS):
            for port, into in ((node_port, theirs), (serve_port, ours)):
                result = scrape_load(port, scrapers=SCRAPERS, requests=PER_ROUND, seconds=30)
                if result.failures:
                    raise SystemExit(f"port {port}: {len(result.failures)} failed requests")
                into.append(result.percentile(0.99))
                if port == serve_port:
                    scrapes += len(result.latencies)
        while scrapes < 10_200:
            result = scrape_load(
                serve_port, scrapers=SCRAPERS, requests=10_200 - scrapes, seconds=60
            )
            scrapes += len(result.latencies)
        time.sleep(0.5)
        rss_after = rss_kib(serve.pid)
    finally:
        for proc in (serve, node):
            proc.terminate()
            proc.wait(timeout=10)
    p99_ours, p99_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"rounds: {ROUNDS} × {PER_ROUND} requests per target, {SCRAPERS} scrapers, interleaved")
    print("| measure | credaudit serve | node_exporter 1.5 (minimal) | ratio | target |")
    print("|---|---|---|---|---|")
    print(
        f"| p99 /metrics latency (median of rounds) | {p99_ours * 1000:.1f} ms | "
        f"{p99_theirs * 1000:.1f} ms | {p99_ours / p99_theirs:.2f}× | ≤ 1.5× |"
    )
    print(
        f"| RSS after {scrapes - 200:,} more scrapes | {rss_after / 1024:.1f} MiB "
        f"(from {rss_before / 1024:.1f} MiB) | | {rss_after / rss_before:.3f}× | ≤ 1.2× |"
    )
    print("p99 per round (ms): credaudit", [round(v * 1000, 1) for v in ours])
    print("p99 per round (ms): node_exporter", [round(v * 1000, 1) for v in theirs])


if __name__ == "__main__":
    main()
