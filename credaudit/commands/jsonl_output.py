"""Bulk JSON lines to stdout, shared by the commands that stream them (``url``, ``token``):
when a regular file may be split over worker processes, and the batched writer.

One place for both so the commands cannot drift in how they decide on workers or how they
stream: a pipe reader sees results soon, a terminal sees every line as it is ready.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

from credaudit.parallel import PARALLEL_FROM, idle_cores

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
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    isatty = getattr(out, "isatty", None)
    size = 1 if isatty is not None and isatty() else _BATCH
    if binary is None or encoding != "utf8":
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
