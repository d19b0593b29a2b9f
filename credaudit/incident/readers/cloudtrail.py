"""CloudTrail: delivery files (``{"Records": [...]}``), one-record-per-line exports, single records.

CloudTrail gives the minting of sessions (``AssumeRole*``, ``GetSessionToken``,
``GetFederationToken``, ``AssumeRoot``: ``responseElements.credentials``) and every call a
session made; it mostly does not log calls that failed authentication (reference §1), so its
failures are few.  The session token in ``responseElements`` is never read into an event.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from credaudit.incident.errors import scrub, signature_expired_skew
from credaudit.incident.events import Activity, Event, Session, Unreadable, Use
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


# Successful calls per credential (access key id, else ARN): [count, first eventTime, last
# eventTime, access key id, ARN, session creation date, the file of the first call] — the few
# values the reduction needs, not the record's userIdentity, which would keep its whole parsed
# tree alive.
Calls = dict[str, list[Any]]


_MINTING_NAME = {name: name for name in MINTING}


def read_document(data: bytes, origin: str, calls: Calls | None = None) -> Iterator[Event]:
    """A whole file: a delivery document, a single record, a JSON array, or JSON lines.

    Successful calls go into ``calls`` when the caller keeps one across files (and turns it
    into events with ``summarised`` at the end): a session lives across a dozen delivery
    files, so one summary per credential per batch instead of per file.  Without it, this
    file's summaries end its events."""
    own: Calls = {} if calls is None else calls
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        yield from read_lines(data.splitlines(), origin, own)
    else:
        yield from _document(doc, origin, own)
    if calls is None:
        yield from summarised(own)


def _document(doc: Any, origin: str, calls: Calls) -> Iterator[Event]:
    if isinstance(doc, dict) and "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list):
            yield Unreadable(origin, "Records is not a list")
            return
        yield from _records(records, origin, "#Records[{}]", calls)
    elif isinstance(doc, dict) and isinstance(doc.get("Events"), list):
        yield from _lookup_events(doc["Events"], origin, calls)
    elif isinstance(doc, list):
        yield from _records(doc, origin, "#[{}]", calls)
    else:
        yield from _records([doc], origin, "", calls)


def _lookup_events(events: list[Any], origin: str, calls: Calls) -> Iterator[Event]:
    """``aws cloudtrail lookup-events`` output: each record is a JSON string in
    ``Events[].CloudTrailEvent``."""
    records: list[Any] = []
    for index, event in enumerate(events):
        text = event.get("CloudTrailEvent") if isinstance(event, dict) else None
        try:
            records.append(orjson.loads(text) if isinstance(text, str) else None)
        except orjson.JSONDecodeError:
            records.append(None)
        if records[-1] is None:
            yield Unreadable(f"{origin}#Events[{index}]", "no readable CloudTrailEvent")
            records.pop()
    yield from _records(records, origin, "#Events[{}]", calls)


def read_lines(lines: Iterable[bytes], origin: str, calls: Calls | None = None) -> Iterator[Event]:
    """One record per line (CloudTrail Lake and lookup-events exports); ``calls`` as in
    ``read_document``."""
    own: Calls = {} if calls is None else calls
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Unreadable(f"{origin}:{number}", f"not JSON ({str(exc).split(':')[0]})")
            continue
        yield from _records([rec], f"{origin}:{number}", "", own)
    if calls is None:
        yield from summarised(own)


