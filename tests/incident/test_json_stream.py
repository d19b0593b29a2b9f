"""The streamed orjson output is the pydantic dump, byte for byte, and valid against the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.incident.model import IncidentReport, IncidentSummary, TimelineEntry, Verdict
from credaudit.model import Finding, Location, Severity
from credaudit.report import incident_json
from credaudit.report.json import render as pydantic_render
from credaudit.report.json import schema
from tests.incident.scenarios import Scenario
from tests.incident.test_scenarios import run

VALIDATOR = jsonschema.Draft202012Validator(json.loads(schema(IncidentReport)))


def test_every_scenario_streams_the_pydantic_bytes(scenario: Scenario) -> None:
    result = run(scenario.root)
    streamed = incident_json.render(result)
    assert streamed == pydantic_render(result).encode()
    VALIDATOR.validate(json.loads(streamed))


def test_chunked_lists_fractional_instants_floats_and_empties() -> None:
    # More timeline entries than one chunk, a fractional-second instant (credaudit writes whole
    # seconds), a float and a nested location: the cases the scenarios may not reach.
    at = datetime(2026, 4, 15, 10, 2, 14, 654321, tzinfo=UTC)
    entries = [
        TimelineEntry(at=at, kind="retry", subject=f"w{i}", session=None, detail="é “x”")
        for i in range(incident_json._CHUNK * 2 + 3)
    ]
    finding = Finding(
        code="CA904",
        severity=Severity.MEDIUM,
        title="t",
        subject="s",
        message="m",
        remediation="r",
        location=Location(path="a.log", line=3),
        details={"dwell_seconds": 1.5, "n": 2, "ok": True, "none": None, "at": "x"},
    )
    result = IncidentReport(
        engine="embedded",
        sessions=[],
        uses=[],
        findings=[finding],
        timeline=entries,
        verdict=Verdict(
            kind="none",
            summary="",
            code=None,
            failures=0,
            total_failures=0,
            fix=None,
            wrong_fix=None,
        ),
        summary=IncidentSummary(
            files=0,
            records={},
            sessions=0,
            failures=0,
            findings=1,
            by_severity={"medium": 1},
            highest=Severity.MEDIUM,
            fail_on=Severity.HIGH,
            failed=False,
        ),
    )
    streamed = incident_json.render(result)
    assert streamed == pydantic_render(result).encode()
    doc = json.loads(streamed)
    VALIDATOR.validate(doc)
    assert doc["timeline"][-1]["at"] == "2026-04-15T10:02:14Z"
    assert len(doc["timeline"]) == len(entries)


def test_cli_json_is_the_stream(scenario: Scenario) -> None:
    out = CliRunner().invoke(cli, ["incident", str(scenario.root), "--format", "json"])
    assert out.exit_code in (0, 1), out.output
    assert out.stdout_bytes == incident_json.render(run(scenario.root))
    assert json.loads(out.stdout)["kind"] == "incident"


def test_stream_holds_no_whole_document(tmp_path: Path) -> None:
    # Chunks stay small however many items: the output is never built whole.
    at = datetime(2026, 4, 15, tzinfo=UTC)
    entries = [
        TimelineEntry(at=at, kind="minted", subject=f"w{i}", session=None, detail="d")
        for i in range(incident_json._CHUNK * 8)
    ]
    whole = incident_json._dump(entries, b"")
    biggest = max(len(c) for c in incident_json._items(entries))
    assert biggest * 4 < len(whole)


def test_a_directory_name_that_is_not_utf8_streams_as_its_escape(tmp_path: Path) -> None:
    """A path argument that is not UTF-8 (a real directory name on Linux) reaches the report
    as lone surrogates (its inputs); orjson refuses them, and ``--format json`` ended with an internal error (exit 3). The streamed chunks holding
    one are now written as ``json`` writes them, each surrogate as its escape: the same bytes
    as the pydantic dump, valid UTF-8, valid against the schema."""
    import os

    from tests.incident.scenarios import hard_expiry

    root = Path(os.fsdecode(bytes(tmp_path) + b"/logs-\xff"))
    scenario = hard_expiry(root)
    result = run(scenario.root)
    assert result.findings and "\udcff" in result.inputs[0]
    streamed = incident_json.render(result)
    assert streamed == pydantic_render(result).encode()
    document = json.loads(streamed.decode("utf-8"))  # strict: valid UTF-8
    VALIDATOR.validate(document)
    assert document["inputs"] == [str(root)]
    out = CliRunner().invoke(cli, ["incident", str(root), "--format", "json"])
    assert out.exit_code in (0, 1), repr(out.exception)
    assert json.loads(out.stdout_bytes.decode("utf-8"))["inputs"] == [str(root)]
