"""CloudTrail: delivery files (``{"Records": [...]}``), one-record-per-line exports, single records.

CloudTrail gives the minting of sessions (``AssumeRole*``, ``GetSessionToken``,
``GetFederationToken``, ``AssumeRoot``: ``responseElements.credentials``) and every call a
session made; it mostly does not log calls that failed authentication (reference §1), so its
failures are few.

Records are decoded by msgspec into ``Record``: only the fields the reduction reads become
Python objects; the rest of each record (its request parameters, its response, the identity's
other fields) is skipped by the C decoder, not built as dicts and dropped (measured: 0.31 s
for 250,000 records against orjson's 0.59 s for the whole trees, docs/performance.md).  A
minting's response is decoded only for mintings, and into ``_Response``, which has no field
for the session token: the token is never even turned into a string.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import msgspec

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


class _Attributes(msgspec.Struct):
    creationDate: Any = None


class _Context(msgspec.Struct):
    attributes: _Attributes | None = None


class Identity(msgspec.Struct):
    """``userIdentity``: the caller's credential and its session's creation date."""

    accessKeyId: Any = None
    arn: Any = None
    sessionContext: _Context | None = None


class Record(msgspec.Struct):
    """The fields of a CloudTrail record the analysis reads.  Scalars are ``Any`` (a record
    of an odd shape is judged field by field, as before); the request and response stay raw
    JSON until a minting needs them."""

    eventTime: Any = None
    eventName: Any = None
    eventSource: Any = None
    errorCode: Any = None
    errorMessage: Any = None
    requestID: Any = None
    userIdentity: Identity | None = None
    requestParameters: msgspec.Raw = msgspec.Raw(b"null")
    responseElements: msgspec.Raw = msgspec.Raw(b"null")


class _Credentials(msgspec.Struct):
    accessKeyId: Any = None  # no sessionToken, no secretAccessKey: never decoded
    expiration: Any = None


class _Response(msgspec.Struct):
    credentials: _Credentials | None = None
    assumedRoleUser: Any = None
    federatedUser: Any = None


class _Request(msgspec.Struct):
    roleArn: Any = None


class _Envelope(msgspec.Struct):
    """A delivery file (``Records``), ``lookup-events`` output (``Events``), or — neither
    present — a single record."""

    Events: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class _Delivery(_Envelope):
    Records: list[Record] | msgspec.UnsetType = msgspec.UNSET


class _Loose(_Envelope):
    Records: list[msgspec.Raw] | msgspec.UnsetType = msgspec.UNSET


class _Lookup(msgspec.Struct):
    CloudTrailEvent: Any = None


_SCALAR = str | int | float | bool | None
# Records decoded in one call; when one of them has a shape ``Record`` rejects, the file is
# decoded again with its records left raw, and each is decoded alone so that only it is
# reported.
_TOP = msgspec.json.Decoder(_Delivery | list[Record] | _SCALAR)
_LOOSE = msgspec.json.Decoder(_Loose | list[msgspec.Raw] | _SCALAR)
_RECORD = msgspec.json.Decoder(Record)
_RESPONSE = msgspec.json.Decoder(_Response)
_REQUEST = msgspec.json.Decoder(_Request)
_EVENTS = msgspec.json.Decoder(list[msgspec.Raw])
_LOOKUP = msgspec.json.Decoder(_Lookup)

# Successful calls per credential (access key id, else ARN): [count, first eventTime, last
# eventTime, access key id, ARN, session creation date, the file of the first call] — the few
# values the reduction needs.
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
        try:
            top = _TOP.decode(data)
        except msgspec.ValidationError:
            top = _LOOSE.decode(data)
    except msgspec.ValidationError:
        # The one shape the loose envelope rejects: a Records that is not a list.
        yield Unreadable(origin, "Records is not a list")
    except msgspec.DecodeError:
        yield from read_lines(data.splitlines(), origin, own)
    else:
        yield from _document(top, data, origin, own)
    if calls is None:
        yield from summarised(own)


def _document(top: object, data: bytes, origin: str, calls: Calls) -> Iterator[Event]:
    if isinstance(top, _Delivery | _Loose):
        if top.Records is not msgspec.UNSET:
            yield from _records(top.Records, origin, "#Records[{}]", calls)
            return
        if top.Events is not msgspec.UNSET:
            try:
                events = _EVENTS.decode(top.Events)
            except msgspec.ValidationError:
                pass  # not lookup-events output: the object is a record
            else:
                yield from _lookup_events(events, origin, calls)
                return
        yield from _records([msgspec.Raw(data)], origin, "", calls)
    elif isinstance(top, list):
        yield from _records(top, origin, "#[{}]", calls)
    else:
        yield Unreadable(origin, "record is not a JSON object")


def _lookup_events(events: list[msgspec.Raw], origin: str, calls: Calls) -> Iterator[Event]:
    """``aws cloudtrail lookup-events`` output: each record is a JSON string in
    ``Events[].CloudTrailEvent``."""
    records: list[Any] = []
    for index, event in enumerate(events):
        try:
            text = _LOOKUP.decode(event).CloudTrailEvent
        except msgspec.ValidationError:
            text = None
        if isinstance(text, str) and text.lstrip().startswith("{"):
            try:
                msgspec.json.decode(text)
            except msgspec.DecodeError:
                pass
            else:
                records.append(msgspec.Raw(text))
                continue
        yield Unreadable(f"{origin}#Events[{index}]", "no readable CloudTrailEvent")
    yield from _records(records, origin, "#Events[{}]", calls)


def read_lines(lines: Iterable[bytes], origin: str, calls: Calls | None = None) -> Iterator[Event]:
    """One record per line (CloudTrail Lake and lookup-events exports); ``calls`` as in
    ``read_document``."""
    own: Calls = {} if calls is None else calls
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield from _records([msgspec.Raw(line)], f"{origin}:{number}", "", own)
    if calls is None:
        yield from summarised(own)


def _records(
    records: Sequence[Record | msgspec.Raw], origin: str, suffix: str, calls: Calls
) -> Iterator[Event]:
    """Failures and mintings record by record; successful calls summarised per credential.

    The common record (ISO ``...Z`` eventTime, no error, not a minting) costs a few attribute
    reads and string comparisons (ISO instants of one shape sort as text): two instants are
    parsed per credential, not one per record."""
    activity = calls
    decode = _RECORD.decode
    for index, raw in enumerate(records):
        try:
            rec = raw if isinstance(raw, Record) else decode(raw)
        except msgspec.ValidationError as exc:
            yield Unreadable(origin + suffix.format(index), _shape(raw, exc))
            continue
        except msgspec.DecodeError as exc:  # a line of a JSON-lines export
            yield Unreadable(origin + suffix.format(index), f"not JSON ({str(exc).split(':')[0]})")
            continue
        t = rec.eventTime
        identity = rec.userIdentity
        if (
            type(t) is str
            and len(t) == 20
            and t[19] == "Z"
            and identity is not None
            and not rec.errorCode
            and rec.eventName not in MINTING
        ):
            key = identity.accessKeyId
            name = key if type(key) is str and key else identity.arn
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
        where = origin + suffix.format(index)
        try:
            yield from record(rec, where)
        except (TypeError, AttributeError, ValueError) as exc:
            yield Unreadable(where, f"unexpected record shape ({type(exc).__name__})")


def _shape(raw: Record | msgspec.Raw, exc: msgspec.ValidationError) -> str:
    """Why a record was rejected: msgspec names the field's path and the type it found (never
    a value, so nothing of the record reaches the message)."""
    if isinstance(raw, msgspec.Raw) and not bytes(raw).lstrip().startswith(b"{"):
        return "record is not a JSON object"
    return f"unexpected record shape ({str(exc).replace(' - at ', ' at ')})"


def _interned(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)


def _slot(at: str, identity: Identity, origin: str) -> list[Any]:
    # Interned (as the minted session's are): the reduction keeps these per session in
    # several tables, one copy each.
    return [
        1,
        at,
        at,
        _interned(_str(identity.accessKeyId)),
        _interned(_str(identity.arn)),
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


def _creation(identity: Identity | None) -> datetime | None:
    context = identity.sessionContext if identity is not None else None
    if context is not None and context.attributes is not None:
        return instant(context.attributes.creationDate)
    return None


def _str(value: object) -> str | None:
    return value if type(value) is str and value else None


def record(rec: Record, origin: str) -> list[Event]:
    """One record: the call as a use of its caller's credential, and the Session it minted.

    A list rather than a generator: this runs once per record, and most records give one
    event."""
    at = instant(rec.eventTime)
    if at is None:
        return [Unreadable(origin, "record has no readable eventTime")]
    identity = rec.userIdentity
    name = _str(rec.eventName)
    error = _str(rec.errorCode)
    source = _str(rec.eventSource)
    caller = _str(identity.arn) if identity is not None else None
    use = Use(
        at=at,
        origin=origin,
        source="cloudtrail",
        key=_str(identity.accessKeyId) if identity is not None else None,
        arn=caller,
        service=source.split(".", 1)[0] if source else None,
        operation=name,
        request_id=_str(rec.requestID),
        creation=_creation(identity),
    )
    if error:
        use.error = error
        use.retry_key = f"{caller}|{source}|{name}"
        message = _str(rec.errorMessage)
        use.message = scrub(message)
        use.skew_seconds = signature_expired_skew(message)
    elif name in MINTING:
        session = _minted(rec, at, name, caller, origin)
        if session is not None:
            return [use, session]
    return [use]


def _minted(
    rec: Record, at: datetime, name: str, caller: str | None, origin: str
) -> Session | None:
    try:
        response = _RESPONSE.decode(rec.responseElements)
    except msgspec.ValidationError:  # null, or not the shape of a minting's response
        return None
    credentials = response.credentials
    if credentials is None:
        return None
    try:
        role = _str(_REQUEST.decode(rec.requestParameters).roleArn)
    except msgspec.ValidationError:
        role = None
    arn = _user_arn(response.assumedRoleUser) or _user_arn(response.federatedUser)
    principal = role or (caller if name == "GetSessionToken" else arn)
    name = _MINTING_NAME[name]  # the one copy, not the record's
    return Session(
        key=_interned(_str(credentials.accessKeyId)),
        principal=sys.intern(principal or caller or "unknown"),
        origin=origin,
        arn=_interned(arn or (caller if name == "GetSessionToken" else None)),
        minted_at=at,
        expires_at=instant(credentials.expiration),
        minted_by=f"{name} by {caller}" if caller else name,
    )


def _user_arn(user: object) -> str | None:
    return _str(user.get("arn")) if isinstance(user, dict) else None
