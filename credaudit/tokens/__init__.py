"""Bearer tokens — JWT, opaque, Elasticsearch, API keys — held against the Budget: the
library behind ``credaudit token``.

::

    from datetime import UTC, datetime
    from credaudit.tokens import inspect, inspect_stream
    record = inspect(token, now=datetime.now(UTC))
    record.status, record.expires_at, [f.code for f in record.findings]

``inspect`` judges one item: a bare token, an ``Authorization:`` line, a curl command or a
JSON answer.  ``inspect_stream`` takes lines (``str`` or ``bytes``) and yields one record per
token, in input order, and one for a line that holds none; it holds nothing back, so memory
stays flat however long the input.  Keys for signature checks come from ``keys`` only
(``keys_from_jwks``, ``keys_from_public_key``, ``keys_from_secret``): never from the token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import sort_findings
from credaudit.model import Finding, Severity
from credaudit.tokens.analyze import (
    DEFAULT_MAX_LIFETIME,
    Context,
    Expectations,
    Introspection,
    judge,
)
from credaudit.tokens.keys import KeySet
from credaudit.tokens.keys import from_jwks as keys_from_jwks
from credaudit.tokens.keys import from_public_key as keys_from_public_key
from credaudit.tokens.keys import from_secret as keys_from_secret
from credaudit.tokens.model import (
    TokenRecord,
    TokenReport,
    TokenServiceView,
    TokenSummary,
    subject,
)
from credaudit.tokens.readers import Candidate, lines_of, read_line

__all__ = [
    "Candidate",
    "Context",
    "Expectations",
    "Introspection",
    "KeySet",
    "TokenRecord",
    "TokenReport",
    "build_report",
    "inspect",
    "inspect_candidates",
    "inspect_stream",
    "keys_from_jwks",
    "keys_from_public_key",
    "keys_from_secret",
]


# The CLI's defaults: a 60 s skew margin, no minimum remaining life (see commands/token.py).
DEFAULT_BUDGET = Budget(min_remaining=timedelta(0), skew_margin=timedelta(seconds=60))


def _context(
    now: datetime,
    *,
    budget: Budget | None,
    keys: KeySet | None,
    expect: Expectations | None,
    max_lifetime: timedelta,
    introspect: Callable[[str], Introspection] | None,
) -> Context:
    return Context(
        now=now,
        budget=budget or DEFAULT_BUDGET,
        max_lifetime=max_lifetime,
        keys=keys,
        expect=expect or Expectations(),
        introspect=introspect,
    )


def inspect(
    token: str,
    *,
    now: datetime,
    budget: Budget | None = None,
    keys: KeySet | None = None,
    expect: Expectations | None = None,
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    introspect: Callable[[str], Introspection] | None = None,
) -> TokenRecord:
    """Judge one token (or header line, curl line, JSON answer): its first record.

    ``budget`` defaults to the CLI's: nothing but a 60 s skew margin (``DEFAULT_BUDGET``)."""
    ctx = _context(
        now,
        budget=budget,
        keys=keys,
        expect=expect,
        max_lifetime=max_lifetime,
        introspect=introspect,
    )
    return judge(read_line(token, Candidate(found_in="argument"))[0], ctx)


def inspect_stream(
    lines: Iterable[str | bytes | object],
    *,
    now: datetime,
    budget: Budget | None = None,
    keys: KeySet | None = None,
    expect: Expectations | None = None,
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    introspect: Callable[[str], Introspection] | None = None,
    name: str = "stdin",
    issued_at: datetime | None = None,
) -> Iterator[TokenRecord]:
    """One record per token per line, in order (a line without a token gives one record
    with ``kind: null``).  ``issued_at`` dates API answers that carry only ``expires_in``."""
    ctx = _context(
        now,
        budget=budget,
        keys=keys,
        expect=expect,
        max_lifetime=max_lifetime,
        introspect=introspect,
    )
    for candidates in lines_of(iter(lines), name, issued_at):
        for candidate in candidates:
            yield judge(candidate, ctx)


def inspect_candidates(candidates: Iterable[Candidate], ctx: Context) -> Iterator[TokenRecord]:
    for candidate in candidates:
        yield judge(candidate, ctx)


def report_findings(record: TokenRecord) -> list[Finding]:
    """The record's findings as report findings: named by where the token was found."""
    name = subject(record)
    where = record.location
    if where is not None and record.line is not None and where.line is None:
        where = replace(where, line=record.line)
    return [f.located(name, where) for f in record.findings]


def build_report(
    records: list[TokenRecord],
    *,
    now: datetime,
    budget: Budget,
    fail_on: Severity,
    keys: str = "none",
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    services: list[TokenServiceView] | None = None,
    service_findings: list[Finding] | None = None,
) -> TokenReport:
    findings = [f for r in records for f in report_findings(r)] + list(service_findings or [])
    findings = sort_findings(findings)
    highest = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    tokens = [r for r in records if r.kind is not None or r.findings]
    return TokenReport(
        evaluated_at=now,
        budget=budget.view(),
        max_lifetime_seconds=int(max_lifetime.total_seconds()),
        keys=keys,
        tokens=records,
        token_services=list(services or []),
        findings=findings,
        summary=TokenSummary(
            tokens=len(tokens),
            by_status=dict(Counter(r.status for r in records)),
            findings=len(findings),
            by_severity=dict(Counter(f.severity.value for f in findings)),
            highest=highest,
            fail_on=fail_on,
            failed=any(f.severity.at_least(fail_on) for f in findings),
        ),
    )
