"""GitHub Actions workflow commands: each finding becomes an annotation on the run and the diff.

Format and escaping follow GitHub's runner (``actions/toolkit`` ``command.ts``): in the
message ``%``, ``\\r`` and ``\\n`` are percent-encoded; in properties (file, line, title) also
``:`` and ``,``, which would otherwise end the property.  Severity maps to error (critical,
high), warning (medium) and notice (low, info).
"""

from __future__ import annotations

from credaudit.model import Finding, Severity
from credaudit.report.ci import CiReport, fail_on, failing, safe_url, title

_COMMAND = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    props: list[tuple[str, str]] = []
    loc = finding.location
    if loc is not None and loc.path:
        props.append(("file", loc.path))
        if loc.line:
            props.append(("line", str(loc.line)))
    props.append(("title", f"{finding.code} {finding.title}"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    message = f"{finding.subject}: {finding.message}"
    if loc is not None and not loc.path:
        if loc.env_var:
            message += f" (${loc.env_var})"
        elif loc.url:
            message += f" ({safe_url(loc.url)})"
    message += f"\nFix: {finding.remediation}"
    return f"::{_COMMAND[finding.severity]} {rendered}::{escape_data(message)}"


def render(report: CiReport) -> str:
    lines = [annotation(f) for f in report.findings]
    bad = len(failing(report))
    lines.append(
        f"{title(report)}: {len(report.findings)} finding(s), {bad} at or above "
        f"{fail_on(report).value}"
    )
    return "\n".join(lines) + "\n"
