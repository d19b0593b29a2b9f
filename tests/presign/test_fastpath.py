"""The fast paths (template parse, shared verdicts, cached JSON tail) equal the general ones.

``parse`` reuses a parsed query head for URLs that differ only in path and signature, and
``analyze`` reuses a verdict for URLs of one shape; both must be invisible.  Hypothesis
mutates boto3-signed URLs and compares every field with the general parser, every output
line with a plain ``json`` encoding of ``to_dict()``.
"""

from __future__ import annotations

import io
import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.model import Severity
from credaudit.presign import (
    LineTooLong,
    UrlResult,
    inspect,
    inspect_stream,
    read_lines,
    render_jsonl,
)
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


def _read_lines_by_readline(stream: io.BytesIO, max_line: int) -> list[bytes | int]:
    """The first ``read_lines`` (one bounded ``readline`` per line): the reference."""
    out: list[bytes | int] = []
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return out
        if len(line) > max_line and not line.endswith(b"\n"):
            length = len(line)
            while True:
                chunk = stream.readline(7)
                length += len(chunk)
                if chunk.endswith(b"\n"):
                    length -= 1
                    break
                if not chunk:
                    break
            out.append(length)
            continue
        out.append(line.rstrip(b"\r\n"))


class _Trickle(io.BytesIO):
    """A pipe that hands out at most ``step`` bytes per read, to cut lines across chunks."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read1(self, size: int | None = -1) -> bytes:
        return super().read1(self.step if size is None or size < 0 else min(size, self.step))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bb", b"\n", b"\r", b"\r\n", b"xyz" * 5, b""]), max_size=40),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=9),
)
def test_chunked_read_lines_matches_readline(parts: list[bytes], max_line: int, step: int) -> None:
    data = b"".join(parts)
    got = [
        item.length if isinstance(item, LineTooLong) else item
        for item in read_lines(_Trickle(data, step), max_line=max_line)
    ]
    assert got == _read_lines_by_readline(io.BytesIO(data), max_line)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(BASES),
            st.integers(min_value=0, max_value=2000),
            PIECES | st.sampled_from(["", "\x00", " ", "{", "\udcff"]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([None, T0 + timedelta(minutes=20)]),
    st.sampled_from([set(), {Severity.HIGH, Severity.CRITICAL}, set(Severity)]),
)
def test_render_jsonl_equals_inspect_stream(
    edits: list[tuple[str, int, str]], session: datetime | None, failing: set[Severity]
) -> None:
    lines: list[bytes] = []
    for base, where, piece in edits:
        at = where % (len(base) + 1)
        lines.append((base[:at] + piece + base[at:]).encode("utf-8", "surrogateescape"))
    lines += lines  # the second time round, every shape has a verdict
    budget = Budget()
    kwargs = {"now": T0, "budget": budget, "sessions": {TEMP_KEY: session} if session else None}
    expected = [
        (
            r.to_json().encode("utf-8", "surrogateescape"),
            any(f.severity in failing for f in r.findings),
        )
        for r in inspect_stream(lines, **kwargs)  # type: ignore[arg-type]
    ]
    assert list(render_jsonl(lines, failing=failing, **kwargs)) == expected  # type: ignore[arg-type]


def test_render_jsonl_reuses_verdicts_for_boto3_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not just equal: the second URL of a shape is rendered without a UrlResult."""
    from credaudit.presign import _Job

    built: list[int] = []
    real = _Job.line

    def counting(self: _Job, *args: Any) -> UrlResult | None:
        built.append(1)
        return real(self, *args)

    monkeypatch.setattr(_Job, "line", counting)
    urls = [BASES[0].encode(), BASES[0][:-1].encode() + b"0", BASES[1].encode()] * 3
    out = list(render_jsonl(urls, now=T0 + timedelta(hours=5)))
    assert [json.loads(line)["line"] for line, _ in out] == list(range(1, 10))
    assert len(built) == 2  # the first of each shape (two shapes: the signature differs)
