"""The JSON output is the report models' own dump and conforms to `credaudit schema`.

The report models are plain dataclasses that pydantic serialises only for JSON (credaudit.model
says why), so these tests hold the three things that arrangement could lose: the dump validates
against the printed schema, it loads back into the models unchanged, and a table scan never
imports pydantic (the cost that change removed from every scan).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

from credaudit.cli import cli
from credaudit.model import Finding, Location, Observation, ResolvedSource, ScanReport, Severity
from credaudit.report.json import schema, to_json, to_jsonable
from tests.test_example import README_ARGS

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "tests" / "policy_cases" / "good"


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code in (0, 1), result.output
    return result.output


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    document = json.loads(_invoke("schema", kind))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def test_scan_json_conforms_to_its_schema_and_loads_back() -> None:
    text = _invoke(*README_ARGS, "--format", "json")
    document = json.loads(text)
    errors = [e.message for e in _validator("scan").iter_errors(document)]
    assert errors == []
    report = TypeAdapter(ScanReport).validate_json(text)
    assert isinstance(report.findings[0], Finding)
    assert isinstance(report.findings[0].severity, Severity)
    assert json.loads(to_json(report)) == document


def test_scan_json_has_the_fields_the_issue_names() -> None:
    document = json.loads(_invoke(*README_ARGS, "--format", "json"))
    assert document["schema_version"] == "1.0"
    for credential in document["credentials"]:
        assert {
            "profile",
            "source",
            "origin",
            "access_key_id",
            "account_id",
            "kind",
            "expires_at",
            "remaining_seconds",
            "refreshable",
        } <= set(credential)
    batch = next(c for c in document["credentials"] if c["profile"] == "batch")
    assert batch["access_key_id"] == "ASIA…VV7A"
    assert batch["expires_at"] == "2026-11-22T05:00:00Z"
    entry = next(e for e in document["chain"] if e["profile"] == "batch")
    assert entry["resolved"]["source"] == "env"
    assert [s["source"] for s in entry["shadowed"]] == ["assume-role"]
    for finding in document["findings"]:
        assert {"code", "severity", "title", "subject", "message", "remediation"} <= set(finding)
    assert document["summary"]["failed"] is True


@pytest.mark.parametrize("policy", sorted(p.name for p in POLICIES.glob("*.toml")))
def test_check_json_conforms_to_its_schema(policy: str) -> None:
    text = _invoke(
        "check",
        "--policy",
        str(POLICIES / policy),
        "--aws-config",
        str(POLICIES / "aws-config"),
        "--at",
        "2026-11-22T00:00:00Z",
        "--format",
        "json",
    )
    errors = [e.message for e in _validator("check").iter_errors(json.loads(text))]
    assert errors == []


def test_url_json_conforms_to_its_schema(tmp_path: Path) -> None:
    cases = REPO / ".." / "shared" / "conformance" / "presigned" / "cases.jsonl"
    urls = [json.loads(line).get("url") for line in cases.read_text().splitlines() if line]
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(u for u in urls if u) + "\n")
    text = _invoke(
        "url", "--from", str(listing), "--at", "2026-11-22T00:00:00Z", "--format", "json"
    )
    document = json.loads(text)
    assert len(document["urls"]) == len([u for u in urls if u])
    errors = [e.message for e in _validator("url").iter_errors(document)]
    assert errors == []


def test_instants_are_whole_seconds_with_z_in_json_only() -> None:
    at = datetime(2026, 11, 22, 4, 0, 0, 987654, tzinfo=UTC)
    resolved = ResolvedSource(source="env", origin="env", refreshable=False, expires_at=at)
    assert json.loads(to_json(resolved))["expires_at"] == "2026-11-22T04:00:00Z"
    assert to_jsonable(resolved)["expires_at"] == "2026-11-22T04:00:00Z"
    assert TypeAdapter(ResolvedSource).dump_python(resolved)["expires_at"] == at


def test_observation_dump_masks_the_access_key_id() -> None:
    key = "ASIAY34FZKBOKMUTVV7A"
    obs = Observation(source="env", origin="env", access_key_id=key, location=Location(line=3))
    dumped = to_json(obs) + repr(obs)
    assert key not in dumped
    assert json.loads(to_json(obs))["access_key_id"] == "ASIA…VV7A"
    assert obs.access_key_id == key  # kept whole in memory, for matching presigned URLs


def test_field_descriptions_reach_the_schema() -> None:
    document: dict[str, Any] = json.loads(schema(ScanReport))
    view = document["$defs"]["CredentialView"]["properties"]
    assert view["access_key_id"]["description"] == "masked access key id, e.g. ASIA…VV7A"
    chain = document["$defs"]["ChainEntry"]["properties"]
    assert "drops the env provider" in chain["explicit_profile"]["description"]


def _modules_after(args: list[str]) -> set[str]:
    """The modules a fresh interpreter has imported after running credaudit with ``args``."""
    probe = (
        "import sys\n"
        "from credaudit.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    return set(result.stderr.split("\n"))


def test_table_scan_imports_neither_pydantic_nor_boto() -> None:
    modules = _modules_after(README_ARGS)
    assert "credaudit.report.table" in modules  # the scan really ran and rendered
    assert not {m for m in modules if m.split(".")[0] in {"pydantic", "pydantic_core", "boto3"}}
    assert "botocore.session" not in modules


def test_json_scan_imports_pydantic_for_the_dump() -> None:
    # The other side of the test above: it could not pass by pydantic vanishing altogether.
    modules = _modules_after([*README_ARGS, "--format", "json"])
    assert "pydantic" in modules
    assert "credaudit.report.json" in modules
