"""The pull-request comment: verdict line, one escaped row per finding, fixes folded."""

from __future__ import annotations

from credaudit.model import Severity
from credaudit.report import markdown
from tests.report.ci_helpers import Report, Summary, at, finding


def rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_failed_verdict_and_rows() -> None:
    report = Report(
        [
            finding("CA104", "batch", "needs 2h", location=at("credaudit.toml", 4)),
            finding("CA106", "cron", "15m"),
        ]
    )
    text = markdown.render(report)
    assert text.splitlines()[0] == "### credaudit check: ❌ failed: 1 finding(s) at or above high"
    table = rows(text)
    assert table[0] == "| Severity | Code | Subject | Finding | Where |"
    assert table[1] == "| 🔴 high | `CA104` | batch | needs 2h | credaudit.toml:4 |"
    assert table[2] == "| 🟡 low | `CA106` | cron | 15m |  |"
    assert "- **CA104** (mfa-session-not-renewable): " in text
    assert "<details><summary>How to fix</summary>" in text


def test_pipes_and_newlines_cannot_break_the_table() -> None:
    report = Report([finding("CA201", "a|b", "line one\nline | two")])
    table = rows(markdown.render(report))
    assert table[1] == "| 🔴 high | `CA201` | a\\|b | line one line \\| two |  |"
    # Unescaped pipes per row are exactly the 6 column borders.
    assert table[1].replace("\\|", "").count("|") == 6


def test_passed_with_findings_below_threshold() -> None:
    report = Report([finding("CA106")], summary=Summary(fail_on=Severity.CRITICAL))
    first = markdown.render(report).splitlines()[0]
    assert first == "### credaudit check: ✅ passed: 1 finding(s), none at or above critical"
