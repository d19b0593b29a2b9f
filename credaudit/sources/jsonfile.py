"""One safe way to read the small JSON documents SDKs leave in caches.

Cache directories are written by other tools and may hold anything: a symlink to a device, a
multi-gigabyte file, binary junk, a JSON array.  Every cache source reads through here so the
same limits apply everywhere and a bad file becomes a one-line reason instead of an exception.
The reason never quotes the file's content, since cache files carry tokens.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from credaudit.durations import parse_instant
from credaudit.keys import account_from_key, fingerprint, key_kind, mask_key
from credaudit.model import Location, Observation, Problem

MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class JsonFile:
    """The outcome of reading one file: a parsed object or why not, plus its mode."""

    path: Path
    data: dict[str, Any] | None
    error: str | None
    mode: int | None


@dataclass(frozen=True)
class RawFile:
    """A regular file's bytes, or why they could not be read, with its mode and mtime."""

    data: bytes | None
    error: str | None
    mode: int | None
    mtime: float | None = None


def read_json_object(path: Path, max_bytes: int = MAX_BYTES) -> JsonFile:
    """Read ``path`` as a JSON object; every failure is a short reason, never an exception."""
    raw = read_bytes(path, max_bytes)
    if raw.data is None:
        return JsonFile(path, None, raw.error, raw.mode)
    try:
        text = raw.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return JsonFile(path, None, "not UTF-8 text", raw.mode)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return JsonFile(path, None, "not valid JSON", raw.mode)
    if not isinstance(parsed, dict):
        return JsonFile(path, None, f"JSON {type(parsed).__name__}, expected an object", raw.mode)
    return JsonFile(path, parsed, None, raw.mode)


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> RawFile:
    """Read a regular file of at most ``max_bytes`` (symlinks followed to regular files only).

    ``O_NONBLOCK`` keeps a FIFO planted in a cache dir from hanging the scan; type and size
    are checked on the opened descriptor, not by a prior ``stat``, so swapping the file
    between check and read cannot slip a device or a huge file past the cap.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return RawFile(None, "file not found", None)
    except PermissionError:
        return RawFile(None, "permission denied", None)
    except OSError as exc:
        return RawFile(None, f"cannot open ({exc.strerror or type(exc).__name__})", None)
    mode: int | None = None
    try:
        st = os.fstat(fd)
        mode = stat.S_IMODE(st.st_mode)
        if not stat.S_ISREG(st.st_mode):
            return RawFile(None, "not a regular file", mode, st.st_mtime)
        if st.st_size > max_bytes:
            reason = f"file too large ({st.st_size} bytes, limit {max_bytes})"
            return RawFile(None, reason, mode, st.st_mtime)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 65536):
            total += len(chunk)
            if total > max_bytes:
                return RawFile(None, f"file too large (over {max_bytes} bytes)", mode, st.st_mtime)
            chunks.append(chunk)
        return RawFile(b"".join(chunks), None, mode, st.st_mtime)
    except OSError as exc:
        return RawFile(None, f"cannot read ({exc.strerror or type(exc).__name__})", mode)
    finally:
        os.close(fd)


def json_files(directory: Path) -> tuple[list[Path], str | None]:
    """The ``*.json`` entries of a cache directory, sorted; (paths, error reading the dir)."""
    try:
        entries = sorted(p for p in directory.iterdir() if p.name.endswith(".json"))
    except FileNotFoundError:
        return [], None
    except NotADirectoryError:
        return [], "not a directory"
    except PermissionError:
        return [], "permission denied"
    except OSError as exc:
        return [], f"cannot list ({exc.strerror or type(exc).__name__})"
    return entries, None


def instant(value: object) -> tuple[datetime | None, str | None]:
    """A cache document's timestamp field as an aware UTC instant, or why it is not one.

    Accepts what the SDKs write (ISO-8601 with ``Z``, ``+00:00``, ``UTC`` or no zone) and
    epoch seconds as a number; the reason never echoes the value.
    """
    if isinstance(value, bool) or value is None:
        return None, "is not a timestamp"
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None, "is not a timestamp"
    try:
        return parse_instant(value), None
    except (ValueError, OverflowError, OSError):
        return None, "is not a timestamp"


def text(value: object) -> str | None:
    """A string field, or None when it is absent, empty or not a string."""
    return value if isinstance(value, str) and value else None


def credential_fields(
    access_key_id: object, secret: object, token: object, account_id: object = None
) -> dict[str, Any]:
    """The Observation keyword arguments that describe a key without keeping its secrets."""
    key = text(access_key_id)
    account = text(account_id)
    if account is None:
        account = account_from_key(key)
    return {
        "access_key_id": key,
        "access_key_masked": mask_key(key),
        "key_kind": key_kind(key),
        "account_id": account,
        "has_secret": text(secret) is not None,
        "session_token_fingerprint": fingerprint(text(token)),
    }


def file_observation_base(path: Path, mode: int | None) -> dict[str, Any]:
    """Where a file-based observation comes from, so the analysis can point at it."""
    return {"origin": str(path), "location": Location(path=str(path)), "file_mode": mode}


def unreadable_file(
    source: str, path: Path | str, reason: str, mode: int | None, profile: str | None = None
) -> Observation:
    """``sources.unreadable`` plus the file mode, which CA701 needs even for a broken file."""
    from credaudit.sources import unreadable

    return replace(unreadable(source, str(path), reason, profile), file_mode=mode)


def observe_json_file(source: str, path: Path, observe: Callable[..., Observation]) -> Observation:
    """Read one JSON cache file and describe it with ``observe(body, origin=..., ...)``;
    an unreadable or non-object file becomes a CA702 that still carries its mode."""
    read = read_json_object(path)
    if read.data is None:
        return unreadable_file(source, path, read.error or "unreadable", read.mode)
    return observe(read.data, **file_observation_base(path, read.mode))


def collect_directory(
    source: str, directory: Path, observe: Callable[..., Observation]
) -> list[Observation]:
    """Every ``*.json`` in a cache directory, one observation each (the three caches'
    shared walk); a directory that exists but cannot be listed is one CA702."""
    paths, error = json_files(directory)
    if error is not None:
        return [unreadable_file(source, directory, error, None)]
    return [observe_json_file(source, path, observe) for path in paths]


def problem(origin: object, reason: str) -> Problem:
    """A CA702 naming the file; callers pass reasons that never quote file content."""
    return Problem(code="CA702", message=f"{origin}: {reason}")
