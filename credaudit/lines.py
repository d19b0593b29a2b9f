"""Bounded lines of a binary stream: what ``--from FILE`` of ``url`` and ``token`` reads.

Its own small module so that a command that only needs lines (``credaudit token``) does not
import the presign package (its parser, verifier and analysis: ~10 ms of start-up).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import BinaryIO

MAX_LINE = 64 * 1024  # real presigned URLs and tokens are a few KB; a longer line is neither
_CHUNK = 64 * 1024


class LineTooLong:
    """Stands in for an input line that exceeded the bound (its bytes were discarded)."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length


def read_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[bytes | LineTooLong]:
    """Yield lines without their newline; a line longer than ``max_line`` bytes is counted
    and dropped as it is read, never assembled.

    Reads in chunks (``read1``: whatever is there, so a pipe streams) and splits them in C:
    one ``readline`` call per line cost more than checking the line."""
    read = getattr(stream, "read1", stream.read)
    pending = b""  # the start of the current line, at most max_line bytes
    dropped = -1  # >= 0 while inside an over-long line: its bytes so far
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        lines = chunk.split(b"\n")
        last = lines.pop()
        if lines:
            first = lines[0]
            if dropped >= 0:
                yield LineTooLong(dropped + len(first))
                dropped = -1
            else:
                if pending:
                    first = pending + first
                    pending = b""
                yield first.rstrip(b"\r\n") if len(first) <= max_line else LineTooLong(len(first))
            for line in islice(lines, 1, None):
                yield line.rstrip(b"\r\n") if len(line) <= max_line else LineTooLong(len(line))
        if dropped >= 0:
            dropped += len(last)
        elif len(pending) + len(last) > max_line:
            dropped, pending = len(pending) + len(last), b""
        elif last:
            pending += last
    if dropped >= 0:
        yield LineTooLong(dropped)
    elif pending:
        yield pending.rstrip(b"\r\n")
