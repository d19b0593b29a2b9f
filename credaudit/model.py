"""The data that crosses stage boundaries: observations, resolutions, findings, reports.

These are standard-library dataclasses (frozen where they are shared and cached, keyword-only
like the pydantic models they replaced), not pydantic models: a table scan builds a few hundred
of them and never needs validation, and importing pydantic and building its validators cost
more than the whole rest of a scan (see docs/performance.md).  pydantic is still what turns them
into JSON and a JSON Schema (``credaudit.report.json`` wraps them in a ``TypeAdapter``), so the
JSON output stays the models' own dump; the three small ``Annotated`` markers below carry what
pydantic needs (the instant format, field descriptions, the masked key id) and import it only
when pydantic asks.

Secrets never enter these models: an observation holds the access key id (needed to decode the
account and to match presigned URLs, and always rendered masked) and a *fingerprint* of the
session token, never the secret key or the token itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson

SCHEMA_VERSION = "1.0"
# orjson writes a UTC instant as "2026-11-22T04:01:43Z", whole seconds (truncated).
_INSTANT_JSON = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


def format_instant(value: datetime) -> str:
    """The one instant format of every machine-readable output: RFC 3339, whole seconds, ``Z``.

    A UTC instant is orjson's text, at a quarter of ``isoformat``'s cost and a twentieth of
    strftime's (bulk token and URL output formats several per line, in messages), and so
    exactly what orjson writes when it dumps a record holding it (``json_line``), in every
    year: four digits before year 1000 too (``0001-…``; glibc's ``%Y`` writes ``1-…``,
    which is not RFC 3339).  Anything else takes strftime."""
    if value.tzinfo is UTC:
        return orjson.dumps(value, None, _INSTANT_JSON)[1:-1].decode()  # no keyword: -40 %
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_optional_instant(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)


def record_dict(record: Any) -> dict[str, Any]:
    """A record dataclass as JSON-ready data, its fields in declaration order, as pydantic
    dumps it and orjson writes it: instants by ``format_instant``, enums by value, nested
    records and lists likewise.  One converter for every bulk record, so no hand-written
    field list can drift from the dataclass; only tests, library callers and ``json_line``'s
    rare path use it (the bulk path is orjson on the dataclass itself)."""
    return {f.name: json_ready(getattr(record, f.name)) for f in fields(record)}


def json_ready(value: Any) -> Any:
    """``value`` with every record, instant and enum in it turned into what ``json`` writes
    as credaudit does (``record_dict``, ``format_instant``, the enum's value)."""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return record_dict(value)
    return value


def json_line(record: Any, *instants: datetime | None) -> bytes:
    """A bulk record (a URL's, a token's) as one compact JSON line, UTF-8, as
    ``record_dict`` holds it (which ``--format json`` agrees with).  ``instants`` are those of
    the record's that may not be UTC (a record whose instants are UTC by construction names
    none).

    orjson dumps the dataclass itself, in C, when it writes what ``to_dict()`` holds: every
    instant UTC (where orjson's text is ``format_instant``'s), no lone surrogate, no integer
    beyond 64 bits (it refuses those two).  Otherwise ``json`` writes
    ``to_dict()``, each lone surrogate as its ``\\uXXXX`` escape as ``--format json``
    writes it (``report.json.escape_surrogates``): the line stays UTF-8 and reads back as
    the same string.  A plain loop, not ``all()`` over a generator: this runs once a line."""
    for value in instants:
        if value is not None and value.tzinfo is not UTC:
            break
    else:
        try:
            return orjson.dumps(record, option=_INSTANT_JSON)
        except TypeError:
            pass
    import json  # the rare way: not at start-up

    from credaudit.report.json import escape_surrogates

    text = json.dumps(record_dict(record), ensure_ascii=False, separators=(",", ":"))
    return escape_surrogates(text).encode("utf-8")


@dataclass(frozen=True)
class _InstantJson:
    """``Annotated`` marker: pydantic serialises the instant with ``format_instant`` in JSON."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        schema = handler(source)
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(
            format_instant, return_schema=core_schema.str_schema(), when_used="json"
        )
        return schema


@dataclass(frozen=True)
class Described:
    """``Annotated`` marker: the field's description in the JSON Schema."""

    text: str

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        json_schema = dict(handler(core_schema))
        json_schema["description"] = self.text
        return json_schema


@dataclass(frozen=True)
class _MaskedJson:
    """``Annotated`` marker: an access key id is dumped masked (``ASIA…VV7A``), never whole."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        from credaudit.keys import mask_key

        schema = handler(source)
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(
            mask_key, return_schema=core_schema.str_schema()
        )
        return schema


Instant = Annotated[datetime, _InstantJson()]
DetailValue = str | int | float | bool | None


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


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a finding comes from, so CI formats can point at it."""

    path: str | None = None
    line: int | None = None
    env_var: str | None = None
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Problem:
    """Something a source could not read or found wrong, turned into a finding by analysis."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One place credentials (or credential configuration) live, as one source saw it.

    ``source`` is botocore's provider ``METHOD`` name (``env``, ``assume-role``, ``sso``, ...)
    or, for material that is not itself a provider (caches, token files), a source-specific
    name such as ``cli-cache`` or ``sso-token``.  ``details`` holds source-specific facts the
    chain and the rules need (role ARN, duration, MFA serial, cache key, ...); values are plain
    scalars and never secrets.  The full access key id is kept out of ``repr`` and dumped
    masked: only its masked form is ever shown.
    """

    source: str
    origin: str
    profile: str | None = None
    access_key_id: Annotated[str, _MaskedJson()] | None = field(default=None, repr=False)
    access_key_masked: str | None = None
    account_id: str | None = None
    key_kind: KeyKind = KeyKind.NONE
    session_token_fingerprint: str | None = None
    has_secret: bool = False
    expires_at: Instant | None = None
    issued_at: Instant | None = None
    refreshable: bool = False
    location: Location | None = None
    file_mode: Annotated[int | None, Described("permission bits of the file read")] = None
    details: dict[str, DetailValue] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


@dataclass(kw_only=True)
class CredentialView:
    """The report's per-credential row."""

    profile: str | None
    source: str
    origin: str
    access_key_id: Annotated[str | None, Described("masked access key id, e.g. ASIA…VV7A")]
    account_id: str | None
    kind: KeyKind
    expires_at: Instant | None
    remaining_seconds: int | None
    refreshable: bool
    role_arn: str | None = None
    budget_seconds: Annotated[
        int | None, Described("how long the budget needs this credential to live")
    ] = None


@dataclass(kw_only=True)
class ResolvedSource:
    source: str
    origin: str
    refreshable: bool
    expires_at: Instant | None = None


@dataclass(kw_only=True)
class ShadowedSource:
    source: str
    origin: str
    reason: str


@dataclass(kw_only=True)
class ChainEntry:
    """Which source botocore would use for one profile, and what it hides."""

    profile: str
    explicit_profile: Annotated[
        bool,
        Described("the profile was chosen explicitly (--profile), which drops the env provider"),
    ]
    resolved: ResolvedSource | None
    shadowed: list[ShadowedSource] = field(default_factory=list)
    error: Annotated[
        str | None, Described("why botocore would fail to load credentials for this profile")
    ] = None


@dataclass(frozen=True, kw_only=True)
class Finding:
    code: str
    severity: Severity
    title: str
    subject: str
    message: str
    remediation: str
    profile: str | None = None
    location: Location | None = None
    details: Annotated[
        dict[str, DetailValue], Described("the numbers the finding rests on (incident rules)")
    ] = field(default_factory=dict, hash=False)


# Frozen, since one view may stand in many records (a URL finding that names only the key or
# its session is built once per session); not slotted, so orjson dumps it straight from its
# ``__dict__`` (a slotted one goes field by field through ``dataclasses.fields``: measured
# 0.17 µs against 1.3 µs).  ``credaudit.analysis.rules.view`` builds it: a frozen ``__init__``
# would set each field through ``object.__setattr__``.
@dataclass(frozen=True)
class FindingView:
    """A finding inside one record of the bulk outputs (a URL's, a token's): the record is
    its subject, so it names none."""

    code: str
    severity: Severity
    title: str
    message: str
    remediation: str

    def to_dict(self) -> dict[str, str]:
        return record_dict(self)

    def located(self, subject: str, location: Location | None) -> Finding:
        """As a report's finding: named by its record's subject, at its record's place."""
        return Finding(
            code=self.code,
            severity=self.severity,
            title=self.title,
            subject=subject,
            message=self.message,
            remediation=self.remediation,
            location=location,
        )


@dataclass(kw_only=True)
class BudgetView:
    """The budget the scan was judged against, in seconds."""

    run_time: int
    queue_dwell: int
    signing_delay: int
    retry_budget: int
    url_ttl: int
    min_remaining: int
    skew_margin: int

    def required_seconds(self) -> int:
        """How long from the evaluation a credential must still live for this budget: the
        run, dispatch, retries and skew, and never less than the minimum remaining."""
        work = (
            self.run_time
            + self.signing_delay
            + self.queue_dwell
            + self.retry_budget
            + self.skew_margin
        )
        return max(work, self.min_remaining)


@dataclass(kw_only=True)
class Summary:
    credentials: int
    findings: int
    by_severity: dict[str, int]
    highest: Severity | None
    fail_on: Severity
    failed: bool


@dataclass(kw_only=True)
class ProbeStatus:
    """What a network probe did (ran, skipped and why); filled by the network sources."""

    name: str
    status: Literal["ran", "skipped", "failed"]
    detail: str = ""


@dataclass(kw_only=True)
class ClockReading:
    """The clock offset ``--clock-check`` measured, so a fleet's reports can be compared."""

    offset_seconds: Annotated[
        float, Described("local clock minus the reference: positive means ahead")
    ]
    uncertainty_seconds: float


@dataclass(kw_only=True)
class ScanReport:
    schema_version: str = SCHEMA_VERSION
    kind: Literal["scan"] = "scan"
    evaluated_at: Instant
    target: dict[str, Any]
    budget: BudgetView
    credentials: list[CredentialView]
    chain: list[ChainEntry]
    findings: list[Finding]
    probes: list[ProbeStatus] = field(default_factory=list)
    summary: Summary
    host: Annotated[
        str | None, Described("the name of the host that ran the scan (credaudit fleet)")
    ] = None
    clock: Annotated[
        ClockReading | None, Described("the measured clock offset, with --clock-check")
    ] = None
