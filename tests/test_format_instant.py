"""``format_instant``: one text for every instant credaudit writes, whatever renders it."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from credaudit.model import format_instant


@given(st.datetimes(timezones=st.just(UTC)))
def test_utc_instants_are_whole_seconds_with_z(value: datetime) -> None:
    """orjson renders UTC instants; the text is RFC 3339's, microseconds truncated, the
    year in four digits in every year (strftime's from year 1000 on: glibc's ``%Y`` does not
    pad the years before)."""
    text = format_instant(value)
    assert text == value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    if value.year >= 1000:
        assert text == value.strftime("%Y-%m-%dT%H:%M:%SZ")
