"""Which files to read, how to open them, and which reader each one needs.

Paths are walked; ``.gz`` is recognised by its magic bytes, not its name; a file's kind comes
from its first bytes unless ``--type`` forces it.  CloudTrail's delivery layout
(``AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/``) dates a file before it is opened,
so ``--since``/``--until`` skip whole days unread.  No function here raises: a file that cannot
be read becomes an ``Unreadable`` event (CA908) and the run goes on.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import orjson
from isal import igzip, isal_zlib

from credaudit.incident.events import Event, Unreadable
from credaudit.incident.readers import app, cloudtrail, s3_access, sdk_debug

KINDS = ("cloudtrail", "s3-access", "sdk-debug", "app")
_GZIP_MAGIC = b"\x1f\x8b"
_DAY_DIR = re.compile(r"/CloudTrail/[\w-]+/(\d{4})/(\d{2})/(\d{2})/")
_SNIFF = 65536
# python-isal's stubs leave these untyped (``error`` is declared an instance).
_gunzip = cast(Callable[[bytes], bytes], igzip.decompress)
_GZIP_ERRORS = (EOFError, OSError, zlib.error, cast(type[Exception], isal_zlib.error))


def walk(paths: list[str]) -> Iterator[str]:
    """Every file under the paths, in a stable order (a missing path is yielded for CA908)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    if not name.startswith("."):
                        yield os.path.join(root, name)
        else:
            yield raw


def in_window(path: str, since: datetime | None, until: datetime | None) -> bool:
    """False only when the delivery layout dates the file outside [since, until]."""
    m = _DAY_DIR.search(path.replace(os.sep, "/"))
    if m is None or (since is None and until is None):
        return True
    try:
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
    except ValueError:
        return True
    # CloudTrail delivers a call up to ~15 minutes later, into the next day's folder at most.
    if since is not None and day + timedelta(days=2) <= since:
        return False
    return not (until is not None and day > until)


def load(path: str) -> tuple[bytes, str | None]:
    """The file's content, decompressed; with what went wrong (a truncated gzip keeps its
    readable part)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return b"", f"cannot read ({exc.strerror or type(exc).__name__})"
    return decompress(data)


def decompress(data: bytes) -> tuple[bytes, str | None]:
    """Raw bytes, gunzipped when they are gzip (by magic, not by name).

    By python-isal (ISA-L's inflate, the same format and errors as ``gzip``): measured 0.07 s
    against zlib's 0.18 s for the 250 delivery files of the bench (docs/performance.md)."""
    if not data.startswith(_GZIP_MAGIC):
        return data, None
    try:
        return _gunzip(data), None
    except _GZIP_ERRORS as exc:
        return _partial(data), f"corrupt gzip ({str(exc) or type(exc).__name__})"


def _partial(data: bytes) -> bytes:
    """What a truncated gzip member still yields."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return decompressor.decompress(data)
    except zlib.error:
        return b""


def detect(head: bytes) -> str | None:
    """The log kind from the first bytes, or None."""
    text = head.lstrip()[:_SNIFF]
    if text.startswith((b"{", b"[")):
        head = text[:4096]
        if b'"Records"' in head or b'"CloudTrailEvent"' in head:
            return "cloudtrail"
        if b'"eventVersion"' in text or b'"eventSource"' in text:
            return "cloudtrail"
        return "app"
    first = text.split(b"\n", 1)[0].decode("utf-8", "replace")
    if sdk_debug.LINE.match(first):
        return "sdk-debug"
    if s3_access.LINE.fullmatch(first.rstrip("\r")):
        return "s3-access"
    if "=" in first:
        return "app"
    return None


def read_file(
    path: str, kind: str | None = None, fields: Mapping[str, tuple[str, ...]] | None = None
) -> Iterator[Event]:
    """Every event of one local file; never raises."""
    data, problem = load(path)
    if problem is not None:
        yield Unreadable(path, problem)
    yield from read_data(path, data, kind, fields)


def read_data(
    path: str,
    data: bytes,
    kind: str | None = None,
    fields: Mapping[str, tuple[str, ...]] | None = None,
    calls: cloudtrail.Calls | None = None,
) -> Iterator[Event]:
    """Every event of one file's (decompressed) content, wherever it was read from; a
    CloudTrail file's successful calls go into ``calls`` when given (``read_document``)."""
    if not data:
        return
    found = kind or detect(data[:_SNIFF])
    if found is None:
        yield Unreadable(path, "not a log credaudit reads (CloudTrail, S3 access, SDK debug, app)")
        return
    if found == "cloudtrail":
        yield from cloudtrail.read_document(data, path, calls)
        return
    if found == "app" and data.lstrip().startswith(b"{") and _whole_document(data):
        yield Unreadable(path, "a JSON document without CloudTrail records, not a log")
        return
    lines = data.splitlines()
    if found == "s3-access":
        yield from s3_access.read_lines(lines, path)
    elif found == "sdk-debug":
        yield from sdk_debug.read_lines(lines, path)
    else:
        yield from app.read_lines(lines, path, fields)


def _whole_document(data: bytes) -> bool:
    """A pretty-printed JSON object spanning lines (not JSON lines)."""
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        orjson.loads(first)
        return False
    except orjson.JSONDecodeError:
        pass
    try:
        return isinstance(orjson.loads(data), dict)
    except orjson.JSONDecodeError:
        return False
