"""JUnit XML, the one test-report format every CI system (GitLab, Jenkins, Azure) displays.

Each workload, profile or URL is a test case; it fails when it has a finding at or above
``--fail-on``.  One ``<failure>`` per case (several parsers show only the first), listing
every failing finding; findings below the threshold go to ``<system-out>`` so nothing is
lost.  Built with ``xml.etree`` so escaping is the library's, not ours.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from credaudit.model import Finding
from credaudit.report.ci import CiReport, cases, fail_on, title, where


def _line(finding: Finding) -> str:
    place = where(finding)
    suffix = f" [{place}]" if place else ""
    return (
        f"{finding.severity.value.upper()} {finding.code} {finding.title}: {finding.message}"
        f"{suffix}\n  fix: {finding.remediation}"
    )


def render(report: CiReport) -> str:
    threshold = fail_on(report)
    units = cases(report)
    name = title(report)
    suites = ET.Element("testsuites", name=name)
    suite = ET.SubElement(suites, "testsuite", name=name)
    failures = 0
    for case in units:
        element = ET.SubElement(suite, "testcase", classname=f"credaudit.{report.kind}")
        element.set("name", case.name)
        if case.location is not None and case.location.path:
            element.set("file", case.location.path)
            if case.location.line:
                element.set("line", str(case.location.line))
        bad = [f for f in case.findings if f.severity.at_least(threshold)]
        rest = [f for f in case.findings if not f.severity.at_least(threshold)]
        if bad:
            failures += 1
            failure = ET.SubElement(element, "failure")
            failure.set("type", ",".join(sorted({f.code for f in bad})))
            failure.set(
                "message",
                "; ".join(f"{f.code} {f.message}" for f in bad),
            )
            failure.text = "\n".join(_line(f) for f in bad) + "\n"
        if rest:
            out = ET.SubElement(element, "system-out")
            out.text = "\n".join(_line(f) for f in rest) + "\n"
    for element in (suites, suite):
        element.set("tests", str(len(units)))
        element.set("failures", str(failures))
        element.set("errors", "0")
    suite.set("skipped", "0")
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
