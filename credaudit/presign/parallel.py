"""Bulk JSON lines from a regular file on several cores, in input order, with flat memory.

``credaudit url --from FILE --format jsonl`` on a large file cuts it into byte ranges that end
at a newline, and forked worker processes read their range themselves (``os.pread`` on the
inherited descriptor: no shared file offset) and render it through the one per-line path
(``_Job.line``).  Only the output crosses a pipe: sending the input lines too cost as much
system time as a worker saved.  The parent only counts newlines (for the line numbers), so it
leaves its core to the workers.  At most two ranges per worker are in flight, so memory does
not grow with the input.  Workers are forked: they inherit the imported modules and the
check's inputs (the secret for ``--verify`` among them) without any of it passing through
argv or a file.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections import deque
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from credaudit.model import Severity
from credaudit.presign import _Job, read_lines

CHUNK_BYTES = 2 * 1024 * 1024  # ~1,400 URLs a range: few round trips, little in flight

_worker: dict[str, Any] = {}


def _start(fd: int, options: dict[str, Any], failing: frozenset[Severity]) -> None:
    _worker["fd"] = fd
    _worker["job"] = _Job(**options)
    _worker["failing"] = failing


def _read_range(fd: int, offset: int, length: int) -> bytes:
    parts = []
    while length > 0:
        part = os.pread(fd, length, offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
        length -= len(part)
    return b"".join(parts)


def _render(offset: int, length: int, first: int) -> tuple[bytes, bool]:
    """One range's JSON lines joined by newlines, and whether one had a failing finding."""
    job: _Job = _worker["job"]
    failing: frozenset[Severity] = _worker["failing"]
    data = _read_range(_worker["fd"], offset, length)
    out = []
    failed = False
    for number, raw in enumerate(read_lines(io.BytesIO(data)), start=first):
        result = job.line(number, raw, False)
        if result is None:
            continue
        out.append(result.to_json())
        if not failed and any(f.severity in failing for f in result.findings):
            failed = True
    return b"\n".join(out), failed


def _ranges(fd: int, start: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(offset, length, first line number) of consecutive ranges ending at a newline (the
    last one at the end of the file); a line longer than ``size`` stays whole in its range."""
    first = 1
    position = start
    while block := os.pread(fd, size, position):
        cut = block.rfind(b"\n")
        if cut >= 0:
            end = position + cut + 1
            yield start, end - start, first
            first += block.count(b"\n", 0, cut + 1)
            start = end
        position += len(block)
    if position > start:
        yield start, position - start, first


def render_file_parallel(
    fd: int,
    *,
    jobs: int,
    failing: Collection[Severity] = (),
    **options: Any,
) -> Iterator[tuple[bytes, bool]]:
    """``render_jsonl(read_lines(file))`` over ``jobs`` processes for the regular file open
    on ``fd`` (from its current offset); yields one (range of lines, failed) per range, in
    order."""
    context = multiprocessing.get_context("fork")
    start = os.lseek(fd, 0, os.SEEK_CUR)
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=(fd, options, frozenset(failing))
    ) as pool:
        pending: deque[Future[tuple[bytes, bool]]] = deque()
        for offset, length, first in _ranges(fd, start, CHUNK_BYTES):
            pending.append(pool.submit(_render, offset, length, first))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
