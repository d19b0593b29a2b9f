"""``--engine spark`` in local mode on the machine's Java, held to the embedded engine's answers
on every scenario: the same sessions, uses, findings with their details, timeline and verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.incident import collect, report
from credaudit.incident.embedded import Options
from credaudit.model import Severity
from credaudit.report.json import to_jsonable
from tests.incident.scenarios import SCENARIOS, at

pytestmark = pytest.mark.peer


def _dump(root: Path, engine: str, options: Options | None = None) -> dict[str, Any]:
    acc = collect([str(root)], options or Options(), engine=engine, spark_master="local[2]")
    doc: dict[str, Any] = to_jsonable(
        report(acc, engine=engine, inputs=[str(root)], fail_on=Severity.HIGH)
    )
    doc.pop("engine")
    return doc


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_spark_gives_the_embedded_answer(name: str, spark: Any, tmp_path: Path) -> None:
    root = SCENARIOS[name](tmp_path / name).root
    embedded = _dump(root, "embedded")
    on_spark = _dump(root, "spark")
    assert on_spark == embedded
    assert embedded["findings"]  # every scenario finds something


def test_spark_windowing_matches(spark: Any, tmp_path: Path) -> None:
    root = SCENARIOS["hard-expiry"](tmp_path).root
    options = Options(since=at("10:03:00"), until=at("10:05:00"))
    assert _dump(root, "spark", options) == _dump(root, "embedded", options)


def test_cli_engine_spark(spark: Any, tmp_path: Path) -> None:
    root = SCENARIOS["queue-dwell"](tmp_path).root
    out = CliRunner().invoke(
        cli,
        [
            "incident",
            str(root),
            "--engine",
            "spark",
            "--spark-master",
            "local[2]",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    assert doc["engine"] == "spark"
    assert doc["verdict"]["kind"] == "queue-dwell"
    assert doc["findings"][0]["details"]["dwell_seconds"] == 930
