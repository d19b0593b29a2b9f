"""The fleet's expiry events counted per time bucket and host group: what the table and
markdown formats draw as text bars and the html format as an SVG.

The bucket width is the smallest "round" span (1 min … 1 day) that covers the events in at
most ``MAX_BUCKETS`` buckets, aligned to whole multiples of it (UTC), so a cluster lands in
one visible bar and two renders of the same fleet agree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from credaudit.fleet.model import ExpiryEvent

MAX_BUCKETS = 24
WIDTHS = [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)]


@dataclass(frozen=True)
class Bucket:
    start: datetime
    counts: dict[str, int]  # group -> events

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Histogram:
    width: timedelta
    groups: list[str]
    buckets: list[Bucket]

    @property
    def peak(self) -> int:
        return max((b.total for b in self.buckets), default=0)


def _floor(at: datetime, width: timedelta) -> datetime:
    step = int(width.total_seconds())
    return datetime.fromtimestamp(int(at.timestamp()) // step * step, UTC)


def histogram(events: list[ExpiryEvent]) -> Histogram:
    groups = sorted({e.group for e in events})
    if not events:
        return Histogram(WIDTHS[0], groups, [])
    first, last = events[0].at, events[-1].at
    width = WIDTHS[-1]
    for candidate in WIDTHS:
        if (_floor(last, candidate) - _floor(first, candidate)) / candidate < MAX_BUCKETS:
            width = candidate
            break
    counts: dict[datetime, Counter[str]] = {}
    for event in events:
        counts.setdefault(_floor(event.at, width), Counter())[event.group] += 1
    start, end = _floor(first, width), _floor(last, width)
    buckets = []
    while start <= end:
        buckets.append(Bucket(start, dict(counts.get(start, Counter()))))
        start += width
    return Histogram(width, groups, buckets)
