"""The records of ``credaudit token``: one ``TokenRecord`` per token, and the TokenReport.

Plain dataclasses like ``credaudit.model`` (pydantic only dumps them and writes their JSON
Schema); ``TokenRecord.to_dict`` is the JSON form, and a test holds its keys and values to
pydantic's.  The bulk path (``--format jsonl``) writes ``TokenRecord.to_json``: orjson
renders the dataclass itself, in C, with no dict built per record; a test holds it to
``to_dict``.  A record never holds the token: only a fingerprint (sha256 prefix) and a
masked form with the first and last four characters.
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
    Location,
    Severity,
    json_line,
    record_dict,
)

TokenKind = Literal["jwt", "opaque", "elasticsearch", "api-key"]
TokenStatus = Literal["valid", "expiring", "expired", "not-yet-valid", "invalid", "unknown", "none"]


@dataclass(kw_only=True)  # not slotted: see credaudit.model.FindingView
class TokenRecord:
    line: Annotated[int | None, Described("input line (1-based) for --from, HAR entry index")]
    found_in: Annotated[str, Described("where the token was found: file, line, variable, field")]
    kind: Annotated[TokenKind | None, Described("null when the input held no token")]
    fingerprint: Annotated[str | None, Described("sha256 prefix of the token, to correlate")]
    masked: Annotated[str | None, Described("first and last four characters and the length")]
    location: Location | None = None
    header_valid: Annotated[
        bool | None, Described("RFC 6750 verdict on the Authorization header; null: no header")
    ] = None
    header_note: str | None = None
    algorithm: str | None = None
    type: Annotated[str | None, Described("the JOSE header's typ (RFC 9068: at+jwt)")] = None
    key_id: Annotated[str | None, Described("JOSE kid, or an Elasticsearch API key's id")] = None
    iss: str | None = None
    sub: str | None = None
    aud: list[str] | None = None
    scope: str | None = None
    client_id: str | None = None
    issued_at: Instant | None = None
    not_before: Instant | None = None
    expires_at: Instant | None = None
    lifetime_seconds: int | None = None
    remaining_seconds: int | None = None
    refresh_expires_at: Annotated[
        Instant | None, Described("when the refresh token that came with it stops working")
    ] = None
    status: TokenStatus = "unknown"
    signature_valid: Annotated[
        bool | None, Described("true/false when checked against the operator's keys; null: not")
    ] = None
    signature_note: str | None = None
    notes: list[str] = field(default_factory=list)
    findings: list[FindingView] = field(default_factory=list)

    def to_json(self) -> bytes:
        """``to_dict()`` as one compact JSON line, UTF-8: what ``--format jsonl`` writes
        (``credaudit.model.json_line``: the fields are declared in ``to_dict``'s order, so
        orjson dumps the dataclass itself, unless an instant, a lone surrogate or an integer
        beyond 64 bits needs ``to_dict`` and ``json``)."""
        return json_line(
            self,
            self.expires_at,
            self.issued_at,
            self.not_before,
            self.refresh_expires_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, exactly as pydantic dumps it (a test holds them)."""
        return record_dict(self)


@dataclass(kw_only=True)
class TokenServiceView:
    """What an elasticsearch.yml says about the token service."""

    path: str
    security_enabled: bool | None
    http_ssl_enabled: bool | None
    token_service_enabled: bool
    enabled_by: Annotated[str, Described("'explicit' or how the default was reached")]
    timeout_seconds: int | None
    timeout_setting: Annotated[str | None, Described("the timeout as written; null: default")]


@dataclass(kw_only=True)
class TokenSummary:
    tokens: int
    by_status: dict[str, int]
    findings: int
    by_severity: dict[str, int]
    highest: Severity | None
    fail_on: Severity
    failed: bool


@dataclass(kw_only=True)
class TokenReport:
    schema_version: str = SCHEMA_VERSION
    kind: Literal["token"] = "token"
    evaluated_at: Instant
    budget: BudgetView
    max_lifetime_seconds: int
    keys: Annotated[str, Described("which keys signatures were checked with, or 'none'")]
    tokens: list[TokenRecord]
    token_services: list[TokenServiceView]
    findings: list[Finding]
    summary: TokenSummary

    def subjects(self) -> list[str]:
        """The CI formats' cases: one per token, then one per settings file."""
        return [subject(r) for r in self.tokens if r.kind is not None] + [
            f"settings {s.path}" for s in self.token_services
        ]


def subject(record: TokenRecord) -> str:
    """How findings name a token: where it was found and its fingerprint, never its value."""
    if record.fingerprint:
        return f"{record.found_in} ({record.fingerprint})"
    return record.found_in
