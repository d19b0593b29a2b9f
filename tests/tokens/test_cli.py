"""``credaudit token`` end to end: inputs, formats, exit codes, the schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from tests.tokens.helpers import T0, claims, hs256, rs256

AT = "2026-11-22T09:00:00Z"


def run(args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> object:
    return CliRunner(env=env).invoke(cli, ["token", "--at", AT, *args], input=stdin)


def _mixed(tmp_path: Path) -> tuple[Path, list[str]]:
    good, old = rs256(), rs256(claims(exp=T0 - 3600))
    lines = [
        good,
        "",
        f"Authorization: Bearer {old}",
        f"curl -s -H 'Authorization: Bearer {good}' https://api.example/orders",
        json.dumps({"access_token": hs256(), "token_type": "Bearer", "expires_in": 600}),
        "# a comment",
        "not a token, just words",
    ]
    path = tmp_path / "tokens.txt"
    path.write_text("\n".join(lines) + "\n")
    return path, [good, old]


def test_jsonl_streams_one_object_per_line_in_order(tmp_path: Path) -> None:
    path, secrets = _mixed(tmp_path)
    result = run(["--from", str(path), "--format", "jsonl"])
    assert result.exit_code == 1, result.output  # the expired one is critical
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["kind"] for r in rows] == ["jwt", None, "jwt", "jwt", "jwt", None, "opaque"]
    assert [r["status"] for r in rows][:5] == ["valid", "none", "expired", "valid", "valid"]
    assert rows[2]["header_valid"] is True and rows[0]["header_valid"] is None
    assert [f["code"] for f in rows[2]["findings"]] == ["CA801"]
    assert [f["code"] for f in rows[6]["findings"]] == ["CA804"]
    assert rows[3]["found_in"].endswith("-H Authorization")
    for secret in secrets:
        assert secret not in result.stdout


def test_json_report_has_tokens_findings_and_summary_and_fits_the_schema(tmp_path: Path) -> None:
    path, _ = _mixed(tmp_path)
    result = run(["--from", str(path), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["kind"] == "token" and len(doc["tokens"]) == 7
    assert doc["summary"]["tokens"] == 5
    assert doc["summary"]["failed"] is True and doc["summary"]["highest"] == "critical"
    assert {f["code"] for f in doc["findings"]} == {"CA801", "CA804"}
    assert doc["budget"]["skew_margin"] == 60 and doc["budget"]["min_remaining"] == 0
    schema = json.loads(CliRunner().invoke(cli, ["schema", "token"]).stdout)
    jsonschema.validate(doc, schema)


def test_env_file_and_positional_inputs(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(rs256() + "\n")
    env = {"ACCESS_TOKEN": f"Bearer {rs256()}"}
    result = run(
        ["--env", "ACCESS_TOKEN", "--file", str(token_file), hs256(), "--format", "json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    tokens = json.loads(result.stdout)["tokens"]
    assert [t["found_in"] for t in tokens] == ["argument 1", "$ACCESS_TOKEN", str(token_file)]
    assert tokens[1]["header_valid"] is True and tokens[1]["location"]["env_var"] == "ACCESS_TOKEN"


def test_stdin_dash(tmp_path: Path) -> None:
    result = run(["--from", "-", "--format", "jsonl"], stdin=rs256() + "\n")
    assert result.exit_code == 0
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["found_in"] == "stdin:1" and row["status"] == "valid"


def test_table_shows_the_bar_and_says_signatures_were_not_checked() -> None:
    result = run([rs256(claims(iat=T0, exp=T0 + 60)), "--run-time", "5m"])
    assert result.exit_code == 1
    assert "short of 6m" in result.stdout
    assert "Signatures were NOT checked" in result.stdout
    assert "CA802" in result.stdout


def test_soft_fail_and_fail_on() -> None:
    old = rs256(claims(exp=T0 - 3600))
    assert run([old, "--soft-fail"]).exit_code == 0
    assert run([rs256(claims(exp=None)), "--fail-on", "critical"]).exit_code == 0
    assert run([rs256(claims(exp=None)), "--fail-on", "medium"]).exit_code == 1


def test_unreadable_inputs_are_one_line_each_and_exit_2(tmp_path: Path) -> None:
    result = run(
        [
            "--from",
            str(tmp_path / "missing.txt"),
            "--env",
            "UNSET_VAR_X",
            rs256(),
            "--format",
            "json",
        ],
        env={"UNSET_VAR_X": ""},
    )
    assert result.exit_code == 2
    lines = sorted(result.stderr.splitlines())
    assert len(lines) == 2 and "UNSET_VAR_X" in lines[0] and "missing.txt" in lines[1]
    doc = json.loads(result.stdout)  # the rest still ran
    assert any(t["kind"] == "jwt" for t in doc["tokens"])


def test_no_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from credaudit.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["token"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "--env" in err


def test_max_lifetime_and_typ_flags() -> None:
    long = rs256(claims(iat=T0, exp=T0 + 7200))
    doc = json.loads(run([long, "--format", "json"]).stdout)
    assert [f["code"] for f in doc["findings"]] == ["CA808"]
    doc = json.loads(
        run([long, "--max-lifetime", "3h", "--typ", "at+jwt", "--format", "json"]).stdout
    )
    assert [f["code"] for f in doc["findings"]] == ["CA807"]


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl"])
def test_every_format_runs_clean_on_an_empty_line(fmt: str) -> None:
    result = run(["--from", "-", "--format", fmt], stdin="\n")
    assert result.exit_code == 0, result.output


def test_positional_token_hint_in_help() -> None:
    result = CliRunner().invoke(cli, ["token", "--help"])
    assert "--env VAR or --from -" in result.stdout
    assert os.linesep  # the help renders on any platform


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_unreadable_only_input_prints_one_line_and_no_empty_report(
    tmp_path: Path, fmt: str
) -> None:
    missing = tmp_path / "absent.txt"
    result = run(["--from", str(missing), "--format", fmt])
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert result.stderr.strip().splitlines() == [  # type: ignore[attr-defined]
        f"credaudit: --from {missing}: cannot read (No such file or directory)"
    ]
