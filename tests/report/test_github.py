"""GitHub workflow commands: levels, properties and escaping per actions/toolkit command.ts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from credaudit.model import Location, Severity
from credaudit.report import github
from tests.report.ci_helpers import Report, at, finding


def test_escape_rules() -> None:
    assert github.escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github.escape_data("a:b,c") == "a:b,c"  # only properties escape : and ,


def test_annotation_with_file_line_and_title() -> None:
    f = finding(
        "CA105", "nightly", "duration 2h, above 1h: fails", location=at("deploy/credaudit.toml", 12)
    )
    line = github.annotation(f)
    head, _, body = line.partition("::")[2].partition("::")
    assert line.startswith("::error ")
    assert head == (
        "error file=deploy/credaudit.toml,line=12,"
        "title=CA105 Requested session duration is outside what STS accepts"
    )
    assert body.startswith("nightly: duration 2h, above 1h: fails%0AFix: ")
    assert "\n" not in line


def test_levels_and_unlocated_findings() -> None:
    report = Report(
        [
            finding("CA101", location=Location(env_var="AWS_SESSION_TOKEN")),
            finding("CA102", severity=Severity.MEDIUM),
            finding("CA106"),
        ]
    )
    lines = github.render(report).splitlines()
    assert lines[0].startswith("::error title=CA101 ")
    assert "($AWS_SESSION_TOKEN)" in lines[0]
    assert lines[1].startswith("::warning title=CA102 ")
    assert lines[2].startswith("::notice title=CA106 ")
    assert lines[3] == "credaudit check: 3 finding(s), 1 at or above high"


def test_paths_with_commas_and_colons_stay_one_property() -> None:
    f = finding("CA702", location=at("C:/odd,dir/config", 1))
    line = github.annotation(f)
    assert "file=C%3A/odd%2Cdir/config,line=1," in line


@given(st.text(), st.text())
def test_any_text_stays_one_command(subject: str, message: str) -> None:
    line = github.annotation(finding("CA201", subject, message, location=at("a,b:c%", 3)))
    assert "\n" not in line and "\r" not in line
    command, props_and_body = line[2:].split(" ", 1)
    assert command == "error"
    props, _, body = props_and_body.partition("::")
    assert props.count(",") == 2  # file, line, title: escaping keeps the separators unambiguous
    assert body.replace("%25", "").count("%") == body.count("%0A") + body.count("%0D")
