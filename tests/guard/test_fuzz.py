"""The guard's few parsers, fuzzed: what IMDS served (``_record``), a caller's ``ExpiresIn``
(``_seconds``) and the options (``Policy.build``).  Bad input is refused or passed on to
botocore, never a crash inside the guard."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from credaudit.guard import GuardError
from credaudit.guard._botocore import _record, served_expiry
from credaudit.guard.lifeline import Policy
from credaudit.guard.presign import _seconds

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.binary(max_size=10),
)


@given(
    key=st.text(min_size=1, max_size=24),
    expiry=st.one_of(
        st.text(max_size=40),
        st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        values,
    ),
)
@example(key="ASIAFUZZ", expiry="2026-12-02T01:00:00Z")
@example(key="ASIAFUZZ", expiry="not a time")
def test_served_expiry_records_only_instants(key: str, expiry: object) -> None:
    _record({"access_key": key, "expiry_time": expiry})
    served = served_expiry(key)
    if served is not None:
        assert isinstance(served, datetime) and served.tzinfo is not None


@given(values)
@example(float("inf"))
@example(float("nan"))
@example(True)
@example("3600")
def test_expires_in_is_an_int_or_left_to_botocore(value: object) -> None:
    seconds = _seconds(value)
    assert seconds is None or isinstance(seconds, int)
    if isinstance(value, bool):
        assert seconds is None


@given(min_remaining=values, skew=values, jitter=values)
@example(min_remaining=float("nan"), skew=30, jitter=0.2)
@example(min_remaining=900, skew=float("inf"), jitter=0.2)
def test_options_are_checked(min_remaining: object, skew: object, jitter: object) -> None:
    try:
        policy = Policy.build("clamp", min_remaining, skew, jitter, None, None)  # type: ignore[arg-type]
    except GuardError as exc:
        assert str(exc).split("=")[0] in ("min_remaining", "skew", "jitter")
        return
    for number in (policy.min_remaining, policy.skew, policy.jitter):
        assert math.isfinite(number) and number >= 0
    assert policy.jitter <= 1
