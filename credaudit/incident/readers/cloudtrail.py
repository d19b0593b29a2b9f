"""CloudTrail: delivery files (``{"Records": [...]}``), one-record-per-line exports, single records.

CloudTrail gives the minting of sessions (``AssumeRole*``, ``GetSessionToken``,
``GetFederationToken``, ``AssumeRoot``: ``responseElements.credentials``) and every call a
session made; it mostly does not log calls that failed authentication (reference §1), so its
failures are few.  The session token in ``responseElements`` is never read into an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from credaudit.incident.errors import scrub
from credaudit.incident.events import Event, Session, Unreadable, Use
from credaudit.incident.times import instant

MINTING = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetSessionToken",
        "GetFederationToken",
        "AssumeRoot",
    }
)


def read_document(data: bytes, origin: str) -> Iterator[Event]:
    """A whole file: a delivery document, a single record, a JSON array, or JSON lines."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        yield from read_lines(data.splitlines(), origin)
        return
    if isinstance(doc, dict) and "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list):
            yield Unreadable(origin, "Records is not a list")
            return
        yield from _records(records, origin, "#Records[{}]")
    elif isinstance(doc, list):
        yield from _records(doc, origin, "#[{}]")
    else:
        yield from _records([doc], origin, "")


def read_lines(lines: Iterable[bytes], origin: str) -> Iterator[Event]:
    """One record per line (CloudTrail Lake and lookup-events exports)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Unreadable(f"{origin}:{number}", f"not JSON ({str(exc).split(':')[0]})")
            continue
        yield from _records([rec], f"{origin}:{number}", "")


def _records(records: list[Any], origin: str, suffix: str) -> Iterator[Event]:
    for index, rec in enumerate(records):
        where = origin + suffix.format(index) if suffix else origin
        if not isinstance(rec, dict):
            yield Unreadable(where, "record is not a JSON object")
            continue
        try:
            yield from record(rec, where)
        except (TypeError, AttributeError, ValueError) as exc:
            yield Unreadable(where, f"unexpected record shape ({type(exc).__name__})")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def record(rec: dict[str, Any], origin: str) -> Iterator[Event]:
    """One record: the call as a use of its caller's credential, and the Session it minted."""
    at = instant(rec.get("eventTime"))
    if at is None:
        yield Unreadable(origin, "record has no readable eventTime")
        return
    identity = rec.get("userIdentity")
    if not isinstance(identity, dict):
        identity = {}
    name = _str(rec.get("eventName"))
    error = _str(rec.get("errorCode"))
    source = _str(rec.get("eventSource"))
    creation = None
    context = identity.get("sessionContext")
    if isinstance(context, dict):
        attributes = context.get("attributes")
        if isinstance(attributes, dict):
            creation = instant(attributes.get("creationDate"))
    caller = _str(identity.get("arn"))
    yield Use(
        at=at,
        origin=origin,
        source="cloudtrail",
        key=_str(identity.get("accessKeyId")),
        arn=caller,
        service=source.split(".", 1)[0] if source else None,
        operation=name,
        request_id=_str(rec.get("requestID")),
        retry_key=f"{caller}|{source}|{name}" if error else None,
        error=error,
        message=scrub(_str(rec.get("errorMessage"))) if error else None,
        creation=creation,
    )
    if name in MINTING and not error:
        session = _minted(rec, at, name, caller, origin)
        if session is not None:
            yield session


def _minted(
    rec: dict[str, Any], at: datetime, name: str, caller: str | None, origin: str
) -> Session | None:
    response = rec.get("responseElements")
    if not isinstance(response, dict):
        return None
    credentials = response.get("credentials")
    if not isinstance(credentials, dict):
        return None
    request = rec.get("requestParameters")
    if not isinstance(request, dict):
        request = {}
    assumed = response.get("assumedRoleUser")
    arn = _str(assumed.get("arn")) if isinstance(assumed, dict) else None
    if arn is None:
        federated = response.get("federatedUser")
        arn = _str(federated.get("arn")) if isinstance(federated, dict) else None
    principal = _str(request.get("roleArn")) or (caller if name == "GetSessionToken" else arn)
    return Session(
        key=_str(credentials.get("accessKeyId")),
        principal=principal or caller or "unknown",
        origin=origin,
        arn=arn or (caller if name == "GetSessionToken" else None),
        minted_at=at,
        expires_at=instant(credentials.get("expiration")),
        minted_by=f"{name} by {caller}" if caller else name,
    )
