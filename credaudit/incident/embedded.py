"""The embedded engine: files streamed through the readers into Accumulators, on both cores.

Measured (docs/performance.md, reference §7): for ``{"Records": …}`` delivery files, gzip +
orjson in Python beat DuckDB's JSON reader, and the analysis needs only the reduction of each
file, so there is no table to build.  Files are independent, so large inputs are reduced by a
process pool, one Accumulator per batch of files, merged in the parent; small inputs stay in
this process (a pool costs ~100 ms to start).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from credaudit.incident.collect import Accumulator
from credaudit.incident.events import Activity, Event, Session, Unreadable, Use
from credaudit.incident.files import load, read_data
from credaudit.incident.readers.cloudtrail import Calls, summarised
from credaudit.parallel import idle_cores

POOL_MIN_BYTES = 16 * 1024 * 1024
# Progress is drawn only for input this large (about a second of reading): a small run's
# line would flash and be erased before anyone could read it.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024
_BATCHES_PER_WORKER = 4
# Successful CloudTrail calls are summarised this many files at a time: two hours of 5-minute
# delivery files span a 1-hour session, and the table stays as small as the sessions in use.
SUMMARY_FILES = 24


@dataclass(frozen=True)
class Options:
    """What every engine passes to the readers (picklable, for pools and Spark)."""

    kind: str | None = None
    fields: Mapping[str, tuple[str, ...]] | None = None
    since: datetime | None = None
    until: datetime | None = None


def windowed(
    events: Iterable[Event], since: datetime | None, until: datetime | None
) -> Iterable[Event]:
    """The events inside [since, until]; the events themselves when there is no window."""
    if since is None and until is None:
        return events
    return _inside(events, since, until)


def _inside(
    events: Iterable[Event], since: datetime | None, until: datetime | None
) -> Iterator[Event]:
    for event in events:
        if isinstance(event, Use):
            at: datetime | None = event.at
        elif isinstance(event, Session):
            at = event.minted_at
        elif isinstance(event, Activity):
            if (since is not None and event.last < since) or (
                until is not None and event.first > until
            ):
                continue
            at = None
        else:
            at = None
        if at is not None and (
            (since is not None and at < since) or (until is not None and at > until)
        ):
            continue
        yield event


def reduce_files(paths: Iterable[str], options: Options) -> Accumulator:
    """The one per-file step of every engine: read, window, reduce."""
    return reduce_contents(((path, *load(path)) for path in paths), options)


def reduce_contents(
    contents: Iterable[tuple[str, bytes, str | None]], options: Options
) -> Accumulator:
    """Files as (path, decompressed content, what went wrong reading it), reduced.

    Without a window, CloudTrail's successful calls are summarised once per credential per
    ``SUMMARY_FILES`` files rather than once per file (a session spans a dozen delivery files);
    with one, per file, so that each summary is windowed by its own file's times.

    The cyclic garbage collector is paused meanwhile: parsed records are trees freed by
    reference counting, and every few thousand of their allocations the collector would
    otherwise walk the growing reduction tables (measured: a fifth of the reading time)."""
    acc = Accumulator()
    window = options.since is not None or options.until is not None
    calls: Calls | None = None if window else {}
    collecting = gc.isenabled()
    gc.disable()
    try:
        for number, (path, data, problem) in enumerate(contents, 1):
            acc.files += 1
            if problem is not None:
                acc.add(Unreadable(path, problem))
            events = read_data(path, data, options.kind, options.fields, calls)
            acc.add_all(windowed(events, options.since, options.until))
            if number % SUMMARY_FILES == 0:
                if calls:
                    # Bounded by the credentials of the last files, not by every session seen.
                    acc.add_all(summarised(calls))
                    calls.clear()
                acc.compact()
        if calls:
            acc.add_all(summarised(calls))
        acc.compact()
    finally:
        if collecting:
            gc.enable()
    return acc


def run(
    paths: list[str],
    options: Options,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Accumulator:
    sizes = _sizes(paths)
    total = sum(sizes)
    if total < PROGRESS_MIN_BYTES:
        progress = None
    workers = jobs if jobs is not None else idle_cores()
    if workers <= 1 or total < POOL_MIN_BYTES or len(paths) < 2:
        return reduce_files(_reported(paths, progress), options)
    acc = Accumulator()
    done = 0
    batches = _batches(paths, sizes, total // (workers * _BATCHES_PER_WORKER) + 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(reduce_files, batches, [options] * len(batches)):
            acc.merge(part)
            done += part.files
            if progress:
                progress(done, len(paths))
    return acc


def _reported(paths: list[str], progress: Callable[[int, int], None] | None) -> Iterator[str]:
    """The paths, calling ``progress`` as each one has been read."""
    for done, path in enumerate(paths, 1):
        yield path
        if progress:
            progress(done, len(paths))


def _batches(paths: list[str], sizes: list[int], target: int) -> list[list[str]]:
    """Runs of consecutive files of about ``target`` bytes: a few per worker, so that the
    workers finish together while each batch still summarises a session's calls across many
    of its files."""
    batches: list[list[str]] = [[]]
    filled = 0
    for path, size in zip(paths, sizes, strict=True):
        if filled >= target:
            batches.append([])
            filled = 0
        batches[-1].append(path)
        filled += size
    return batches


def _sizes(paths: list[str]) -> list[int]:
    sizes = []
    for path in paths:
        try:
            sizes.append(os.path.getsize(path))
        except OSError:
            sizes.append(0)
    return sizes