def _records(records: list[Any], origin: str, suffix: str, calls: Calls) -> Iterator[Event]:
    """Failures and mintings record by record; successful calls summarised per credential.

    The fast path handles the common record (ISO ``...Z`` eventTime, no error, not a minting)
    with a few dict lookups and string comparisons (ISO instants of one shape sort as text),
    parsing two instants per credential instead of one per record."""
    activity = calls
    for index, rec in enumerate(records):
        if type(rec) is dict:
            t = rec.get("eventTime")
            identity = rec.get("userIdentity")
            if (
                type(t) is str
                and len(t) == 20
                and t[19] == "Z"
                and type(identity) is dict
                and not rec.get("errorCode")
                and rec.get("eventName") not in MINTING
            ):
                key = identity.get("accessKeyId")
                name = key if type(key) is str and key else identity.get("arn")
                if type(name) is str and name:
                    slot = activity.get(name)
                    if slot is None:
                        activity[name] = _slot(t, identity, origin)
                    else:
                        slot[0] += 1
                        if t < slot[1]:
                            slot[1] = t
                        elif t > slot[2]:
                            slot[2] = t
                    continue
        where = origin + suffix.format(index) if suffix else origin
        if not isinstance(rec, dict):
            yield Unreadable(where, "record is not a JSON object")
            continue
        try:
            yield from record(rec, where)
        except (TypeError, AttributeError, ValueError) as exc:
            yield Unreadable(where, f"unexpected record shape ({type(exc).__name__})")


def _interned(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)


def _slot(at: str, identity: dict[str, Any], origin: str) -> list[Any]:
    # Interned (as the minted session's are): the reduction keeps these per session in
    # several tables, one copy each.
    return [
        1,
        at,
        at,
        _interned(_str(identity.get("accessKeyId"))),
        _interned(_str(identity.get("arn"))),
        _creation(identity),
        origin,
    ]


def summarised(calls: Calls) -> Iterator[Event]:
    """One Activity per credential of the successful calls gathered by ``read_document``."""
    for count, first, last, key, arn, creation, origin in calls.values():
        start, end = instant(first), instant(last)
        if start is None or end is None:
            yield Unreadable(origin, f"{count} record(s) with an unreadable eventTime")
            continue
        yield Activity(
            source="cloudtrail",
            origin=origin,
            key=key,
            arn=arn,
            count=count,
            first=start,
            last=end,
            creation=creation,
        )


def _creation(identity: dict[str, Any]) -> datetime | None:
    context = identity.get("sessionContext")
    if type(context) is dict:
        attributes = context.get("attributes")
        if type(attributes) is dict:
            return instant(attributes.get("creationDate"))
    return None


def _str(value: object) -> str | None:
    return value if type(value) is str and value else None


def record(rec: dict[str, Any], origin: str) -> list[Event]:
    """One record: the call as a use of its caller's credential, and the Session it minted.

    A list rather than a generator: this runs once per record, and most records give one
    event."""
    at = instant(rec.get("eventTime"))
    if at is None:
        return [Unreadable(origin, "record has no readable eventTime")]
    identity = rec.get("userIdentity")
    if type(identity) is not dict:
        identity = {}
    name = _str(rec.get("eventName"))
    error = _str(rec.get("errorCode"))
    source = _str(rec.get("eventSource"))
    creation = _creation(identity)
    caller = _str(identity.get("arn"))
    use = Use(
        at=at,
        origin=origin,
        source="cloudtrail",
        key=_str(identity.get("accessKeyId")),
        arn=caller,
        service=source.split(".", 1)[0] if source else None,
        operation=name,
        request_id=_str(rec.get("requestID")),
        creation=creation,
    )
    if error:
        use.error = error
        use.retry_key = f"{caller}|{source}|{name}"
        message = _str(rec.get("errorMessage"))
        use.message = scrub(message)
        use.skew_seconds = signature_expired_skew(message)
    elif name in MINTING:
        session = _minted(rec, at, name, caller, origin)
        if session is not None:
            return [use, session]
    return [use]


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
    name = _MINTING_NAME[name]  # the one copy, not the record's
    return Session(
        key=_interned(_str(credentials.get("accessKeyId"))),
        principal=sys.intern(principal or caller or "unknown"),
        origin=origin,
        arn=_interned(arn or (caller if name == "GetSessionToken" else None)),
        minted_at=at,
        expires_at=instant(credentials.get("expiration")),
        minted_by=f"{name} by {caller}" if caller else name,
    )
