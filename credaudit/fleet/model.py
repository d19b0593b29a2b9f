"""The data of ``credaudit fleet``: one summary per host, the expiry events it holds, and the
report the renderers draw.  Built by ``hosts`` (JSON reports) or ``promapi`` (a Prometheus
server) and judged by ``analysis``; plain dataclasses like ``credaudit.model``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from credaudit.model import SCHEMA_VERSION, Finding, Instant, Summary

EventKind = Literal["expiry", "refresh"]


@dataclass(frozen=True, kw_only=True)
class HostCredential:
    """One credential a host holds, with its expiry (only those with a known expiry)."""

    profile: str | None
    source: str
    origin: str
    refreshable: bool
    expires_at: Instant


@dataclass(kw_only=True)
class HostSummary:
    host: str
    group: str  # the host name without its trailing number: web-1 and web-2 are "web"
    reported_at: Instant  # when its latest report was evaluated
    origin: str  # the file or the Prometheus series it came from
    credentials: list[HostCredential] = field(default_factory=list)
    clock_offset_seconds: float | None = None
    clock_uncertainty_seconds: float | None = None


@dataclass(frozen=True, kw_only=True)
class ExpiryEvent:
    """An instant a host's credential dies (static) or its SDK must refresh it (refreshable:
    botocore's advisory refresh, 15 minutes before expiry)."""

    host: str
    group: str
    at: Instant
    kind: EventKind
    source: str


@dataclass(kw_only=True)
class FleetReport:
    schema_version: str = SCHEMA_VERSION
    kind: Literal["fleet"] = "fleet"
    evaluated_at: Instant
    inputs: list[str]
    window_seconds: int
    min_hosts: int
    hosts: list[HostSummary]
    events: list[ExpiryEvent]
    findings: list[Finding]
    summary: Summary
