"""JUnit XML: parsed with the standard library; cases per unit, failures at --fail-on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pydantic import TypeAdapter

from credaudit.model import Severity
from credaudit.presign.model import UrlReport
from credaudit.report import junit
from tests.presign.helpers import presign
from tests.report.ci_helpers import Report, Summary, at, bare_env, credaudit, finding


class WithSubjects(Report):
    def subjects(self) -> list[str]:
        return ["alpha", "beta", "gamma"]


def suite_of(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    return suite


def test_subjects_become_cases_and_failures_count_at_threshold() -> None:
    report = WithSubjects(
        [
            finding("CA105", "alpha", location=at("p.toml", 2)),
            finding("CA106", "alpha", location=at("p.toml", 2)),
            finding("CA106", "gamma", location=at("p.toml", 9)),
        ]
    )
    suite = suite_of(junit.render(report))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["alpha", "beta", "gamma"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "CA105"
    assert cases[0].get("file") == "p.toml" and cases[0].get("line") == "2"
    assert "CA106" in (cases[0].findtext("system-out") or "")
    assert cases[1].find("failure") is None and cases[1].find("system-out") is None
    assert cases[2].find("failure") is None

    report.summary = Summary(fail_on=Severity.LOW)
    assert suite_of(junit.render(report)).get("failures") == "2"


def test_xml_special_characters_survive() -> None:
    message = 'a < b & "c" > d ]]> \x1b'
    report = Report([finding("CA101", "w<&>", message.replace("\x1b", ""))])
    case = suite_of(junit.render(report)).find("testcase")
    assert case is not None and case.get("name") == "w<&>"
    failure = case.find("failure")
    assert failure is not None and 'a < b & "c" > d ]]>' in (failure.get("message") or "")


def test_scan_report_has_a_case_per_profile(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = x\n"
        "[other]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = y\n"
    )
    (aws / "credentials").chmod(0o600)
    result = credaudit(
        ["scan", "--no-network", "--all-profiles", "--format", "junit"], bare_env(tmp_path)
    )
    suite = suite_of(result.stdout)
    names = [c.get("name") for c in suite.findall("testcase")]
    assert "profile default" in names and "profile other" in names
    failed = sum(c.find("failure") is not None for c in suite.findall("testcase"))
    assert suite.get("failures") == str(failed)
    assert result.returncode == (1 if failed else 0)


def test_url_report_has_a_case_per_url(tmp_path: Path) -> None:
    good = presign(token=None, key="AKIAY34FZKBOKMUTVV7A", expires=600)
    long = presign(token="TOKEN-xyz", expires=7200)
    src = tmp_path / "urls.txt"
    src.write_text(f"{good}\n{long}\n")
    result = credaudit(
        [
            "url",
            "--from",
            str(src),
            "--no-network",
            "--session-expires",
            "+20m",
            "--format",
            "json",
        ],
        bare_env(tmp_path),
    )
    report = TypeAdapter(UrlReport).validate_json(result.stdout)
    text = junit.render(report)
    assert "TOKEN-xyz" not in text
    suite = suite_of(text)
    cases = suite.findall("testcase")
    assert [c.get("name", "").split(":")[0] for c in cases] == ["line 1", "line 2"]
    assert cases[1].find("failure") is not None  # CA301: the URL outlives its 20 min session
    assert "CA301" in (cases[1].find("failure").get("type") or "")  # type: ignore[union-attr]
    assert cases[0].find("failure") is None  # a long-term key's URL lives its stated 10 min
