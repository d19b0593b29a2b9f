"""``format_instant``: one text for every instant credaudit writes, whatever renders it."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from credaudit.model import format_instant


@given(st.datetimes(timezones=st.just(UTC)))
def test_utc_instants_are_whole_seconds_with_z(value: datetime) -> None:
    """orjson renders UTC instants; the text is strftime's, microseconds truncated."""
    assert format_instant(value) == value.strftime("%Y-%m-%dT%H:%M:%SZ")
