"""The metrics of ``credaudit serve``: a prometheus-client Collector over the latest snapshot.

The families are built fresh from the snapshot the loop published last (never global gauges:
a credential that is gone must not linger as a series, cert-manager#1332), so a scrape never
costs a scan.  A snapshot never changes, so its exposition is rendered once per snapshot and
format (``Exposition``); only ``credaudit_clock_time_seconds``, the exporter's clock at the
scrape, is rendered per scrape (``ClockCollector``).  Prometheus scrapes every 15 s or so and
a scan runs every minute, so every snapshot is served several times (more with an HA pair):
rendering per scrape was most of a scrape's CPU and, under 20 concurrent scrapers, its tail.

The scan's own families are the ones ``scan --format prometheus`` writes
(``report.prometheus.ScanCollector``); around them the exporter says how it is doing: whether
its latest scan worked, when one last did, how long it took, its errors by a fixed set of
reasons, its scan interval, and its own clock
(``credaudit_clock_time_seconds``, read at scrape time, so Prometheus can compare it with its
own: cert-manager's ``certmanager_clock_time_seconds``).  Host, region and cluster are the
scrape's target labels; nothing here adds one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from credaudit.fleet.loop import ERROR_REASONS, Snapshot
from credaudit.report.prometheus import ScanCollector, build_info, escaped_labels

_FROM_SNAPSHOT = " (from the latest background scan; a scrape never runs one)"


class SnapshotCollector:
    """The families of one snapshot: the scan's and the exporter's state after it."""

    def __init__(self, snap: Snapshot, *, interval: float, skew_margin: float) -> None:
        self._snap = snap
        self._interval = interval
        self._skew_margin = skew_margin

    def collect(self) -> Iterator[Metric]:
        snap = self._snap
        if snap.report is not None:
            yield from escaped_labels(ScanCollector(snap.report).collect())
        else:
            yield build_info()
        yield _gauge(
            "credaudit_up",
            "1 when the latest scan produced a report, else 0" + _FROM_SNAPSHOT + ".",
            1.0 if snap.up else 0.0,
        )
        if snap.last_success is not None:
            yield _gauge(
                "credaudit_last_success_timestamp_seconds",
                "When the latest successful scan finished (Unix time).",
                snap.last_success,
            )
        if snap.duration is not None:
            yield _gauge(
                "credaudit_scan_duration_seconds",
                "How long the latest scan took, in seconds.",
                snap.duration,
            )
        scans = CounterMetricFamily("credaudit_scans", "Scans run since the exporter started.")
        scans.add_metric([], float(snap.scans))
        yield scans
        errors = CounterMetricFamily(
            "credaudit_scan_errors",
            "Scan errors since the exporter started, by reason: scan (the scan failed), target "
            "(the target could not be built), source (a credential source was unreadable, "
            "CA702), probe (a metadata probe failed), clock (the clock check had no answer).",
            labels=["reason"],
        )
        for reason in ERROR_REASONS:
            errors.add_metric([reason], float(snap.errors.get(reason, 0)))
        yield errors
        yield _gauge(
            "credaudit_scan_interval_seconds",
            "The exporter's --interval between scans.",
            self._interval,
        )
        yield _gauge(
            "credaudit_start_time_seconds", "When the exporter started (Unix time).", snap.started
        )
        yield _gauge(
            "credaudit_clock_skew_margin_seconds",
            "The --skew-margin the exporter's budget tolerates.",
            self._skew_margin,
        )
        clock = snap.report.clock if snap.report is not None else None
        if clock is not None:
            yield _gauge(
                "credaudit_clock_offset_seconds",
                "The local clock minus the --clock-check reference (positive: ahead)"
                + _FROM_SNAPSHOT
                + ".",
                clock.offset_seconds,
            )
            yield _gauge(
                "credaudit_clock_uncertainty_seconds",
                "How far the measured clock offset may be off, in seconds.",
                clock.uncertainty_seconds,
            )

    def describe(self) -> list[Any]:
        return []  # nothing to describe before a scrape: the families come from the snapshot


class ClockCollector:
    """The exporter's own clock, read at each scrape (cert-manager's clock gauge)."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall

    def collect(self) -> Iterator[Metric]:
        yield _gauge(
            "credaudit_clock_time_seconds",
            "The exporter's own clock at the scrape (Unix time): compare with timestamp() to "
            "see a host's clock skew.",
            self._wall(),
        )

    def describe(self) -> list[Any]:
        return []


_EOF = b"# EOF\n"


class Exposition:
    """``/metrics`` bodies: the latest snapshot's families, rendered once per snapshot and
    format by prometheus-client's encoders, followed by the per-scrape clock."""

    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        *,
        interval: float,
        skew_margin: float,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._snapshot = snapshot
        self._interval = interval
        self._skew_margin = skew_margin
        self._clock = CollectorRegistry(auto_describe=False)
        self._clock.register(ClockCollector(wall))
        self._rendered: dict[str, tuple[Snapshot, bytes]] = {}
        self._lock = threading.Lock()

    def render(self, accept: str) -> tuple[bytes, str]:
        """The body and its content type for a scraper's ``Accept`` header."""
        encoder, content_type = choose_encoder(accept)
        snap = self._snapshot()
        with self._lock:
            cached = self._rendered.get(content_type)
        if cached is None or cached[0] is not snap:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(
                SnapshotCollector(snap, interval=self._interval, skew_margin=self._skew_margin)
            )
            body = encoder(registry)
            # OpenMetrics ends with "# EOF": once, after the clock.
            cached = (snap, body.removesuffix(_EOF))
            with self._lock:
                self._rendered[content_type] = cached
        return cached[1] + encoder(self._clock), content_type


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family
