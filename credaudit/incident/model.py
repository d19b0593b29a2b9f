"""The incident report: sessions, the failing uses, findings, the timeline and the verdict.

Plain dataclasses dumped by pydantic (``credaudit.report.json``), like every other report; the
access key id is dumped masked and no model field can hold a token or a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from credaudit.model import SCHEMA_VERSION, Described, DetailValue, Finding, Instant, Severity

VerdictKind = Literal[
    "hard-expiry", "queue-dwell", "presigned-url", "clock-skew", "wrong-source", "none"
]


@dataclass(kw_only=True)
class SessionView:
    id: Annotated[str, Described("s1, s2, … in minting order; uses and the timeline refer to it")]
    access_key_id: Annotated[str | None, Described("masked, e.g. ASIA…VV7A")]
    principal: str
    arn: str | None
    minted_at: Instant | None
    expires_at: Instant | None
    lifetime_seconds: int | None
    minted_by: str | None
    how: Annotated[
        Literal["minted", "observed", "stated"],
        Described(
            "minted: a CloudTrail minting event; observed: seen in use; stated: a log's "
            "credentialExpiration"
        ),
    ]
    first_used_at: Instant | None
    last_used_at: Instant | None
    uses: int
    failures: int
    origin: str


@dataclass(kw_only=True)
class UseView:
    at: Instant
    session: str | None
    source: str
    service: str | None
    operation: str | None
    request_id: str | None
    error: str | None
    message: str | None
    signed_at: Instant | None
    presigned: bool
    url_expires_at: Instant | None
    cause: Annotated[str | None, Described("the finding code this failure counts for, if any")]
    retry: Annotated[bool, Described("a re-send of a request that had already failed (CA902)")]
    origin: str


TimelineKind = Literal[
    "minted", "expired", "signed", "first-failure", "retry", "refresh-restored", "last-failure"
]


@dataclass(kw_only=True)
class TimelineEntry:
    at: Instant
    kind: TimelineKind
    subject: str
    session: str | None
    detail: str
    count: int = 1


@dataclass(kw_only=True)
class Verdict:
    kind: VerdictKind
    summary: str
    code: str | None
    failures: Annotated[int, Described("failures this cause explains")]
    total_failures: int
    fix: str | None
    wrong_fix: str | None
    explained: dict[str, int] = field(default_factory=dict)


@dataclass(kw_only=True)
class IncidentSummary:
    files: int
    records: dict[str, int]
    sessions: int
    failures: int
    findings: int
    by_severity: dict[str, int]
    highest: Severity | None
    fail_on: Severity
    failed: bool


@dataclass(kw_only=True)
class IncidentReport:
    schema_version: str = SCHEMA_VERSION
    kind: Literal["incident"] = "incident"
    engine: str
    sessions: list[SessionView]
    uses: list[UseView]
    findings: list[Finding]
    timeline: list[TimelineEntry]
    verdict: Verdict
    summary: IncidentSummary
    inputs: list[str] = field(default_factory=list)


Details = dict[str, DetailValue]
