"""credaudit serve under the load that broke prometheus-client's ``start_http_server``:
20 concurrent scrapers on loopback, beside node_exporter (Debian's prometheus-node-exporter,
unpacked by scripts/peers) under the same load in the same run.  Bounded in requests and in
seconds.  Latency is measured, not asserted (scripts/bench serve records the ratio); what must
hold is that every request is answered and that memory does not grow with requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.load import scrape_load
from tests.fleet.serve_util import EXAMPLE_ARGS, Served, rss_kib, serving
from tests.peers.peer_util import find_binary, free_port, require_peer, start_process, stop_process

pytestmark = pytest.mark.peer


def node_exporter_argv(binary: Path, port: int) -> list[str]:
    """node_exporter with minimal collectors: the cheapest Go exporter to hold credaudit to."""
    return [
        str(binary),
        "--collector.disable-defaults",
        "--collector.loadavg",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


@pytest.fixture(scope="module")
def node_exporter() -> Iterator[int]:
    binary = find_binary("CREDAUDIT_PEER_NODE_EXPORTER", "node_exporter/node_exporter")
    if binary is None:
        require_peer("node_exporter is not installed (scripts/peers install)")
    port = free_port()
    proc = start_process(node_exporter_argv(binary, port), port)
    yield port
    stop_process(proc)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serving(*EXAMPLE_ARGS, "--no-network") as running:
        yield running


def test_node_exporter_answers_the_same_load(node_exporter: int) -> None:
    result = scrape_load(node_exporter, requests=1500, seconds=5, expect=b"node_load1")
    assert result.failures == []
    assert len(result.latencies) > 100


def test_serve_answers_every_request_of_20_concurrent_scrapers(served: Served) -> None:
    result = scrape_load(served.port, requests=1500, seconds=5, expect=b"credaudit_up 1.0")
    assert result.failures == []
    assert len(result.latencies) > 100
    assert all(latency < 1.0 for latency in result.latencies)  # no SYN-retry second


def test_serve_memory_does_not_grow_with_requests(served: Served) -> None:
    scrape_load(served.port, requests=500, seconds=5)  # warm: threads, buffers, the render
    before = rss_kib(served.proc.pid)
    for _ in range(3):
        result = scrape_load(served.port, requests=1000, seconds=5)
        assert result.failures == []
    after = rss_kib(served.proc.pid)
    assert after <= before * 1.1 + 1024, (before, after)  # KiB: 10 % and 1 MiB of slack
