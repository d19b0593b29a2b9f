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
        return cls(datetime.now(UTC))

    def now(self) -> datetime:
        return self.instant
