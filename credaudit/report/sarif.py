"""SARIF 2.1.0, for code-scanning UIs (GitHub code scanning, GitLab, Azure DevOps).

One rule entry per code that occurs, with the rule's page as help, and every result located
at the file (and line) that caused it, so the UI can annotate the policy file or the config.
GitHub also reads ``properties.security-severity`` to rank results; it is filled from the
finding's severity.
"""

from __future__ import annotations

import json
from typing import Any

from credaudit import __version__
from credaudit.analysis.rules import RULES
from credaudit.model import Finding, Severity
from credaudit.report.ci import CiReport, artifact_uri, fingerprint, rule_help, safe_url

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _rule(code: str) -> dict[str, Any]:
    entry = RULES.get(code)
    text, markdown = rule_help(code)
    rule: dict[str, Any] = {"id": code, "help": {"text": text, "markdown": markdown}}
    if entry is not None:
        rule |= {
            "name": _pascal(entry.name),
            "shortDescription": {"text": entry.title},
            "fullDescription": {"text": f"{entry.title}. {entry.fix}"},
            "defaultConfiguration": {"level": _LEVEL[entry.severity]},
            "properties": {
                "tags": ["security", "aws-credentials"],
                "security-severity": _SECURITY_SEVERITY[entry.severity],
            },
        }
    return rule


def _locations(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    out: dict[str, Any] = {}
    if loc is None:
        return out
    if loc.path:
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(loc.path)}}
        if loc.line:
            physical["region"] = {"startLine": loc.line}
        out["locations"] = [{"physicalLocation": physical}]
    elif loc.url:
        physical = {"artifactLocation": {"uri": safe_url(loc.url)}}
        if loc.line:
            physical["region"] = {"startLine": loc.line}
        out["locations"] = [{"physicalLocation": physical}]
    if loc.env_var:
        logical = {"name": loc.env_var, "kind": "variable"}
        out.setdefault("locations", [{}])[0]["logicalLocations"] = [logical]
    return out


def render(report: CiReport) -> str:
    codes = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for finding in report.findings:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": _LEVEL[finding.severity],
            "message": {"text": f"{finding.subject}: {finding.message}"},
            "partialFingerprints": {"credauditFinding/v1": fingerprint(finding)},
            "properties": {
                "severity": finding.severity.value,
                "security-severity": _SECURITY_SEVERITY[finding.severity],
                "subject": finding.subject,
                "remediation": finding.remediation,
            },
        }
        if finding.profile:
            result["properties"]["profile"] = finding.profile
        result |= _locations(finding)
        results.append(result)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "credaudit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "automationDetails": {"id": f"credaudit/{report.kind}/"},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
