"""botocore / AWS CLI ``--debug`` logs: each request's signing time, key id, send time and answer.

A request is the ``Sending http request: <AWSPreparedRequest …>`` line (``X-Amz-Date`` is the
signing time, ``Credential=`` the key id; the security token in the same line is never read),
then urllib3's status line and botocore's ``Response body:`` whose next line is the body's
repr: its ``<Code>``/``__type`` is the error.  Log times are local and zone-less; the zone is
recovered from the first signed request (X-Amz-Date is UTC and signing precedes the log line by
milliseconds), rounded to a quarter hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from credaudit.incident.errors import scrub, signature_expired_skew
from credaudit.incident.events import Event, Session, Use
from credaudit.incident.identity import principal_of
from credaudit.incident.times import instant
from credaudit.presign.parse import parse_amz_date

# The AWS CLI's --debug format, and boto3.set_stream_logger's
# ("%(asctime)s %(name)s [%(levelname)s] %(message)s").
LINE = re.compile(
    r"(?P<t>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3})"
    r"(?: - \S+ - [\w.]+ - (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) - "
    r"| [\w.]+ \[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\] )(?P<msg>.*)"
)
_OPERATION = re.compile(r"Making request for OperationModel\(name=(\w+)\)")
_SENDING = re.compile(r"Sending http request: <AWSPreparedRequest [^>]*?method=(\w+), url=(\S+?),")
_AMZ_DATE = re.compile(r"'X-Amz-Date': b'(\d{8}T\d{6}Z)'")
_CREDENTIAL = re.compile(r"Credential=(\w+)/\d{8}/([\w-]+)/([\w-]+)/")
_STATUS = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3})')
_REQUEST_ID = re.compile(r"'x-amz(?:n)?-request-?id': '([\w-]+)'", re.IGNORECASE)
_CODE = re.compile(
    r"<Code>([\w.]+)</Code>|\"__type\":\s*\"(?:[\w.]+#)?(\w+)\"|\"[Cc]ode\":\s*\"(\w+)\""
)
_MESSAGE = re.compile(r"<Message>(.*?)</Message>|\"[Mm]essage\":\s*\"((?:[^\"\\]|\\.)*)\"")
_TIMES = re.compile(r"<RequestTime>(\d{8}T\d{6}Z)</RequestTime>\s*<ServerTime>([^<]+)</ServerTime>")
_FOUND = re.compile(r"Found credentials (?:in|from) (.+?)\.?$")
# A minting answer (STS XML, SSO/Cognito JSON): only the key id, the expiry and the ARN are read;
# the secret and the token beside them never are.
_MINTED_XML = re.compile(r"<Credentials>.*?<AccessKeyId>(\w+)</AccessKeyId>.*?</Credentials>", re.S)
_EXPIRATION_XML = re.compile(r"<Expiration>([^<]+)</Expiration>")
_ARN_XML = re.compile(r"<(?:AssumedRoleUser|FederatedUser)>.*?<Arn>([^<]+)</Arn>", re.S)
_MINTED_JSON = re.compile(r'"[Aa]ccessKeyId"\s*:\s*"(\w+)"')
_EXPIRATION_JSON = re.compile(r'"[Ee]xpiration"\s*:\s*"?([\w:.+-]+)"?')
_QUARTER = 900


def read_lines(lines: Iterable[bytes], origin: str) -> Iterator[Event]:
    offset: timedelta | None = None
    operation: str | None = None
    provider: str | None = None
    pending: Use | None = None
    status: int | None = None
    body_next = False
    for number, raw in enumerate(lines, 1):
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        m = LINE.match(text)
        if m is None:
            if body_next and pending is not None:
                body_next = False
                _answer(pending, text, status)
                yield pending
                if pending.error is None:
                    minted = _minted(pending, text)
                    if minted is not None:
                        yield minted
                pending, status = None, None
            continue
        body_next = False
        message = m.group("msg")
        logged = datetime.fromisoformat(m.group("t")).replace(
            microsecond=int(m.group("ms")) * 1000, tzinfo=UTC
        )
        if message.startswith("Making request for"):
            op = _OPERATION.search(message)
            operation = op.group(1) if op else operation
        elif message.startswith("Sending http request:"):
            signed = _AMZ_DATE.search(message)
            signed_at = parse_amz_date(signed.group(1)) if signed else None
            if offset is None and signed_at is not None:
                quarters = round((logged - signed_at).total_seconds() / _QUARTER)
                offset = timedelta(seconds=quarters * _QUARTER)
            at = logged - (offset or timedelta(0))
            sending = _SENDING.search(message)
            credential = _CREDENTIAL.search(message)
            method, url = (sending.group(1), sending.group(2)) if sending else ("?", "?")
            pending = Use(
                at=at,
                origin=f"{origin}:{number}",
                source="sdk-debug",
                key=credential.group(1) if credential else None,
                service=credential.group(3) if credential else None,
                operation=operation,
                retry_key=f"{operation}|{method} {url.split('?', 1)[0]}",
                signed_at=signed_at,
                subject=provider,
            )
            status = None
        elif pending is not None and (code := _STATUS.search(message)) is not None:
            status = int(code.group(1))
        elif pending is not None and message.startswith("Response headers:"):
            rid = _REQUEST_ID.search(message)
            if rid:
                pending.request_id = rid.group(1)
        elif message.startswith("Response body:"):
            body_next = pending is not None
        elif (found := _FOUND.search(message)) is not None:
            provider = found.group(1)
    if pending is not None and status is not None:
        _answer(pending, "", status)
        yield pending


def _answer(use: Use, body: str, status: int | None) -> None:
    code = _CODE.search(body)
    if code:
        use.error = next(g for g in code.groups() if g)
    elif status is not None and status >= 400:
        use.error = f"HTTP{status}"
    if use.error is None:
        return
    message = _MESSAGE.search(body)
    text = next((g for g in message.groups() if g), None) if message else None
    use.message = scrub(text)
    use.skew_seconds = signature_expired_skew(text)
    times = _TIMES.search(body)
    if times and use.skew_seconds is None:
        request, server = parse_amz_date(times.group(1)), parse_amz_date(times.group(2))
        if request and server:
            use.skew_seconds = int((server - request).total_seconds())


def _minted(use: Use, body: str) -> Session | None:
    """The session a successful minting call returned (AssumeRole*, GetSessionToken, SSO)."""
    xml = _MINTED_XML.search(body)
    if xml is not None:
        expiration = _EXPIRATION_XML.search(body)
        arn_match = _ARN_XML.search(body)
        key = xml.group(1)
    else:
        found = _MINTED_JSON.search(body)
        if found is None:
            return None
        expiration = _EXPIRATION_JSON.search(body)
        arn_match = None
        key = found.group(1)
    arn = arn_match.group(1) if arn_match else None
    return Session(
        key=key,
        principal=principal_of(arn) or use.operation or "unknown",
        origin=use.origin,
        arn=arn,
        minted_at=use.at,
        expires_at=instant(expiration.group(1)) if expiration else None,
        minted_by=f"{use.operation} (SDK log)" if use.operation else "SDK log",
    )
