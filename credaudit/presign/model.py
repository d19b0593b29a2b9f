"""The pydantic models of ``credaudit url`` output: one URL's result and the UrlReport.

They exist for the boundary — ``--format json``, the JSON Schema, library users who want
validated objects.  The bulk path does not build them per URL (that would cost more than the
parsing itself): it dumps ``UrlResult.to_dict()``, whose keys are exactly
``UrlResultModel``'s fields, and a test holds the two together.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from credaudit.model import SCHEMA_VERSION, BudgetView, Finding, Instant, KeyKind, Severity

UrlStatus = Literal["valid", "expiring", "expired", "invalid"]


class UrlFindingView(BaseModel):
    """A finding as it appears inside one URL's record (the URL itself is the subject)."""

    code: str
    severity: Severity
    title: str
    message: str
    remediation: str


class UrlResultModel(BaseModel):
    line: int | None = Field(description="input line number (1-based) for --from input")
    url: str | None = Field(
        description="the URL with signature and token values elided; null for unreadable input"
    )
    algorithm: str | None
    access_key_id: str | None = Field(description="masked, e.g. ASIA…VV7A")
    key_kind: KeyKind
    account_id: str | None
    region: str | None
    service: str | None
    host: str | None
    addressing_style: Literal["virtual-host", "path"] | None
    signed_at: Instant | None
    expires_at: Instant | None = Field(description="nominal expiry stated by the URL")
    session_expires_at: Instant | None
    effective_expires_at: Instant | None = Field(description="the earlier of the two")
    remaining_seconds: int | None
    status: UrlStatus
    signature_valid: bool | None = Field(description="null when not checked or not checkable")
    signed_method: str | None
    signature_note: str | None
    findings: list[UrlFindingView]


class UrlSummary(BaseModel):
    urls: int
    by_status: dict[str, int]
    findings: int
    by_severity: dict[str, int]
    highest: Severity | None
    fail_on: Severity
    failed: bool


class UrlReport(BaseModel):
    schema_version: str = SCHEMA_VERSION
    kind: Literal["url"] = "url"
    evaluated_at: Instant
    target: dict[str, Any]
    budget: BudgetView
    urls: list[UrlResultModel]
    findings: list[Finding]
    summary: UrlSummary
