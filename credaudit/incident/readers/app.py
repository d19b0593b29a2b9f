"""Application logs, key=value or JSON lines, like seed 002's
``2026-04-15T10:02:14Z worker=invoice-batch requestId=req_51da3f
credentialExpiration=2026-04-15T10:00:00Z requestSentAt=2026-04-15T10:02:14Z error=ExpiredToken``.

Only the named fields are read (``FIELDS``; ``--field NAME=KEY`` maps others), so a token or a
secret logged beside them is never touched.  A line with no time, or no credential fact at all,
is not a request and is passed over: application logs are mostly about other things.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from credaudit.incident.errors import scrub, signature_expired_skew
from credaudit.incident.events import Activity, Event, Unreadable, Use
from credaudit.incident.times import instant
from credaudit.presign.parse import parse as parse_url

# canonical name -> the keys looked for, in order
FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "@timestamp", "at"),
    "requestId": ("requestId", "request_id", "requestID"),
    "credentialExpiration": ("credentialExpiration", "credential_expiration", "expiration"),
    "signedAt": ("signedAt", "signed_at", "amzDate"),
    "requestSentAt": ("requestSentAt", "sentAt", "sent_at"),
    "error": ("error", "errorCode", "error_code", "code"),
    "accessKeyId": ("accessKeyId", "access_key_id", "AccessKeyId"),
    "worker": ("worker", "service_name", "app", "logger"),
    "message": ("message", "msg", "errorMessage"),
    "operation": ("operation", "op", "action"),
    "service": ("service",),
    "principal": ("principal", "roleArn", "role_arn", "arn"),
    "url": ("url", "presignedUrl", "presigned_url"),
}
_PAIR = re.compile(r'([A-Za-z_@][\w.@-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_LEADING_TIME = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\]?\s"
)
_FACTS = ("credentialExpiration", "error", "accessKeyId", "signedAt", "requestId", "url")


def mapping(overrides: Mapping[str, str] | None) -> dict[str, tuple[str, ...]]:
    """FIELDS with ``--field NAME=KEY`` overrides put first."""
    fields = dict(FIELDS)
    for name, key in (overrides or {}).items():
        fields[name] = (key, *fields.get(name, ()))
    return fields


def read_lines(
    lines: Iterable[bytes], origin: str, fields: Mapping[str, tuple[str, ...]] | None = None
) -> Iterator[Event]:
    names = fields or FIELDS
    aliases = _aliases(names)
    quiet: dict[tuple[Any, ...], list[Any]] = {}
    for number, raw in enumerate(lines, 1):
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        if text.startswith("{"):
            where = f"{origin}:{number}"
            try:
                obj = orjson.loads(text)
            except orjson.JSONDecodeError:
                yield Unreadable(where, "not JSON")
                continue
            if not isinstance(obj, dict):
                yield Unreadable(where, "JSON line is not an object")
                continue
            values: dict[str, Any] = obj
            leading = None
        else:
            values = _pairs(text)
            if _quiet(_canonical(values, aliases), text, quiet):
                continue
            leading = _leading(text)
            where = f"{origin}:{number}"
        event = _use(values, leading, names, where)
        if event is not None:
            yield event
    for (worker, expiry, key, principal), (count, first, last) in quiet.items():
        start, end = instant(first), instant(last)
        stated = instant(expiry) if expiry is not None else None
        if start is None or end is None or (expiry is not None and stated is None):
            yield Unreadable(origin, f"{count} request line(s) with an unreadable time")
            continue
        yield Activity(
            source="app",
            origin=origin,
            key=key,
            arn=principal,
            count=count,
            first=start,
            last=end,
            stated_expiry=stated,
            subject=worker,
        )


def _aliases(names: Mapping[str, tuple[str, ...]]) -> dict[str, list[tuple[str, int]]]:
    """Each key a line may hold -> the names it stands for, with its rank among their keys."""
    aliases: dict[str, list[tuple[str, int]]] = {}
    for name, keys in names.items():
        for rank, key in enumerate(keys):
            aliases.setdefault(key, []).append((name, rank))
    return aliases


def _canonical(
    values: Mapping[str, str], aliases: Mapping[str, list[tuple[str, int]]]
) -> dict[str, str]:
    """The line's value of each name, as ``_get`` would choose it (the first of its keys with a
    value), in one pass over the line's few pairs instead of a look-up per key per name."""
    found: dict[str, str] = {}
    ranks: dict[str, int] = {}
    for key, value in values.items():
        hits = aliases.get(key)
        if hits is None or value in ("", "-"):
            continue
        for name, rank in hits:
            if name not in ranks or rank < ranks[name]:
                found[name] = value
                ranks[name] = rank
    return found


