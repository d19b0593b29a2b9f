"""``credaudit url --from FILE --format jsonl`` on several cores: each worker runs the one
per-line path (``_Job.line``) over its chunks; ``credaudit.parallel`` orders the output and
keeps memory flat."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

from credaudit.model import Severity
from credaudit.parallel import render_chunks_parallel
from credaudit.presign import LineTooLong, _Job


def render_jsonl_parallel(
    lines: Iterable[bytes | LineTooLong],
    *,
    jobs: int,
    failing: Collection[Severity] = (),
    **options: Any,
) -> Iterator[tuple[bytes, bool]]:
    """``render_jsonl`` over ``jobs`` processes; yields one (chunk of lines, failed) per
    chunk, in order."""
    job = _Job(**options)
    failing = frozenset(failing)

    def render(first: int, chunk: list[bytes | LineTooLong]) -> tuple[bytes, bool]:
        """One chunk's JSON lines joined by newlines, and whether one had a failing finding."""
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

    return render_chunks_parallel(lines, render, jobs=jobs)
