"""The records of ``credaudit url``: one ``UrlResult`` per URL, and the UrlReport.

Plain dataclasses like ``credaudit.model`` and ``credaudit.tokens.model``: pydantic only dumps
them for ``--format json`` and writes their JSON Schema.  The bulk path (``--format jsonl``)
writes ``UrlResult.to_json``: orjson renders the dataclass itself, in C, with no dict built
per URL; a test holds it to ``to_dict`` and to pydantic's dump.

A result names no one: its findings are ``FindingView`` (the URL is their subject), and the
report's findings get their subject and location from ``report_findings``.  A result
holds no secret: the key id only masked, the URL only elided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from credaudit.model import (
    SCHEMA_VERSION,
    BudgetView,
    Described,
    Finding,
    FindingView,
    Instant,
    KeyKind,
    Location,
    Severity,
    json_line,
    record_dict,
)
from credaudit.presign.parse import AddressingStyle

UrlStatus = Literal["valid", "expiring", "expired", "invalid"]


@dataclass  # not slotted: see FindingView
class UrlResult:
    """One URL's verdict, in the order of its JSON fields."""

    line: Annotated[int | None, Described("input line number (1-based) for --from input")] = None
    url: Annotated[
        str | None,
        Described("the URL with signature and token values elided; null for unreadable input"),
    ] = None
    algorithm: str | None = None
    access_key_id: Annotated[str | None, Described("masked, e.g. ASIA…VV7A")] = None
    key_kind: KeyKind = KeyKind.NONE
    account_id: str | None = None
    region: str | None = None
    service: str | None = None
    host: str | None = None
    addressing_style: AddressingStyle | None = None
    signed_at: Instant | None = None
    expires_at: Annotated[Instant | None, Described("nominal expiry stated by the URL")] = None
    session_expires_at: Instant | None = None
    effective_expires_at: Annotated[Instant | None, Described("the earlier of the two")] = None
    remaining_seconds: int | None = None
    status: UrlStatus = "invalid"
    signature_valid: Annotated[bool | None, Described("null when not checked or not checkable")] = (
        None
    )
    signed_method: str | None = None
    signature_note: str | None = None
    findings: list[FindingView] = field(default_factory=list)

    def to_json(self) -> bytes:
        """``to_dict()`` as one compact JSON line, UTF-8: what ``--format jsonl`` writes
        (``credaudit.model.json_line``: orjson from the dataclass itself, unless a lone
        surrogate needs ``to_dict`` and ``json``).  Its instants are UTC by construction
        (``parse`` reads ``…Z`` times, ``analyze`` converts a session's expiry), so none is
        checked per line."""
        return json_line(self)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, as pydantic dumps it (a test holds them)."""
        return record_dict(self)


def subject(result: UrlResult) -> str:
    """How the report's findings name a URL: its masked key id, else its host, else its line."""
    line = f"line {result.line}" if result.line is not None else "input"
    return result.access_key_id or result.host or line


def report_findings(result: UrlResult) -> list[Finding]:
    """The result's findings as report findings: named by ``subject``, located at the URL."""
    name = subject(result)
    where = Location(url=result.url, line=result.line)
    return [f.located(name, where) for f in result.findings]


@dataclass(kw_only=True)
class UrlSummary:
    urls: int
    by_status: dict[str, int]
    findings: int
    by_severity: dict[str, int]
    highest: Severity | None
    fail_on: Severity
    failed: bool


@dataclass(kw_only=True)
class UrlReport:
    schema_version: str = SCHEMA_VERSION
    kind: Literal["url"] = "url"
    evaluated_at: Instant
    target: dict[str, Any]
    budget: BudgetView
    urls: list[UrlResult]
    findings: list[Finding]
    summary: UrlSummary
