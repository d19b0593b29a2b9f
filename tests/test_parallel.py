"""``credaudit.parallel``: workers that write their own ranges to a descriptor do so in input
order (a range that is not yet due goes back to the parent, which writes it in its turn), and
nothing after a failed range is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import credaudit.parallel
from credaudit.parallel import render_file_parallel, write_file_parallel


def _render(first: int, reader: Any) -> tuple[bytes, bool]:
    """Each line numbered, upper-cased; a range with a line 'fail' has a failing line."""
    lines = b"".join(iter(lambda: reader.read1(4096), b"")).splitlines()
    out = [b"%d:%s" % (n, line.upper()) for n, line in enumerate(lines, start=first)]
    return b"\n".join(out), b"fail" in lines


def _input(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "in.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_workers_write_in_input_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setattr(credaudit.parallel, "RANGE", 50)  # dozens of ranges
    lines = [b"line %d" % n for n in range(400)] + [b"fail"] + [b"x" * 300, b""]
    source = _input(tmp_path, lines)
    target = tmp_path / "out.txt"
    with source.open("rb") as handle, target.open("wb") as out:
        failed = write_file_parallel(handle.fileno(), _render, jobs=jobs, out=out.fileno())
    with source.open("rb") as handle:
        chunks = list(render_file_parallel(handle.fileno(), _render, jobs=jobs))
    expected = b"".join(chunk + b"\n" for chunk, _ in chunks)
    assert target.read_bytes() == expected
    assert expected.splitlines()[400:402] == [b"401:FAIL", b"402:" + b"X" * 300]
    assert failed is True


def _render_or_raise(first: int, reader: Any) -> tuple[bytes, bool]:
    if first > 100:
        raise RuntimeError("range failed")
    return _render(first, reader)


def test_nothing_after_a_failed_range_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credaudit.parallel, "RANGE", 50)
    source = _input(tmp_path, [b"line %d" % n for n in range(400)])
    target = tmp_path / "out.txt"
    with (
        source.open("rb") as handle,
        target.open("wb") as out,
        pytest.raises(RuntimeError, match="range failed"),
    ):
        write_file_parallel(handle.fileno(), _render_or_raise, jobs=2, out=out.fileno())
    written = target.read_bytes().splitlines()
    # Every range before the first failing one (the first starting after line 100), whole
    # and in order; nothing after it.
    assert written == [b"%d:LINE %d" % (n + 1, n) for n in range(len(written))]
    assert 100 <= len(written) < 110
