"""A scenario generator: incidents written as AWS and applications write them, with known answers.

Each scenario writes CloudTrail delivery files (gzipped, in the ``AWSLogs/…/CloudTrail/…``
layout, with the session token in ``responseElements`` as CloudTrail really logs it), S3 server
access log lines, AWS SDK debug lines and application logs into a directory, and returns what
the analysis must find: every finding's code, subject and ``details``, and the verdict.  The
secrets written are canaries, so every test can also check that none leaks.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
DAY = datetime(2026, 4, 15, tzinfo=UTC)
TOKEN_CANARY = "CANARYSESSIONTOKEN"
SECRET_CANARY = "CANARYSECRETKEY"
# Real session tokens are hundreds of characters of base64: so are these.
TOKEN_TAIL = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ" * 6


def at(hhmmss: str) -> datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def amz(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ")


def human(t: datetime, comma: bool = True) -> str:
    """CloudTrail's ``Apr 15, 2026, 10:00:00 AM`` (or the older form without the comma)."""
    hour = t.hour % 12 or 12
    sep = ", " if comma else " "
    return (
        f"{t.strftime('%b')} {t.day}, {t.year}{sep}{hour}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"
    )


def key(n: int, prefix: str = "ASIA") -> str:
    return f"{prefix}QXAMPLE{n:09d}"


def role_arn(role: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role}"


def assumed_arn(role: str, session: str) -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"


@dataclass
class Expected:
    code: str
    subject: str
    details: dict[str, Any]


@dataclass
class Scenario:
    name: str
    root: Path
    verdict: str
    findings: list[Expected]
    sessions: int
    failures: int
    problems: list[str] = field(default_factory=list)  # CA908 inputs (suffixes)


class Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.records: dict[datetime, list[dict[str, Any]]] = {}
        self.s3: list[str] = []
        self.app: list[str] = []
        self.seq = 0

    # -- CloudTrail ---------------------------------------------------------------------------
    def _id(self) -> str:
        self.seq += 1
        return f"{self.seq:08x}-0e8d-11e4-96e4-e55c0example"

    def assume_role(
        self,
        when: datetime,
        role: str,
        session: str,
        access_key: str,
        lifetime: timedelta = timedelta(hours=1),
        event: str = "AssumeRole",
        old_format: bool = False,
    ) -> None:
        expires = when + lifetime
        self._add(
            when,
            {
                "eventVersion": "1.11",
                "userIdentity": {
                    "type": "AWSService" if event != "AssumeRole" else "IAMUser",
                    "principalId": "AIDAQRSTUVWXYZEXAMPLE",
                    "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer",
                    "accountId": ACCOUNT,
                    "accessKeyId": key(999, "AKIA"),
                    "userName": "deployer",
                },
                "eventTime": iso(when),
                "eventSource": "sts.amazonaws.com",
                "eventName": event,
                "awsRegion": "us-east-1",
                "sourceIPAddress": "192.0.2.10",
                "userAgent": "Boto3/1.34.0 md/Botocore#1.34.0",
                "requestParameters": {
                    "roleArn": role_arn(role),
                    "roleSessionName": session,
                    "durationSeconds": int(lifetime.total_seconds()),
                },
                "responseElements": {
                    "credentials": {
                        "accessKeyId": access_key,
                        "sessionToken": f"{TOKEN_CANARY}{access_key}{TOKEN_TAIL}",
                        "expiration": human(expires, comma=not old_format),
                    },
                    "assumedRoleUser": {
                        "assumedRoleId": f"AROAEXAMPLE:{session}",
                        "arn": assumed_arn(role, session),
                    },
                },
                "requestID": self._id(),
                "eventID": self._id(),
                "readOnly": True,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": ACCOUNT,
            },
        )

    def api_call(
        self,
        when: datetime,
        role: str,
        session: str,
        access_key: str,
        name: str = "DescribeInstances",
        minted: datetime | None = None,
    ) -> None:
        self._add(
            when,
            {
                "eventVersion": "1.11",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": f"AROAEXAMPLE:{session}",
                    "arn": assumed_arn(role, session),
                    "accountId": ACCOUNT,
                    "accessKeyId": access_key,
                    "sessionContext": {
                        "sessionIssuer": {"type": "Role", "arn": role_arn(role), "userName": role},
                        "attributes": {
                            "creationDate": iso(minted) if minted else iso(when),
                            "mfaAuthenticated": "false",
                        },
                    },
                },
                "eventTime": iso(when),
                "eventSource": "ec2.amazonaws.com",
                "eventName": name,
                "awsRegion": "us-east-1",
                "sourceIPAddress": "192.0.2.20",
                "requestParameters": None,
                "responseElements": None,
                "requestID": self._id(),
                "eventID": self._id(),
                "eventType": "AwsApiCall",
                "recipientAccountId": ACCOUNT,
            },
        )

    def failed_call(
        self,
        when: datetime,
        identity: dict[str, Any],
        code: str,
        message: str,
        name: str = "DescribeInstances",
    ) -> None:
        """A call CloudTrail logged with its errorCode and errorMessage."""
        self._add(
            when,
            {
                "eventVersion": "1.11",
                "userIdentity": {"accountId": ACCOUNT, **identity},
                "eventTime": iso(when),
                "eventSource": "ec2.amazonaws.com",
                "eventName": name,
                "awsRegion": "us-east-1",
                "sourceIPAddress": "192.0.2.30",
                "errorCode": code,
                "errorMessage": message,
                "requestParameters": None,
                "responseElements": None,
                "requestID": self._id(),
                "eventID": self._id(),
                "eventType": "AwsApiCall",
                "recipientAccountId": ACCOUNT,
            },
        )

    def _add(self, when: datetime, record: dict[str, Any]) -> None:
        slot = when.replace(minute=(when.minute // 5) * 5, second=0)
        self.records.setdefault(slot, []).append(record)

    # -- S3 access logs -----------------------------------------------------------------------
    def s3_line(
        self,
        when: datetime,
        requester: str,
        operation: str,
        obj: str,
        status: int,
        error: str | None,
        uri: str | None = None,
        auth: str = "AuthHeader",
    ) -> None:
        self.seq += 1
        uri = uri or f"{'GET' if 'GET' in operation else 'PUT'} /{obj} HTTP/1.1"
        stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
        self.s3.append(
            f"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be invoices "
            f'[{stamp}] 192.0.2.3 {requester} {self.seq:016X} {operation} {obj} "{uri}" '
            f'{status} {error or "-"} {243 if error else 1024} - 12 - "-" '
            f'"aws-sdk-java/2.20.0 Linux/5.10" - '
            f"s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 "
            f"ECDHE-RSA-AES128-GCM-SHA256 {auth} invoices.s3.us-east-1.amazonaws.com TLSv1.2 - - "
            f"us-east-1"
        )

    # -- app logs -----------------------------------------------------------------------------
    def app_line(self, when: datetime, **fields: str) -> None:
        parts = [iso(when)]
        for name, value in fields.items():
            parts.append(f'{name}="{value}"' if " " in value else f"{name}={value}")
        self.app.append(" ".join(parts))

    def app_json(self, **fields: str) -> None:
        self.app.append(json.dumps(fields))

    # -- files --------------------------------------------------------------------------------
    def write(self, app_name: str = "app.log") -> None:
        for slot, records in sorted(self.records.items()):
            folder = (
                self.root / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / f"{slot:%Y/%m/%d}"
            )
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{ACCOUNT}_CloudTrail_us-east-1_{slot:%Y%m%dT%H%MZ}_a1b2c3d4e5f6g7h8.json.gz"
            (folder / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
        if self.s3:
            folder = self.root / "s3-logs"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "2026-04-15-10-15-00-ABCDEF0123456789").write_text("\n".join(self.s3) + "\n")
        if self.app:
            (self.root / app_name).write_text("\n".join(self.app) + "\n")


def presigned_uri(access_key: str, signed: datetime, expires: int, obj: str) -> str:
    scope = f"{access_key}%2F{signed:%Y%m%d}%2Fus-east-1%2Fs3%2Faws4_request"
    return (
        f"GET /{obj}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={scope}"
        f"&X-Amz-Date={amz(signed)}&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host"
        f"&X-Amz-Security-Token={TOKEN_CANARY}presigned{TOKEN_TAIL.replace('/', '%2F')}"
        f"&X-Amz-Signature={'ab' * 32} HTTP/1.1"
    )


# -- the scenarios -----------------------------------------------------------------------------


def hard_expiry(root: Path) -> Scenario:
    """Seed 002: session minted 09:00 for 1 h, blind retries with the stale token from 10:02,
    the refresh path restored at 10:08."""
    w = Writer(root)
    k1, k2 = key(1), key(2)
    sess1, sess2 = "botocore-session-1776243600", "botocore-session-1776244080"
    w.assume_role(at("09:00:00"), "invoice-batch", sess1, k1)
    w.api_call(at("09:10:00"), "invoice-batch", sess1, k1, minted=at("09:00:00"))
    w.api_call(at("09:47:00"), "invoice-batch", sess1, k1, minted=at("09:00:00"))
    w.assume_role(at("10:08:00"), "invoice-batch", sess2, k2)
    w.api_call(at("10:09:00"), "invoice-batch", sess2, k2, minted=at("10:08:00"))
    exp1 = "2026-04-15T10:00:00Z"
    msg = "The security token included in the request is expired"
    w.app_line(
        at("09:47:00"),
        worker="invoice-batch",
        requestId="req_0a1",
        credentialExpiration=exp1,
        requestSentAt="2026-04-15T09:47:00Z",
        status="200",
    )
    for t in ("10:02:14", "10:02:44", "10:03:14", "10:04:14"):
        w.app_line(
            at(t),
            worker="invoice-batch",
            requestId="req_51da3f",
            credentialExpiration=exp1,
            requestSentAt=iso(at(t)),
            error="ExpiredToken",
            message=msg,
            sessionToken=f"{TOKEN_CANARY}app",
        )
    w.app_line(
        at("10:05:00"),
        worker="invoice-batch",
        requestId="req_77b0c2",
        credentialExpiration=exp1,
        requestSentAt=iso(at("10:05:00")),
        error="ExpiredToken",
        message=msg,
    )
    w.app_line(
        at("10:09:30"),
        worker="invoice-batch",
        requestId="req_51da3f",
        credentialExpiration="2026-04-15T11:08:00Z",
        requestSentAt=iso(at("10:09:30")),
        status="200",
    )
    requester = assumed_arn("invoice-batch", sess1)
    w.s3_line(at("09:30:00"), requester, "REST.PUT.OBJECT", "invoices/0001.pdf", 200, None)
    w.s3_line(
        at("10:03:00"), requester, "REST.PUT.OBJECT", "invoices/0002.pdf", 400, "ExpiredToken"
    )
    w.s3_line(
        at("10:03:30"), requester, "REST.PUT.OBJECT", "invoices/0002.pdf", 400, "ExpiredToken"
    )
    w.write()
    return Scenario(
        "hard-expiry",
        root,
        "hard-expiry",
        sessions=2,
        failures=7,
        findings=[
            Expected(
                "CA901",
                "s1 (ASIA…0001)",
                {
                    "failures": 7,
                    "first_failure_at": "2026-04-15T10:02:14Z",
                    "last_failure_at": "2026-04-15T10:05:00Z",
                    "expires_at": exp1,
                    "seconds_after_expiry": 134,
                },
            ),
            Expected(
                "CA902",
                "s1 (ASIA…0001)",
                {
                    "retries": 4,
                    "requests": 2,
                    "seconds": 120,
                    "first_failure_at": "2026-04-15T10:02:14Z",
                    "last_retry_at": "2026-04-15T10:04:14Z",
                },
            ),
            Expected(
                "CA903",
                role_arn("invoice-batch"),
                {
                    "gap_seconds": 480,
                    "expired_at": exp1,
                    "next_minted_at": "2026-04-15T10:08:00Z",
                    "next_session": "s2",
                    "restored": True,
                },
            ),
        ],
    )


def queue_dwell(root: Path) -> Scenario:
    """Export jobs signed at enqueue, sent from the queue after the session died; the SDK
    refreshed in time (12:45), so no refresh gap."""
    w = Writer(root)
    k1, k2 = key(11), key(12)
    w.assume_role(at("12:00:00"), "exporter", "exporter-a", k1)
    w.assume_role(at("12:45:00"), "exporter", "exporter-b", k2)
    w.app_json(
        time="2026-04-15T12:51:00Z",
        worker="exporter",
        requestId="job-0",
        signedAt="2026-04-15T12:50:00Z",
        requestSentAt="2026-04-15T12:51:00Z",
        accessKeyId=k1,
    )
    w.app_json(
        time="2026-04-15T13:07:30Z",
        worker="exporter",
        requestId="job-1",
        signedAt="2026-04-15T12:52:00Z",
        requestSentAt="2026-04-15T13:07:30Z",
        accessKeyId=k1,
        error="ExpiredToken",
        message="The provided token has expired.",
    )
    w.app_json(
        time="2026-04-15T13:03:00Z",
        worker="exporter",
        requestId="job-2",
        signedAt="2026-04-15T12:58:00Z",
        requestSentAt="2026-04-15T13:03:00Z",
        accessKeyId=k1,
        error="ExpiredToken",
        message="The provided token has expired.",
        secretAccessKey=f"{SECRET_CANARY}json",
    )
    w.write("queue.jsonl")
    return Scenario(
        "queue-dwell",
        root,
        "queue-dwell",
        sessions=2,
        failures=2,
        findings=[
            Expected(
                "CA904",
                "s1 (ASIA…0011)",
                {
                    "dwell_seconds": 930,
                    "requests": 2,
                    "signed_at": "2026-04-15T12:52:00Z",
                    "sent_at": "2026-04-15T13:07:30Z",
                    "signed_before_expiry_seconds": 480,
                    "sent_after_expiry_seconds": 450,
                },
            ),
        ],
    )


def presigned(root: Path) -> Scenario:
    """A 6 h presigned URL signed at 08:05 with a 1 h session minted at 08:00."""
    w = Writer(root)
    k1 = key(21)
    sess = "uploader"
    w.assume_role(at("08:00:00"), "share-links", sess, k1)
    uri = presigned_uri(k1, at("08:05:00"), 21600, "reports/q1.pdf")
    w.s3_line(
        at("08:30:00"), "-", "REST.GET.OBJECT", "reports/q1.pdf", 200, None, uri, "QueryString"
    )
    w.s3_line(
        at("10:30:00"),
        "-",
        "REST.GET.OBJECT",
        "reports/q1.pdf",
        400,
        "ExpiredToken",
        uri,
        "QueryString",
    )
    w.s3_line(
        at("11:00:00"),
        "-",
        "REST.GET.OBJECT",
        "reports/q1.pdf",
        400,
        "ExpiredToken",
        uri,
        "QueryString",
    )
    w.write()
    return Scenario(
        "presigned-url",
        root,
        "presigned-url",
        sessions=1,
        failures=2,
        findings=[
            Expected(
                "CA905",
                "s1 (ASIA…0021)",
                {
                    "requests": 2,
                    "url_ttl_seconds": 21600,
                    "session_remaining_seconds": 3300,
                    "failed_after_signing_seconds": 8700,
                    "url_remaining_seconds": 12900,
                },
            ),
        ],
    )


def refresh_gap(root: Path) -> Scenario:
    """A web-identity session (old expiration format) expired at 15:00 while the pod kept
    writing; the next one was minted at 15:25."""
    w = Writer(root)
    k1, k2 = key(31), key(32)
    w.assume_role(
        at("14:00:00"),
        "pod-writer",
        "pod-1",
        k1,
        event="AssumeRoleWithWebIdentity",
        old_format=True,
    )
    w.assume_role(
        at("15:25:00"),
        "pod-writer",
        "pod-2",
        k2,
        event="AssumeRoleWithWebIdentity",
        old_format=True,
    )
    requester = assumed_arn("pod-writer", "pod-1")
    for i, t in enumerate(("15:01:00", "15:10:00", "15:20:00")):
        w.s3_line(at(t), requester, "REST.PUT.OBJECT", f"out/part-{i}", 400, "ExpiredToken")
    w.s3_line(
        at("15:26:00"),
        assumed_arn("pod-writer", "pod-2"),
        "REST.PUT.OBJECT",
        "out/part-3",
        200,
        None,
    )
    w.write()
    return Scenario(
        "refresh-gap",
        root,
        "hard-expiry",
        sessions=2,
        failures=3,
        findings=[
            Expected(
                "CA901",
                "s1 (ASIA…0031)",
                {
                    "failures": 3,
                    "first_failure_at": "2026-04-15T15:01:00Z",
                    "last_failure_at": "2026-04-15T15:20:00Z",
                    "expires_at": "2026-04-15T15:00:00Z",
                    "seconds_after_expiry": 60,
                },
            ),
            Expected(
                "CA903",
                role_arn("pod-writer"),
                {
                    "gap_seconds": 1500,
                    "expired_at": "2026-04-15T15:00:00Z",
                    "next_minted_at": "2026-04-15T15:25:00Z",
                    "next_session": "s2",
                    "restored": True,
                },
            ),
        ],
    )


def wrong_source(root: Path) -> Scenario:
    """A valid session exists, but the process signs with a stale long-term key."""
    w = Writer(root)
    w.assume_role(at("16:00:00"), "billing", "billing-1", key(41))
    stale = key(42, "AKIA")
    for t in ("16:10:00", "16:11:00", "16:12:00"):
        w.app_line(
            at(t),
            worker="billing",
            requestId=f"r-{t}",
            accessKeyId=stale,
            error="InvalidClientTokenId",
            message="The security token included in the request is invalid.",
        )
    w.s3_line(at("16:15:00"), "-", "REST.GET.OBJECT", "bills/1.csv", 403, "InvalidAccessKeyId")
    w.failed_call(
        at("16:20:00"),
        {"type": "IAMUser", "accessKeyId": stale},
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    )
    w.write()
    return Scenario(
        "wrong-source",
        root,
        "wrong-source",
        sessions=1,
        failures=5,
        findings=[
            Expected(
                "CA906",
                "AKIA…0042",
                {
                    "failures": 4,
                    "codes": "InvalidClientTokenId,SignatureDoesNotMatch",
                    "valid_sessions": 1,
                    "first_failure_at": "2026-04-15T16:10:00Z",
                },
            ),
            Expected(
                "CA906",
                "unknown credential",
                {
                    "failures": 1,
                    "codes": "InvalidAccessKeyId",
                    "valid_sessions": 1,
                    "first_failure_at": "2026-04-15T16:15:00Z",
                },
            ),
        ],
    )


def sdk_line(when: datetime, logger: str, level: str, message: str) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S},{when.microsecond // 1000:03d} - MainThread - {logger} - {level} - {message}"


def clock_skew(root: Path) -> Scenario:
    """A host clock 17 min 52 s slow: SigV4 rejects the signature as expired (SDK debug log),
    and S3 says RequestTimeTooSkewed (app log)."""
    w = Writer(root)
    k1 = key(51)
    w.assume_role(at("17:00:00"), "reporter", "reporter-1", k1)
    signed = at("17:00:00")
    server = at("17:17:52")
    lines = [
        sdk_line(
            signed, "botocore.credentials", "INFO", "Found credentials in environment variables."
        ),
        sdk_line(
            signed,
            "botocore.endpoint",
            "DEBUG",
            "Making request for OperationModel(name=DescribeInstances) with params: {}",
        ),
        sdk_line(
            signed,
            "botocore.endpoint",
            "DEBUG",
            "Sending http request: <AWSPreparedRequest stream_output=False, method=POST, "
            "url=https://ec2.us-east-1.amazonaws.com/, headers={'X-Amz-Date': "
            f"b'{amz(signed)}', 'X-Amz-Security-Token': b'{TOKEN_CANARY}sdk{TOKEN_TAIL}', "
            f"'Authorization': b'AWS4-HMAC-SHA256 Credential={k1}/20260415/us-east-1/ec2/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "cd" * 32 + "'}>",
        ),
        sdk_line(
            signed,
            "urllib3.connectionpool",
            "DEBUG",
            'https://ec2.us-east-1.amazonaws.com:443 "POST / HTTP/1.1" 401 312',
        ),
        sdk_line(
            signed,
            "botocore.parsers",
            "DEBUG",
            "Response headers: {'x-amzn-RequestId': '7e1c0f3a-1111-2222-3333-444455556666'}",
        ),
        sdk_line(signed, "botocore.parsers", "DEBUG", "Response body:"),
        'b\'<?xml version="1.0" encoding="UTF-8"?>\\n<Response><Errors><Error><Code>'
        "SignatureDoesNotMatch</Code><Message>Signature expired: "
        f"{amz(signed)} is now earlier than {amz(server - timedelta(minutes=5))} "
        f"({amz(server)} - 5 min.)</Message></Error></Errors></Response>'",
    ]
    (root / "worker-debug.log").parent.mkdir(parents=True, exist_ok=True)
    (root / "worker-debug.log").write_text("\n".join(lines) + "\n")
    w.app_line(
        at("17:20:00"),
        worker="reporter",
        requestId="put-1",
        signedAt="2026-04-15T17:00:00Z",
        requestSentAt="2026-04-15T17:20:00Z",
        error="RequestTimeTooSkewed",
        message="The difference between the request time and the current time is too large.",
    )
    # A second host 20 min slow, seen by CloudTrail: one message with both instants, one without.
    k2 = key(52)
    w.assume_role(at("17:05:00"), "exporter", "exporter-1", k2)
    exporter = {
        "type": "AssumedRole",
        "arn": assumed_arn("exporter", "exporter-1"),
        "accessKeyId": k2,
    }
    w.failed_call(
        at("17:30:00"),
        exporter,
        "SignatureDoesNotMatch",
        "Signature expired: 20260415T171000Z is now earlier than 20260415T172500Z "
        "(20260415T173000Z - 5 min.)",
    )
    w.failed_call(
        at("17:31:00"),
        exporter,
        "RequestExpired",
        "Request has expired.",
        name="DescribeVolumes",
    )
    w.write()
    return Scenario(
        "clock-skew",
        root,
        "clock-skew",
        sessions=2,
        failures=4,
        findings=[
            Expected(
                "CA907",
                "s1 (ASIA…0051)",
                {
                    "failures": 1,
                    "skew_seconds": 1072,
                    "codes": "SignatureDoesNotMatch",
                },
            ),
            Expected(
                "CA907",
                "reporter",
                {
                    "failures": 1,
                    "skew_seconds": 1200,
                    "codes": "RequestTimeTooSkewed",
                },
            ),
            Expected(
                "CA907",
                "s2 (ASIA…0052)",
                {
                    "failures": 2,
                    "skew_seconds": 1200,
                    "codes": "RequestExpired,SignatureDoesNotMatch",
                },
            ),
        ],
    )


def corrupt(root: Path) -> Scenario:
    """The hard-expiry incident with damaged files beside it: a truncated gzip, a wrong JSON
    shape, garbage lines in the S3 and the app logs.  The analysis must still find it."""
    base = hard_expiry(root)
    folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026/04/15"
    whole = gzip.compress(json.dumps({"Records": [{"eventTime": "x"}] * 50}).encode())
    (folder / "truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    (folder / "wrong-shape.json").write_text('{"Records": 5}')
    s3 = next((root / "s3-logs").iterdir())
    s3.write_text(s3.read_text() + "this is not an access log line\n")
    app = root / "app.log"
    app.write_text(
        app.read_text() + "worker=invoice-batch requestId=x error=ExpiredToken requestSentAt=nope\n"
    )
    (root / "binary.bin").write_bytes(bytes(range(256)))
    base.name = "corrupt"
    base.problems = [
        "truncated.json.gz",
        "wrong-shape.json",
        "2026-04-15-10-15-00-ABCDEF0123456789:4",
        "app.log:8",
        "binary.bin",
    ]
    return base


SCENARIOS: dict[str, Callable[[Path], Scenario]] = {
    "hard-expiry": hard_expiry,
    "queue-dwell": queue_dwell,
    "presigned-url": presigned,
    "refresh-gap": refresh_gap,
    "wrong-source": wrong_source,
    "clock-skew": clock_skew,
    "corrupt": corrupt,
}
