"""What the CI formats (SARIF, JUnit, GitHub, Markdown) need from any report, and nothing more.

scan, url and check build different reports; the CI renderers must serve all three without
knowing their models.  So they see a report through ``CiReport`` (a kind, findings, a summary
with ``fail_on``) and ask ``cases()`` for the units a CI system shows as test cases: the
report's own ``subjects()`` when it has them (check: one per workload), its profiles (scan),
its URLs (url), and otherwise the findings' subjects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from credaudit.analysis.rules import RULES
from credaudit.model import Finding, Location, Severity
from credaudit.report.json import escape_surrogates


@runtime_checkable
class CiReport(Protocol):
    """Anything a CI renderer can render: model.ScanReport, presign UrlReport, CheckReport."""

    @property
    def kind(self) -> str: ...

    @property
    def findings(self) -> list[Finding]: ...

    @property
    def summary(self) -> Any: ...


@dataclass
class Case:
    """One JUnit test case: a workload, a profile or a URL, and the findings about it."""

    name: str
    findings: list[Finding] = field(default_factory=list)
    location: Location | None = None


def fail_on(report: CiReport) -> Severity:
    """The report's ``--fail-on`` threshold (high when a report does not carry one)."""
    value = getattr(report.summary, "fail_on", None)
    return Severity(value) if value is not None else Severity.HIGH


def failing(report: CiReport) -> list[Finding]:
    threshold = fail_on(report)
    return [f for f in report.findings if f.severity.at_least(threshold)]


def _names(report: CiReport) -> list[str]:
    subjects: Callable[[], Iterable[str]] | None = getattr(report, "subjects", None)
    if callable(subjects):
        return list(subjects())
    chain = getattr(report, "chain", None)
    if chain is not None:  # scan: one case per profile the chain resolved
        return [f"profile {entry.profile}" for entry in chain]
    return []


def cases(report: CiReport) -> list[Case]:
    """The report's units, each with its findings; every finding lands in exactly one case."""
    urls = getattr(report, "urls", None)
    if urls is not None:
        return _url_cases(report, urls)
    by_name: dict[str, Case] = {name: Case(name) for name in _names(report)}
    for finding in report.findings:
        case = by_name.setdefault(finding.subject, Case(finding.subject))
        case.findings.append(finding)
        if case.location is None:
            case.location = finding.location
    return list(by_name.values())


def _url_cases(report: CiReport, urls: Iterable[Any]) -> list[Case]:
    """url: one case per URL (by input line), findings matched by their location's line."""
    out: list[Case] = []
    by_line: dict[int, Case] = {}
    for number, item in enumerate(urls, start=1):
        line = getattr(item, "line", None)
        shown = safe_url(getattr(item, "url", None)) or "unreadable input"
        case = Case(f"line {line}: {shown}" if line is not None else f"url {number}: {shown}")
        out.append(case)
        if line is not None:
            by_line[line] = case
    stray: dict[str, Case] = {}
    for finding in report.findings:
        line = finding.location.line if finding.location else None
        found = by_line.get(line) if line is not None else None
        case = found or stray.setdefault(finding.subject, Case(finding.subject))
        case.findings.append(finding)
        case.location = case.location or finding.location
    return out + list(stray.values())


def safe_url(url: str | None) -> str | None:
    """A URL without its query: a presigned URL's query carries the session token."""
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def artifact_uri(path: str) -> str:
    """Relative paths stay relative (code-scanning UIs resolve them in the repository)."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    return posix.as_posix()


def rule_help(code: str) -> tuple[str, str]:
    """(plain text, Markdown) help for a code: its docs/rules page, else the catalogue."""
    entry = RULES.get(code)
    fallback = f"{entry.title}.\n\nFix: {entry.fix}\n\nSource: {entry.source}" if entry else code
    page: str | None = None
    try:
        from credaudit.rule_pages import read_page

        page = read_page(code)
    except ImportError:  # pragma: no cover - rule_pages ships with the package
        page = None
    if not page:
        return fallback, fallback
    return page, page


def title(report: CiReport) -> str:
    return f"credaudit {report.kind}"


def fingerprint(finding: Finding) -> str:
    """A stable id for a finding across runs, so code scanning tracks it rather than re-opens."""
    loc = finding.location
    where = f"{loc.path}|{loc.env_var}|{safe_url(loc.url)}" if loc else ""
    raw = f"{finding.code}|{finding.subject}|{where}"
    # A lone surrogate (command-line bytes that are not UTF-8, in a profile name or a path)
    # is hashed as the escape every format shows it as.
    return hashlib.sha256(escape_surrogates(raw).encode()).hexdigest()[:32]


def where(finding: Finding) -> str:
    """A short human location: ``path:line``, ``$VAR`` or a query-less URL."""
    loc = finding.location
    if loc is None:
        return ""
    if loc.path:
        return f"{loc.path}:{loc.line}" if loc.line else loc.path
    if loc.env_var:
        return f"${loc.env_var}"
    if loc.url:
        shown = safe_url(loc.url) or ""
        return f"{shown} (line {loc.line})" if loc.line else shown
    return f"line {loc.line}" if loc.line else ""
