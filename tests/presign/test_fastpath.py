"""The fast paths (template parse, shared verdicts, cached JSON tail) equal the general ones.

``parse`` reuses a parsed query head for URLs that differ only in path and signature, and
``analyze`` reuses a verdict for URLs of one shape; both must be invisible.  Hypothesis
mutates boto3-signed URLs and compares every field with the general parser, every output
line with a plain ``json`` encoding of ``to_dict()``.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.presign import inspect
from credaudit.presign.parse import ParsedUrl, _parse_full, parse
from tests.presign.helpers import TEMP_KEY, presign

T0 = datetime(2030, 1, 1, tzinfo=UTC)
COMPARED = [f.name for f in fields(ParsedUrl) if f.name != "shape"]
BASES = [
    presign(at=T0),
    presign(at=T0, style="path", region="eu-west-1", object_key="a b/ü?#&=.txt"),
    presign(at=T0, token=None, key="AKIAY34FZKBOKMUTVV7A", expires=604800),
    presign(at=T0, endpoint_url="http://127.0.0.1:4568", style="path"),
    presign(at=T0, version="s3"),
]
PIECES = st.sampled_from(
    ["&", "=", "#", "?", "@", ":", "/", "%", "%zz", " ", "X-Amz-Signature=", "é", "A", "0"]
)


def _same_parse(url: str) -> ParsedUrl:
    fast, full = parse(url), _parse_full(url)
    for name in COMPARED:
        assert getattr(fast, name) == getattr(full, name), (name, url)
    return fast


def test_boto3_urls_take_the_fast_path_and_match() -> None:
    for url in BASES[:4]:
        assert _same_parse(url).shape is not None
    assert _same_parse(BASES[4]).shape is None  # SigV2: general path


def test_a_changed_signature_shares_the_template_but_keeps_its_own_problems() -> None:
    good = BASES[0]
    bad = good[:-64] + "Z" * 64
    assert _same_parse(good).shape != _same_parse(bad).shape
    assert any("64 lowercase hex" in m for _, m in parse(bad).problems)
    assert not parse(good).problems


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(BASES),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=0, max_value=3),
    PIECES,
)
def test_mutated_urls_parse_the_same_either_way(base: str, at: int, cut: int, piece: str) -> None:
    at %= len(base) + 1
    _same_parse(base[:at] + piece + base[at + cut :])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(BASES),
    st.integers(min_value=0, max_value=2000),
    PIECES,
    st.sampled_from([None, T0 + timedelta(minutes=20), T0 + timedelta(days=1)]),
    st.integers(min_value=-7200, max_value=7200),
)
def test_shared_verdicts_and_json_lines_match_a_fresh_judgement(
    base: str, at: int, piece: str, session: datetime | None, offset: int
) -> None:
    at %= len(base) + 1
    url = base[:at] + piece + base[at:]
    now = T0 + timedelta(seconds=offset)
    sessions = {TEMP_KEY: session} if session else None
    budget = Budget()
    first = inspect(url, now=now, budget=budget, sessions=sessions, line=1)
    again = inspect(url, now=now, budget=budget, sessions=sessions, line=2)  # from the cache
    other = inspect(url, now=now, budget=Budget(), sessions=sessions, line=2)  # new budget
    assert again.to_dict() == {**first.to_dict(), "line": 2} == other.to_dict()
    for result in (first, again, other):
        encoded = json.JSONEncoder(ensure_ascii=False).encode(result.to_dict())
        assert result.to_json() == encoded
        assert result.to_json() == encoded  # the tail, once rendered, is reused
