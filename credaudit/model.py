"""The data that crosses stage boundaries: observations, resolutions, findings, reports.

Everything here is a pydantic model so that the JSON output is the model's own dump and
``credaudit schema`` can print its JSON Schema.  Secrets never enter these models: an
observation holds the access key id (needed to decode the account and to match presigned
URLs, and always rendered masked) and a *fingerprint* of the session token, never the
secret key or the token itself.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

SCHEMA_VERSION = "1.0"

Instant = Annotated[
    datetime,
    PlainSerializer(lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ"), return_type=str, when_used="json"),
]


class Severity(enum.StrEnum):
    """Finding severity; ``rank`` orders them for ``--fail-on``."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class KeyKind(enum.StrEnum):
    """What an access key id says about its credential (IAM unique-ID prefixes)."""

    TEMPORARY = "temporary"  # ASIA: STS session
    LONG_TERM = "long-term"  # AKIA: IAM user or root key
    OTHER = "other"  # any other prefix, or not an AWS-shaped id
    NONE = "none"  # the source holds no key itself (role config, SSO profile, ...)


class Location(BaseModel):
    """Where a finding comes from, so CI formats can point at it."""

    model_config = ConfigDict(frozen=True)

    path: str | None = None
    line: int | None = None
    env_var: str | None = None
    url: str | None = None


class Problem(BaseModel):
    """Something a source could not read or found wrong, turned into a finding by analysis."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class Observation(BaseModel):
    """One place credentials (or credential configuration) live, as one source saw it.

    ``source`` is botocore's provider ``METHOD`` name (``env``, ``assume-role``, ``sso``, ...)
    or, for material that is not itself a provider (caches, token files), a source-specific
    name such as ``cli-cache`` or ``sso-token``.  ``details`` holds source-specific facts the
    chain and the rules need (role ARN, duration, MFA serial, cache key, ...); values are plain
    scalars and never secrets.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    origin: str
    profile: str | None = None
    access_key_id: str | None = Field(default=None, exclude=True, repr=False)
    access_key_masked: str | None = None
    account_id: str | None = None
    key_kind: KeyKind = KeyKind.NONE
    session_token_fingerprint: str | None = None
    has_secret: bool = False
    expires_at: Instant | None = None
    issued_at: Instant | None = None
    refreshable: bool = False
    location: Location | None = None
    file_mode: int | None = Field(default=None, description="permission bits of the file read")
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


class CredentialView(BaseModel):
    """The report's per-credential row."""

    profile: str | None
    source: str
    origin: str
    access_key_id: str | None = Field(description="masked access key id, e.g. ASIA…VV7A")
    account_id: str | None
    kind: KeyKind
    expires_at: Instant | None
    remaining_seconds: int | None
    refreshable: bool
    role_arn: str | None = None
    budget_seconds: int | None = Field(
        default=None, description="how long the budget needs this credential to live"
    )


class ResolvedSource(BaseModel):
    source: str
    origin: str
    refreshable: bool
    expires_at: Instant | None = None


class ShadowedSource(BaseModel):
    source: str
    origin: str
    reason: str


class ChainEntry(BaseModel):
    """Which source botocore would use for one profile, and what it hides."""

    profile: str
    explicit_profile: bool = Field(
        description="the profile was chosen explicitly (--profile), which drops the env provider"
    )
    resolved: ResolvedSource | None
    shadowed: list[ShadowedSource] = Field(default_factory=list)
    error: str | None = Field(
        default=None, description="why botocore would fail to load credentials for this profile"
    )


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    title: str
    subject: str
    message: str
    remediation: str
    profile: str | None = None
    location: Location | None = None


class BudgetView(BaseModel):
    """The budget the scan was judged against, in seconds."""

    run_time: int
    queue_dwell: int
    signing_delay: int
    retry_budget: int
    url_ttl: int
    min_remaining: int
    skew_margin: int


class Summary(BaseModel):
    credentials: int
    findings: int
    by_severity: dict[str, int]
    highest: Severity | None
    fail_on: Severity
    failed: bool


class ProbeStatus(BaseModel):
    """What a network probe did (ran, skipped and why); filled by the network sources."""

    name: str
    status: Literal["ran", "skipped", "failed"]
    detail: str = ""


class ScanReport(BaseModel):
    schema_version: str = SCHEMA_VERSION
    kind: Literal["scan"] = "scan"
    evaluated_at: Instant
    target: dict[str, Any]
    budget: BudgetView
    credentials: list[CredentialView]
    chain: list[ChainEntry]
    findings: list[Finding]
    probes: list[ProbeStatus] = Field(default_factory=list)
    summary: Summary
