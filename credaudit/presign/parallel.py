"""Bulk JSON lines on several cores, in input order, with flat memory.

``credaudit url --from FILE --format jsonl`` on a large file hands chunks of lines to worker
processes, each running the one per-line path (``_Job.line``), and writes their output in
input order.  At most two chunks per worker are in flight, so memory does not grow with the
input.  Workers are forked: they inherit the imported modules and the check's inputs (the
secret for ``--verify`` among them) without any of it passing through argv or a file.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any

from credaudit.model import Severity
from credaudit.presign import LineTooLong, _Job

CHUNK = 2000  # lines per task: ~3 MB of input, few round trips

_worker: dict[str, Any] = {}


def _start(options: dict[str, Any], failing: frozenset[Severity]) -> None:
    _worker["job"] = _Job(**options)
    _worker["failing"] = failing


def _render(first: int, chunk: list[bytes | LineTooLong]) -> tuple[bytes, bool]:
    """One chunk's JSON lines joined by newlines, and whether one had a failing finding."""
    job: _Job = _worker["job"]
    failing: frozenset[Severity] = _worker["failing"]
    out = []
    failed = False
    for number, raw in enumerate(chunk, start=first):
        result = job.line(number, raw, False)
        if result is None:
            continue
        out.append(result.to_json())
        if not failed and any(f.severity in failing for f in result.findings):
            failed = True
    return b"\n".join(out), failed


def render_jsonl_parallel(
    lines: Iterable[bytes | LineTooLong],
    *,
    jobs: int,
    failing: Collection[Severity] = (),
    **options: Any,
) -> Iterator[tuple[bytes, bool]]:
    """``render_jsonl`` over ``jobs`` processes; yields one (chunk of lines, failed) per
    chunk, in order."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=(options, frozenset(failing))
    ) as pool:
        pending: deque[Future[tuple[bytes, bool]]] = deque()
        source = iter(lines)
        first = 1
        while chunk := list(islice(source, CHUNK)):
            pending.append(pool.submit(_render, first, chunk))
            first += len(chunk)
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
