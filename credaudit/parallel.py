"""Bulk JSON lines on several cores, in input order, with flat memory.

A command's ``--from FILE --format jsonl`` on a large regular file hands byte ranges of it,
cut at line ends, to worker processes, each running the command's one per-line path over its
range, and writes their output in input order.  At most two ranges per worker are in flight,
so memory does not grow with the input.  Workers are forked: they inherit the imported
modules and the render function with everything it holds (a secret or the operator's keys
among them) without any of it passing through argv, a pipe or a file.

Each worker reads its range from the inherited descriptor (``pread``: no shared offset), so
the parent neither splits nor pickles the lines (pickling them cost as much as judging a
token or a URL).  When the output is a descriptor that takes UTF-8 bytes as they are
(``write_file_parallel``), a worker whose range is due (every earlier range written) also
writes it there itself, so most of the output never crosses a pipe: the parent cuts ranges,
collects one flag per range, and writes only a range that was ready before its turn (a
worker never waits for another).  Otherwise (``render_file_parallel``) every rendered range
comes back to the parent, which writes it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

# multiprocessing and concurrent.futures are imported when a pool starts: a run in one
# process (a small file, a pipe, --jobs 1) does not pay their ~10 ms of import.

PARALLEL_FROM = 4 * 1024 * 1024  # below this, starting workers costs more than they save
RANGE = 1024 * 1024  # bytes per task (about 1,500 tokens or 700 URLs): few round trips
_READ = 64 * 1024

_worker: dict[str, Any] = {}


def idle_cores(limit: int = 4) -> int:
    """Workers worth starting: the cores the load average leaves idle, counting a core that
    is at least a quarter idle, up to ``limit`` (like ``make -l``).

    Measured here: a second worker on a core that other work holds ran each worker 2.5x
    slower and the whole run slower than one process (docs/performance.md); a worker on a
    partly busy core still adds its share, but below a quarter the pipe to it costs more than
    it brings.  On 2 cores, load below 0.75 gives 2 workers and 0.75 or more gives 1."""
    cores = os.cpu_count() or 1
    try:
        idle = cores - os.getloadavg()[0]
    except OSError:  # no load average on this platform: trust the cores
        idle = cores
    return max(1, min(int(idle + 0.75), cores, limit))


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_TRIM_THRESHOLD = 16 * 1024 * 1024
_MMAP_THRESHOLD = 4 * 1024 * 1024


def _keep_heap() -> None:
    """Fix glibc's mmap threshold at 4 MiB and its trim threshold at 16 MiB, for the pool's
    processes (set before the fork, so the workers inherit it).

    Each range's rendered lines (about 1.2 MB for 1 MiB of URLs, 1.7 MB of tokens) are
    joined in the worker, and when handed back, pickled, read from the pipe and unpickled:
    buffers of that size, range after range.  Whether glibc's dynamic thresholds serve them
    from the heap or from fresh mappings and trimmed heap top, faulted in again each time,
    depends on what the process freed before the fork (an empty ``HOME`` took the second
    way): pinned, ``url --jobs 2`` over the 100,000 bench URLs takes ~15,000 page faults
    instead of ~120,000 and ~12 % less wall time, ``token --jobs 2`` ~19 % less (the runs
    are in ``docs/performance.md``, token section).  Elsewhere than glibc this does nothing."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _start(render: Any, turn: Any = None, out: int | None = None) -> None:
    _worker["render"] = render
    _worker["turn"] = turn
    _worker["out"] = out


T = TypeVar("T")


def _ordered(
    tasks: Iterable[tuple[Any, ...]],
    work: Callable[..., T],
    initargs: tuple[Any, ...],
    jobs: int,
) -> Iterator[T]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _keep_heap()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=initargs
    ) as pool:
        pending: deque[Future[T]] = deque()
        for task in tasks:
            pending.append(pool.submit(work, *task))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _Range:
    """``read1`` over one byte range of a file, by ``pread`` on the inherited descriptor: the
    reader ``read_lines`` takes, so a worker bounds lines exactly as a single process does."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd, self.at, self.end = fd, start, end

    def read1(self, size: int = _READ) -> bytes:
        data = os.pread(self.fd, min(size, self.end - self.at), self.at)
        self.at += len(data)
        return data

    read = read1


# (first line number, the range as a reader) -> (the range's JSON lines joined by newlines,
# whether one of them had a failing finding)
RenderRange = Callable[[int, _Range], tuple[bytes, bool]]


def _render_range(first: int, fd: int, start: int, end: int) -> tuple[bytes, bool]:
    render: Any = _worker["render"]
    result: tuple[bytes, bool] = render(first, _Range(fd, start, end))
    return result


def _write_range(
    index: int, first: int, fd: int, start: int, end: int
) -> tuple[bytes | None, bool]:
    """Render range ``index``; when its turn has come (every earlier range is written), write
    it with its newline and pass the turn on; otherwise hand it back for the parent to write.

    A worker never waits for another: one that finishes early goes on to its next range.  A
    worker that fails (an error while rendering, a closed pipe) never passes the turn, so
    every later range goes back to the parent, which re-raises the error when it reaches
    that range, as it would have had it written every range itself."""
    lock, turn = _worker["turn"]
    data, failed = _render_range(first, fd, start, end)
    with lock:
        if turn.value == index:
            _write_range_out(_worker["out"], data)
            turn.value = index + 1
            return None, failed
    return data, failed


def _write_range_out(out: int, data: bytes) -> None:
    _write_all(out, data)
    _write_all(out, b"\n")


def _write_all(out: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(out, view) :]


def _ranges(fd: int, start: int) -> Iterator[tuple[int, int, int, int]]:
    """(first line, fd, start, end) of about ``RANGE`` bytes each, cut after a newline; a
    line longer than ``RANGE`` stretches its range (the worker bounds it as it reads)."""
    first = 1
    while True:
        end = start
        lines = 0
        while True:
            block = os.pread(fd, RANGE, end)
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            if cut:
                lines += block.count(b"\n", 0, cut)
                end += cut
                break
            end += len(block)
        if end == start:
            return
        yield first, fd, start, end
        first += lines
        start = end


def render_file_parallel(
    fd: int, render: RenderRange, *, jobs: int
) -> Iterator[tuple[bytes, bool]]:
    """``render`` over ``jobs`` forked processes, one byte range of the regular file ``fd``
    at a time, from its current offset; yields one (chunk of lines, failed) per range, in
    order."""
    return _ordered(_ranges(fd, os.lseek(fd, 0, os.SEEK_CUR)), _render_range, (render,), jobs)


def write_file_parallel(fd: int, render: RenderRange, *, jobs: int, out: int) -> bool:
    """``render`` over ``jobs`` forked processes as in ``render_file_parallel``, every range's
    lines and a newline written to the descriptor ``out`` in input order (flush what was
    written to it before): by the worker when the range is due, else by this process in its
    turn.  True when a range had a failing line."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    # The index of the range whose turn it is to be written, under a lock.
    lock, turn = context.Lock(), context.RawValue("q", 0)
    tasks = ((index, *task) for index, task in enumerate(_ranges(fd, os.lseek(fd, 0, os.SEEK_CUR))))
    failed = False
    results = _ordered(tasks, _write_range, (render, (lock, turn), out), jobs)
    for index, (data, range_failed) in enumerate(results):
        if data is not None:  # handed back: every earlier range is written, so it is its turn
            with lock:
                _write_range_out(out, data)
                turn.value = index + 1
        failed = failed or range_failed
    return failed
