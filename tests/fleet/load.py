"""A bounded scrape load: N concurrent scrapers on keep-alive connections, as Prometheus
servers (an HA pair, federation, ad-hoc curls) hit an exporter.  Used by the load test and by
``scripts/bench_serve.py``; loopback only, bounded in requests and in time."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    failures: list[str] = field(default_factory=list)
    bytes_read: int = 0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def scrape_load(
    port: int,
    *,
    scrapers: int = 20,
    requests: int = 2000,
    seconds: float = 5.0,
    path: str = "/metrics",
    expect: bytes = b"",
) -> LoadResult:
    """``scrapers`` threads share ``requests`` GETs, stopping after ``seconds`` at the latest;
    an answer that is not a 200 containing ``expect`` is a failure."""
    result = LoadResult()
    lock = threading.Lock()
    left = [requests]
    deadline = time.monotonic() + seconds

    def take() -> bool:
        with lock:
            if left[0] <= 0 or time.monotonic() > deadline:
                return False
            left[0] -= 1
            return True

    def scraper() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while take():
            begun = time.perf_counter()
            try:
                conn.request("GET", path)
                answer = conn.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    result.failures.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            took = time.perf_counter() - begun
            with lock:
                if answer.status != 200 or expect not in body:
                    result.failures.append(f"status {answer.status}")
                else:
                    result.latencies.append(took)
                    result.bytes_read += len(body)
        conn.close()

    threads = [threading.Thread(target=scraper) for _ in range(scrapers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result
