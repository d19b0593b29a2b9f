"""The clock a run is evaluated against.

Nothing below the CLI calls ``datetime.now()``: a Clock is part of the Target, so tests and
``--at`` get a deterministic "now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Clock:
    """A fixed evaluation instant (timezone-aware UTC)."""

    instant: datetime

    @classmethod
    def system(cls) -> Clock:
        """This host's clock, as precise as it is.  Not cut to the whole second, though
        every figure is printed so: a now cut down is up to a second later than it says, so
        a check at a boundary (a 60 s token against a 60 s skew margin, an EKS token's 15
        minutes against 15 required) would pass a second it should not."""
        return cls(datetime.now(UTC))

    def now(self) -> datetime:
        return self.instant
