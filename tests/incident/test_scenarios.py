"""Every scenario's findings, with every number, the verdict and the timeline's milestones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli, main
from credaudit.incident import collect, report
from credaudit.incident.embedded import Options
from credaudit.incident.model import IncidentReport
from credaudit.model import Severity
from tests.incident.scenarios import SCENARIOS, Scenario


def run(root: Path, **kw: object) -> IncidentReport:
    acc = collect([str(root)], Options(), **kw)  # type: ignore[arg-type]
    return report(acc, engine="embedded", inputs=[str(root)], fail_on=Severity.HIGH)


def test_every_number_of_every_finding(scenario: Scenario) -> None:
    result = run(scenario.root)
    got = sorted(
        ((f.code, f.subject, f.details) for f in result.findings if f.code != "CA908"),
        key=lambda t: (t[0], t[1]),
    )
    want = sorted(
        ((e.code, e.subject, e.details) for e in scenario.findings), key=lambda t: (t[0], t[1])
    )
    assert got == want
    assert result.verdict.kind == scenario.verdict
    assert result.summary.sessions == scenario.sessions
    assert result.summary.failures == scenario.failures
    problems = [f.details["input"] for f in result.findings if f.code == "CA908"]
    for suffix in scenario.problems:
        assert any(str(p).endswith(suffix) for p in problems), (suffix, problems)
    assert len({str(p) for p in problems}) >= len(scenario.problems)


def test_seed_timeline_has_its_four_milestones(tmp_path: Path) -> None:
    result = run(SCENARIOS["hard-expiry"](tmp_path).root)
    marks = [(e.kind, e.at.strftime("%H:%M:%S"), e.session) for e in result.timeline]
    assert marks == [
        ("minted", "09:00:00", "s1"),
        ("expired", "10:00:00", "s1"),
        ("first-failure", "10:02:14", "s1"),
        ("retry", "10:03:30", "s1"),
        ("retry", "10:04:14", "s1"),
        ("last-failure", "10:05:00", "s1"),
        ("refresh-restored", "10:08:00", "s2"),
    ]
    retries = {e.at.strftime("%H:%M:%S"): e.count for e in result.timeline if e.kind == "retry"}
    assert retries == {"10:03:30": 1, "10:04:14": 3}
    verdict = result.verdict
    assert verdict.failures == 7 and verdict.total_failures == 7
    assert verdict.fix and verdict.wrong_fix
    assert "retry" in verdict.wrong_fix.lower()


def test_verdict_wrong_fixes_name_what_to_avoid(tmp_path: Path) -> None:
    wrong = {
        name: run(make(tmp_path / name).root).verdict.wrong_fix or ""
        for name, make in SCENARIOS.items()
    }
    assert "IAM" in wrong["wrong-source"]
    assert "timeout" in wrong["queue-dwell"].lower()
    assert "retr" in wrong["hard-expiry"].lower()


def test_file_order_and_pool_do_not_change_the_answer(tmp_path: Path) -> None:
    root = SCENARIOS["corrupt"](tmp_path).root
    files = sorted(str(p) for p in root.rglob("*") if p.is_file())
    one = report(collect(files, Options(), jobs=1), engine="e", inputs=[], fail_on=Severity.HIGH)
    import credaudit.incident.embedded as embedded

    old = embedded.POOL_MIN_BYTES
    embedded.POOL_MIN_BYTES = 0
    try:
        two = report(
            collect(files[::-1], Options(), jobs=2), engine="e", inputs=[], fail_on=Severity.HIGH
        )
    finally:
        embedded.POOL_MIN_BYTES = old
    assert [(f.code, f.subject, f.details) for f in one.findings] == [
        (f.code, f.subject, f.details) for f in two.findings
    ]
    assert one.timeline == two.timeline and one.sessions == two.sessions


def test_since_and_until_window_the_events(tmp_path: Path) -> None:
    root = SCENARIOS["hard-expiry"](tmp_path).root
    acc = collect([str(root)], Options(since=None, until=None))
    late = collect([str(root)], Options(since=report_time("10:04:00")))
    assert acc.records["app"] == 7
    assert late.records["app"] == 3  # 10:04:14, 10:05:00, 10:09:30
    result = report(late, engine="e", inputs=[], fail_on=Severity.HIGH)
    ca901 = next(f for f in result.findings if f.code == "CA901")
    assert ca901.details["failures"] == 2


def report_time(hhmmss: str):  # type: ignore[no-untyped-def]
    from tests.incident.scenarios import at

    return at(hhmmss)


def test_cli_json_table_markdown(tmp_path: Path) -> None:
    root = SCENARIOS["hard-expiry"](tmp_path).root
    runner = CliRunner()
    out = runner.invoke(cli, ["incident", str(root), "--format", "json"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    assert doc["kind"] == "incident" and doc["verdict"]["kind"] == "hard-expiry"
    assert {f["code"] for f in doc["findings"]} == {"CA901", "CA902", "CA903"}
    assert doc["sessions"][0]["access_key_id"] == "ASIA…0001"
    table = runner.invoke(cli, ["incident", str(root)])
    assert table.exit_code == 1
    lines = table.stdout.splitlines()
    assert any(line.startswith("2026-04-15T10:08:00Z  refresh-restored") for line in lines)
    assert "verdict: hard-expiry" in table.stdout
    assert table.stdout.index("refresh-restored") < table.stdout.index("CA901")
    md = runner.invoke(cli, ["incident", str(root), "--format", "markdown", "--soft-fail"])
    assert md.exit_code == 0
    assert "**Verdict: hard-expiry**" in md.stdout
    assert "| 2026-04-15T10:02:14Z | first-failure | s1 |" in md.stdout
    assert "gap_seconds=480" in md.stdout


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
    code = done.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def test_cli_bad_input_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _main(["incident", str(tmp_path / "nope")], capsys)
    assert code == 2
    assert err.strip().endswith("nope: no such file or directory")
    assert len(err.splitlines()) == 1
    assert _main(["incident"], capsys)[0] == 2
    code, err = _main(["incident", str(tmp_path), "--field", "bogus=x"], capsys)
    assert code == 2 and "--field bogus" in err


def test_cli_corrupt_input_names_each_file_and_goes_on(tmp_path: Path) -> None:
    root = SCENARIOS["corrupt"](tmp_path).root
    out = CliRunner().invoke(cli, ["incident", str(root), "--format", "json"])
    assert out.exit_code == 1
    assert "truncated.json.gz: corrupt gzip" in out.stderr
    assert "wrong-shape.json: Records is not a list" in out.stderr
    doc = json.loads(out.stdout)
    assert doc["verdict"]["kind"] == "hard-expiry"


def test_field_mapping(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text(
        "2026-04-15T10:02:14Z job=nightly rid=abc exp=2026-04-15T10:00:00Z err=ExpiredToken\n"
        "2026-04-15T10:02:20Z job=nightly rid=abc exp=2026-04-15T10:00:00Z err=ExpiredToken\n"
    )
    out = CliRunner().invoke(
        cli,
        [
            "incident",
            str(log),
            "--format",
            "json",
            "--field",
            "requestId=rid",
            "--field",
            "credentialExpiration=exp",
            "--field",
            "error=err",
            "--field",
            "worker=job",
        ],
    )
    doc = json.loads(out.stdout)
    found = {f["code"]: f["details"] for f in doc["findings"]}
    assert found["CA901"]["failures"] == 2
    assert found["CA901"]["seconds_after_expiry"] == 134
    assert found["CA902"]["retries"] == 1 and found["CA902"]["seconds"] == 6
    assert doc["sessions"][0]["how"] == "stated"
    assert doc["sessions"][0]["principal"] == "nightly"


def test_schema_lists_incident() -> None:
    out = CliRunner().invoke(cli, ["schema", "incident"])
    assert out.exit_code == 0
    schema = json.loads(out.stdout)
    assert "timeline" in schema["properties"] and "verdict" in schema["properties"]


def test_usage_documents_every_incident_option() -> None:
    import click

    from credaudit.commands.incident import incident

    usage = (Path(__file__).resolve().parents[2] / "docs" / "usage.md").read_text()
    for param in incident.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert f"`{max(param.opts, key=len)}" in usage, param.opts
