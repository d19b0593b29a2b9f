"""The incident report as JSON, streamed in chunks by orjson straight from the dataclasses.

An incident over an organisation's CloudTrail has tens of thousands of sessions: pydantic's
dump built the whole document (and its ``str`` copy) in memory and took ~0.45 s for 10,390
sessions, and importing pydantic alone cost more than the analysis.  orjson serialises the
dataclasses natively in field order; this module writes the same bytes as
``credaudit.report.json.render`` (the tests compare them, and validate against ``credaudit
schema incident``, which pydantic still derives from the same models), a few hundred list items
at a time, so the output never sits in memory whole.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from credaudit.model import format_instant, json_ready

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME
_CHUNK = 256


def _default(value: object) -> str:
    # Instants in credaudit's one format (whole seconds, ``Z``), not orjson's own.
    if isinstance(value, datetime):
        return format_instant(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dump(value: Any, indent: bytes) -> bytes:
    try:
        dumped = orjson.dumps(value, default=_default, option=_OPTIONS)
    except TypeError:  # a lone surrogate (a path argument that is not UTF-8): orjson refuses
        dumped = _dump_escaped(value)
    return dumped.replace(b"\n", b"\n" + indent)


def _dump_escaped(value: Any) -> bytes:
    """``value`` as ``json`` writes it, each lone surrogate as its ``\\uXXXX`` escape, as
    ``credaudit.report.json.render`` writes a report holding one."""
    from credaudit.report.json import escape_surrogates  # the rare way: not at start-up

    text = json.dumps(json_ready(value), indent=2, ensure_ascii=False)
    return escape_surrogates(text).encode()


def chunks(report: Any) -> Iterator[bytes]:
    """The report (a dataclass) as indented JSON with a final newline, in pieces."""
    names = [f.name for f in dataclasses.fields(report)]
    yield b"{"
    for number, name in enumerate(names):
        value = getattr(report, name)
        yield (b"\n" if number == 0 else b",\n") + b'  "' + name.encode() + b'": '
        if isinstance(value, list) and value:
            yield from _items(value)
        else:
            yield _dump(value, b"  ")
    yield b"\n}\n"


def _items(values: list[Any]) -> Iterator[bytes]:
    """A non-empty list, ``_CHUNK`` items per orjson call: each call's ``[\\n  …\\n]`` loses
    its brackets and is indented one level more."""
    yield b"["
    for start in range(0, len(values), _CHUNK):
        body = _dump(values[start : start + _CHUNK], b"  ")[1:-4]
        yield (b"" if start == 0 else b",") + body
    yield b"\n  ]"


def render(report: Any) -> bytes:
    return b"".join(chunks(report))