def _quiet(found: Mapping[str, str], text: str, quiet: dict[tuple[Any, ...], list[Any]]) -> bool:
    """Summarise a plain successful request line (as CloudTrail's are): no error, ISO ``…Z``
    instants (which sort as text).  Anything else goes through ``_use``."""
    if "error" in found or "signedAt" in found or "url" in found:
        return False
    expiry = found.get("credentialExpiration")
    key = found.get("accessKeyId")
    if expiry is None and key is None:
        return False
    at = found.get("requestSentAt") or found.get("time") or _leading(text)
    # Shape only (sortable ISO ``…Z``); the few distinct values are parsed once per group.
    for stamp in (at, expiry):
        if stamp is not None and not (len(stamp) == 20 and stamp[19] == "Z" and stamp[10] == "T"):
            return False
    if at is None:
        return False
    group = (found.get("worker"), expiry, key, found.get("principal"))
    slot = quiet.get(group)
    if slot is None:
        quiet[group] = [1, at, at]
    else:
        slot[0] += 1
        if at < slot[1]:
            slot[1] = at
        elif at > slot[2]:
            slot[2] = at
    return True


def _pairs(text: str) -> dict[str, str]:
    """key=value pairs; plain splits when nothing is quoted (the common line), the regex
    otherwise."""
    if '"' in text:
        return {k: _unquote(v) for k, v in _PAIR.findall(text)}
    values = {}
    for part in text.split():
        name, sep, value = part.partition("=")
        if sep and name and (name[0].isalpha() or name[0] in "_@"):
            values[name] = value
    return values


def _leading(text: str) -> str | None:
    """The line's leading time, if it starts with one."""
    if not (text[:1].isdigit() or text[:1] == "["):
        return None
    lead = _LEADING_TIME.match(text + " ")
    return lead.group(1).replace(",", ".") if lead else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _get(values: Mapping[str, Any], names: Mapping[str, tuple[str, ...]], name: str) -> Any:
    for key in names.get(name, ()):
        value = values.get(key)
        if value not in (None, "", "-"):
            return value
    return None


def _text(value: Any) -> str | None:
    return str(value) if value is not None and not isinstance(value, dict | list) else None


def _use(
    values: Mapping[str, Any],
    leading: str | None,
    names: Mapping[str, tuple[str, ...]],
    where: str,
) -> Event | None:
    if not any(_get(values, names, fact) is not None for fact in _FACTS):
        return None
    sent = instant(_get(values, names, "requestSentAt"))
    at = sent or instant(_get(values, names, "time")) or instant(leading)
    if at is None:
        return Unreadable(where, "a request line without a readable time")
    message = _text(_get(values, names, "message"))
    error = _text(_get(values, names, "error"))
    request_id = _text(_get(values, names, "requestId"))
    worker = _text(_get(values, names, "worker"))
    use = Use(
        at=at,
        origin=where,
        source="app",
        key=_text(_get(values, names, "accessKeyId")),
        arn=_text(_get(values, names, "principal")),
        service=_text(_get(values, names, "service")),
        operation=_text(_get(values, names, "operation")),
        request_id=request_id,
        retry_key=f"{worker}|{request_id}" if request_id else None,
        error=error,
        message=scrub(message) if error else None,
        signed_at=instant(_get(values, names, "signedAt")),
        stated_expiry=instant(_get(values, names, "credentialExpiration")),
        skew_seconds=signature_expired_skew(message) if error else None,
        subject=worker,
    )
    url = _text(_get(values, names, "url"))
    if url and ("X-Amz-Credential=" in url or "AWSAccessKeyId=" in url):
        # A presigned URL the application fetched: read with credaudit's own parser; the URL
        # itself (its token, its signature) is never kept.
        parsed = parse_url(url)
        use.presigned = True
        use.key = use.key or parsed.access_key_id
        use.signed_at = parsed.signed_at
        use.url_expires_at = parsed.expires_at
        use.url_ttl_seconds = parsed.expires_seconds
    return use
