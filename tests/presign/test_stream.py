"""Bulk input: every line gets a record in order, bad lines are CA307, memory stays flat."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from credaudit.presign import LineTooLong, inspect_stream, read_lines
from tests.presign.helpers import TEMP_KEY, presign

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_bad_lines_are_ca307_in_order_and_the_stream_goes_on() -> None:
    good = presign(at=T0)
    data = b"\n".join(
        [
            good.encode(),
            b"",
            b"\x00\x01\xff\xfe junk \x89PNG",
            b"A" * 1_048_576,  # a 1 MB line
            b"{not json",
            json.dumps({"url": good, "method": "GET"}).encode(),
            json.dumps({"nourl": 1}).encode(),
            "https://h/?X-Amz-Algorithm=AWS4-HMAC-SHA256&\u00e9=\u00ff".encode(),
            good.encode(),
        ]
    )
    results = list(inspect_stream(read_lines(io.BytesIO(data)), now=T0))
    assert [r.line for r in results] == list(range(1, 10))
    ok = [r.status != "invalid" for r in results]
    assert ok == [True, False, False, False, False, True, False, False, True]
    for r in results:
        if r.status == "invalid":
            assert any(f.code == "CA307" for f in r.findings)
    long_line = results[3]
    assert "1048576 bytes" in long_line.findings[0].message
    assert long_line.url is None


def test_over_long_line_is_not_kept() -> None:
    data = b"x" * 300_000 + b"\nsecond\n"
    items = list(read_lines(io.BytesIO(data), max_line=1000))
    assert isinstance(items[0], LineTooLong) and items[0].length == 300_000
    assert items[1] == b"second"


def test_json_lines_carry_method_and_headers() -> None:
    url = presign(at=T0, client_method="put_object", secret="s")
    line = json.dumps({"url": url, "method": "PUT", "headers": {"X-Ignored": "1"}})
    (r,) = inspect_stream([line], now=T0, secret="s")
    assert r.signature_valid is True and r.signed_method == "PUT"
    (r,) = inspect_stream([json.dumps({"url": url, "method": "GET"})], now=T0, secret="s")
    assert r.signature_valid is False


def _lines(n: int, url: str) -> Iterator[bytes]:
    for _ in range(n):
        yield url.encode()


def _peak(n: int, url: str) -> int:
    tracemalloc.start()
    count = 0
    for r in inspect_stream(_lines(n, url), now=T0, sessions={TEMP_KEY: T0 + timedelta(days=1)}):
        r.to_dict()
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    return peak


def test_memory_is_flat_in_the_number_of_lines() -> None:
    url = presign(at=T0, token="T" * 800)
    small = _peak(1_000, url)
    large = _peak(10_000, url)
    assert large <= small * 1.5 + 64 * 1024, (small, large)


def test_parallel_jsonl_is_the_serial_output_in_order(monkeypatch: Any, tmp_path: Any) -> None:
    """Byte ranges rendered by worker processes come back in input order, byte for byte what
    one process writes from the same file, with the failing flag of their lines."""
    import credaudit.parallel
    import credaudit.presign.parallel as parallel
    from credaudit.model import Severity
    from credaudit.parallel import render_file_parallel, write_file_parallel
    from credaudit.presign import read_lines, render_jsonl

    monkeypatch.setattr(credaudit.parallel, "RANGE", 4096)  # many range boundaries
    good = presign(at=T0).encode()
    lines = [
        good,
        b"",
        b"\x00junk",
        b"x" * 70_000,  # longer than a range and than MAX_LINE: one CA307, never split
        presign(at=T0, style="path", object_key=f"k/{1}").encode() + b"\r",
        b'{"url": 1}',
        presign(at=T0, version="s3").encode(),
    ] * 3
    source = tmp_path / "urls.txt"
    source.write_bytes(b"\n".join(lines))  # no newline after the last line
    options = {"now": T0 + timedelta(minutes=5), "sessions": {TEMP_KEY: T0 + timedelta(hours=3)}}
    for failing in (set(), {Severity.HIGH, Severity.CRITICAL}):
        with source.open("rb") as handle:
            serial = list(render_jsonl(read_lines(handle), failing=failing, **options))
        render = parallel.range_renderer(failing=failing, **options)
        with source.open("rb") as handle:
            chunks = list(render_file_parallel(handle.fileno(), render, jobs=2))
        assert b"\n".join(line for line, _ in serial) == b"\n".join(c for c, _ in chunks)
        assert len(chunks) >= 3  # the long lines make some ranges long
        assert any(failed for _, failed in chunks) == any(f for _, f in serial)
        assert any(failed for _, failed in chunks) == bool(failing)
        # The workers writing their ranges to a descriptor themselves: the same bytes.
        written = tmp_path / "written.jsonl"
        with source.open("rb") as handle, written.open("wb") as out:
            failed = write_file_parallel(handle.fileno(), render, jobs=2, out=out.fileno())
        assert written.read_bytes() == b"".join(line + b"\n" for line, _ in serial)
        assert failed == bool(failing)
    assert [json.loads(line)["line"] for line, _ in serial] == list(range(1, 22))
