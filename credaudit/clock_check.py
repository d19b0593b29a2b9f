"""How far the local clock is from a reference's, read from an HTTP ``Date`` header.

botocore signs with the local clock and never corrects skew (reference §7), so a clock
minutes off fails every SigV4 request however fresh the credentials are.  One HTTP round
trip is enough to bound the error honestly:

- the server stamped ``Date`` somewhere between our send and our receive, so its instant
  on our clock is the midpoint of the round trip, give or take ``rtt / 2``;
- ``Date`` has one-second resolution and is truncated, so the server's real time at that
  instant is ``Date + 0.5 s``, give or take ``0.5 s``.

offset (local − reference) = local_mid − (Date + 0.5 s), uncertainty = rtt / 2 + 0.5 s.
Several samples are taken within the deadline and the one with the shortest round trip is
kept.  This module reads the real wall clock on purpose (through http_probe's response
times): the wall clock is what it measures.  ``from_response`` is pure, for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from credaudit.sources.http_probe import Deadline, ProbeError, Response, request

DATE_RESOLUTION = 0.5  # half of Date's one-second step
DEFAULT_SAMPLES = 3
DEFAULT_TIMEOUT = 5.0


class ClockCheckError(Exception):
    """The reference could not be read (unreachable, no Date header): one line, no secrets."""


@dataclass(frozen=True)
class ClockMeasurement:
    reference: str
    offset: timedelta  # local − reference: positive means the local clock is ahead
    uncertainty: timedelta
    rtt: timedelta
    reference_date: datetime
    samples: int

    @property
    def lower_bound(self) -> timedelta:
        """The skew we are sure of: |offset| − uncertainty, never below zero."""
        return max(timedelta(0), abs(self.offset) - self.uncertainty)


def sts_url(region: str) -> str:
    """The regional STS endpoint (``--online``); only its Date header is used."""
    return f"https://sts.{region}.amazonaws.com/"


def from_response(
    reference: str, response: Response, received_wall: float, samples: int = 1
) -> ClockMeasurement:
    """Turn one answered request into a measurement (pure: times come from the response)."""
    raw = response.headers.get("date")
    if not raw:
        raise ClockCheckError(f"{reference}: the answer has no Date header")
    try:
        stamped = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        raise ClockCheckError(f"{reference}: unreadable Date header {raw[:40]!r}") from None
    if stamped.tzinfo is None:
        stamped = stamped.replace(tzinfo=UTC)
    rtt = max(0.0, received_wall - response.sent_wall)
    local_mid = response.sent_wall + rtt / 2
    offset = local_mid - (stamped.timestamp() + DATE_RESOLUTION)
    return ClockMeasurement(
        reference=reference,
        offset=timedelta(seconds=offset),
        uncertainty=timedelta(seconds=rtt / 2 + DATE_RESOLUTION),
        rtt=timedelta(seconds=rtt),
        reference_date=stamped.astimezone(UTC),
        samples=samples,
    )


def measure(
    reference: str,
    timeout: float = DEFAULT_TIMEOUT,
    samples: int = DEFAULT_SAMPLES,
) -> ClockMeasurement:
    """Measure against ``reference`` (HEAD), keeping the sample with the shortest RTT."""
    deadline = Deadline(timeout)
    best: ClockMeasurement | None = None
    last_error: str | None = None
    taken = 0
    for _ in range(max(1, samples)):
        if deadline.expired():
            break
        try:
            response = request("HEAD", reference, deadline, max_body=0)
        except ProbeError as exc:
            last_error = exc.detail
            continue
        # The wall clock at the moment the headers arrived, derived from the monotonic
        # interval so a wall-clock step during the request cannot fake a round trip.
        received_wall = response.sent_wall + (response.answered_at - response.sent_at)
        taken += 1
        sample = from_response(reference, response, received_wall, taken)
        if best is None or sample.rtt < best.rtt:
            best = sample
    if best is None:
        raise ClockCheckError(f"{reference}: no answer ({last_error or 'deadline passed'})")
    return ClockMeasurement(
        reference=best.reference,
        offset=best.offset,
        uncertainty=best.uncertainty,
        rtt=best.rtt,
        reference_date=best.reference_date,
        samples=taken,
    )
