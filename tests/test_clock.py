"""The evaluation clock every command takes "now" from."""

from __future__ import annotations

from datetime import UTC, datetime

from credaudit.clock import Clock


def test_system_clock_is_aware_utc_and_not_cut_to_the_second() -> None:
    """Aware UTC (every instant it is compared with is), and as precise as the host's
    clock: cut down to the second, a boundary check would pass up to a second late."""
    readings = []
    for _ in range(50):
        before = datetime.now(UTC)
        now = Clock.system().now()
        assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)
        readings.append(now.microsecond)
    assert any(readings)  # 50 readings all on a whole second: cut, not read
