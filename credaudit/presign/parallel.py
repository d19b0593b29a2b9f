"""``credaudit url --from FILE --format jsonl`` on several cores.

``credaudit.parallel`` cuts the regular file into byte ranges that end at a newline; each
forked worker reads its own range and renders it through the one per-line path
(``_Job.line``), so only the output crosses a pipe (or none: the workers write it to stdout
themselves, see ``credaudit.commands.jsonl_output.write_file_jsonl``), in input order.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from credaudit.model import Severity
from credaudit.parallel import RenderRange
from credaudit.presign import _Job, fails, read_lines


def range_renderer(*, failing: Collection[Severity] = (), **options: Any) -> RenderRange:
    """What a worker runs on one byte range: ``render_jsonl``'s one per-line path."""
    job = _Job(**options)
    failing_set = frozenset(failing)

    def render(first: int, reader: Any) -> tuple[bytes, bool]:
        """One range's JSON lines joined by newlines, and whether one had a failing finding."""
        out = []
        failed = False
        for number, raw in enumerate(read_lines(reader), start=first):
            result = job.line(number, raw, False)
            if result is None:
                continue
            out.append(result.to_json())
            if not failed:
                failed = fails(result, failing_set)
        return b"\n".join(out), failed

    return render
