"""The guard's metrics, into a prometheus-client ``CollectorRegistry`` or an OpenTelemetry
meter.  Either library is imported only when a sink for it is made.

- ``credaudit_guard_credential_expiry_timestamp_seconds{source}``: when the guarded session
  really ends (for instance credentials the expiry IMDS served), read at scrape time; the
  earliest one when several guarded credentials share a source;
- ``credaudit_guard_refreshes_total{outcome}``: refreshes the guard asked for: ``renewed``,
  ``same`` (the same session came back) or ``failed``;
- ``credaudit_guard_presigns_total{action}``: S3 presigns by what the guard did (see
  ``credaudit.guard.presign.ACTIONS``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from credaudit.guard.lifeline import Lifeline

EXPIRY = "credaudit_guard_credential_expiry_timestamp_seconds"
REFRESHES = "credaudit_guard_refreshes_total"
PRESIGNS = "credaudit_guard_presigns_total"
OUTCOMES = ("renewed", "same", "failed")
_HELP_EXPIRY = "When the guarded credentials' session ends (Unix time), the earliest per source."
_HELP_REFRESHES = "Refreshes credaudit.guard asked for, by outcome (renewed, same, failed)."
_HELP_PRESIGNS = "S3 presigns seen by credaudit.guard, by what it did with the expiry."


class Sink(Protocol):
    def refresh(self, outcome: str) -> None: ...
    def presign(self, action: str) -> None: ...
    def track(self, lifeline: Lifeline) -> None: ...


def _earliest(lifelines: weakref.WeakSet[Lifeline]) -> dict[str, float]:
    by_source: dict[str, float] = {}
    for lifeline in list(lifelines):
        view = lifeline.last_view
        if view is None or view.expires_ts is None:
            continue
        known = by_source.get(lifeline.source)
        if known is None or view.expires_ts < known:
            by_source[lifeline.source] = view.expires_ts
    return by_source


class PrometheusSink:
    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter

        self._lifelines: weakref.WeakSet[Lifeline] = weakref.WeakSet()
        # prometheus-client appends _total to a counter's name itself.
        refreshes = Counter(REFRESHES[:-6], _HELP_REFRESHES, ["outcome"], registry=registry)
        self._refreshes = {o: refreshes.labels(outcome=o) for o in OUTCOMES}
        self._refresh_family = refreshes
        presigns = Counter(PRESIGNS[:-6], _HELP_PRESIGNS, ["action"], registry=registry)
        self._presign_family = presigns
        self._presigns: dict[str, Any] = {}
        registry.register(_ExpiryCollector(self._lifelines))

    def refresh(self, outcome: str) -> None:
        child = self._refreshes.get(outcome)
        if child is None:
            child = self._refreshes[outcome] = self._refresh_family.labels(outcome=outcome)
        child.inc()

    def presign(self, action: str) -> None:
        child = self._presigns.get(action)
        if child is None:
            child = self._presigns[action] = self._presign_family.labels(action=action)
        child.inc()

    def track(self, lifeline: Lifeline) -> None:
        self._lifelines.add(lifeline)


class _ExpiryCollector:
    def __init__(self, lifelines: weakref.WeakSet[Lifeline]) -> None:
        self._lifelines = lifelines

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(EXPIRY, _HELP_EXPIRY, labels=["source"])
        for source, expires in sorted(_earliest(self._lifelines).items()):
            family.add_metric([source], expires)
        yield family

    def describe(self) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        return [GaugeMetricFamily(EXPIRY, _HELP_EXPIRY, labels=["source"])]


class OpenTelemetrySink:
    def __init__(self, meter: Any) -> None:
        from opentelemetry.metrics import Observation

        self._observation = Observation
        self._lifelines: weakref.WeakSet[Lifeline] = weakref.WeakSet()
        self._refreshes = meter.create_counter(REFRESHES, unit="1", description=_HELP_REFRESHES)
        self._presigns = meter.create_counter(PRESIGNS, unit="1", description=_HELP_PRESIGNS)
        meter.create_observable_gauge(
            EXPIRY, callbacks=[self._observe], unit="s", description=_HELP_EXPIRY
        )

    def _observe(self, _options: Any) -> list[Any]:
        return [
            self._observation(expires, {"source": source})
            for source, expires in sorted(_earliest(self._lifelines).items())
        ]

    def refresh(self, outcome: str) -> None:
        self._refreshes.add(1, {"outcome": outcome})

    def presign(self, action: str) -> None:
        self._presigns.add(1, {"action": action})

    def track(self, lifeline: Lifeline) -> None:
        self._lifelines.add(lifeline)


_sinks: dict[int, tuple[Any, Sink]] = {}
_sinks_lock = threading.Lock()


def sink_for(target: Any) -> Sink:
    """One sink per registry or meter, however many ``guard()`` calls share it (a metric
    can be registered on a registry only once)."""
    from credaudit.guard.errors import GuardError

    with _sinks_lock:
        known = _sinks.get(id(target))
        if known is not None and known[0] is target:
            return known[1]
        sink: Sink
        if hasattr(target, "register") and hasattr(target, "collect"):
            sink = PrometheusSink(target)
        elif hasattr(target, "create_counter") and hasattr(target, "create_observable_gauge"):
            sink = OpenTelemetrySink(target)
        else:
            raise GuardError(
                f"metrics={type(target).__name__}: expected a prometheus_client "
                "CollectorRegistry or an OpenTelemetry Meter"
            )
        _sinks[id(target)] = (target, sink)
        return sink
