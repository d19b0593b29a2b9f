"""Bulk JSON lines to stdout, shared by the commands that stream them (``url``, ``token``):
when a regular file may be split over worker processes, the batched writer, and the split
file's output, written by the workers themselves when stdout takes UTF-8 bytes.

One place for both so the commands cannot drift in how they decide on workers or how they
stream: a pipe reader sees results soon, a terminal sees every line as it is ready.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

from credaudit.parallel import PARALLEL_FROM, RenderRange, idle_cores
from credaudit.stdout import is_utf8

# Bytes per write: few write calls, and a pipe reader still sees results soon; a terminal
# gets every line as it is ready.
_BATCH = 64 * 1024


def regular_file(handle: BinaryIO | None) -> bool:
    """Workers read their own byte ranges, so only a regular file can be split."""
    if handle is None or handle is sys.stdin.buffer:
        return False
    try:
        return stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def auto_jobs(handle: BinaryIO | None) -> int:
    """Workers for a large regular file (``credaudit.parallel.idle_cores``).  Small files and
    pipes stay in one process: starting workers costs more than a few MiB, and a pipe must
    stream."""
    if not regular_file(handle) or handle is None:
        return 1
    if os.fstat(handle.fileno()).st_size < PARALLEL_FROM:
        return 1
    return idle_cores()


def write_jsonl(rendered: Iterator[tuple[bytes, bool]]) -> bool:
    """Write the UTF-8 lines (or newline-joined runs of lines) in batches; True when any
    line had a failing finding.

    Straight to the binary buffer when stdout is UTF-8 (no re-encoding of ~2 KB a line),
    through the text layer otherwise."""
    failed = False
    out = sys.stdout
    binary = getattr(out, "buffer", None)
    isatty = getattr(out, "isatty", None)
    size = 1 if isatty is not None and isatty() else _BATCH
    if binary is None or not is_utf8(out):
        text_write = out.write

        def write(data: bytes) -> object:
            return text_write(data.decode("utf-8", "surrogateescape"))

    else:
        out.flush()

        def write(data: bytes) -> object:
            written = binary.write(data)
            if size == 1:
                binary.flush()
            return written

    batch: list[bytes] = []
    append = batch.append
    pending = 0
    for line, failing in rendered:
        append(line)
        pending += len(line)
        if failing:
            failed = True
        if pending >= size:
            append(b"")
            write(b"\n".join(batch))
            batch.clear()
            pending = 0
    if batch:
        append(b"")
        write(b"\n".join(batch))
    if binary is not None:
        binary.flush()
    out.flush()
    return failed


def write_file_jsonl(fd: int, render: RenderRange, *, jobs: int) -> bool:
    """The regular file open on ``fd`` (from its offset), rendered range by range by ``jobs``
    workers (``credaudit.parallel``), to stdout in input order; True when a line failed.

    When stdout is a UTF-8 descriptor, a worker writes a range that is due to it itself:
    most of the ~0.9 KB of JSON per token then never crosses a pipe to this process (the
    pipe, unpickling and writing cost this process as much as 4 % of the workers' work, and
    the workers time waiting on it).  Otherwise (another encoding, or no descriptor, as under
    a test's captured output) every range comes back here and goes through ``write_jsonl``."""
    from credaudit.parallel import render_file_parallel, write_file_parallel

    out = sys.stdout
    binary = getattr(out, "buffer", None)
    try:
        descriptor = binary.fileno() if binary is not None and is_utf8(out) else None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation among them
        descriptor = None
    if binary is None or descriptor is None:
        return write_jsonl(render_file_parallel(fd, render, jobs=jobs))
    out.flush()
    binary.flush()
    return write_file_parallel(fd, render, jobs=jobs, out=descriptor)
