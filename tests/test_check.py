"""``credaudit check`` end to end: exact findings per policy case, exit codes, CI formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[1]
GOOD = REPO / "tests" / "policy_cases" / "good"
CASES = sorted(GOOD.glob("*.toml"))
SARIF_SCHEMA = REPO / ".." / "shared" / "conformance" / "sarif" / "sarif-schema-2.1.0.json"
AT = "2026-11-22T00:00:00Z"


def bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update(extra)
    return env


def credaudit(
    *args: str, cwd: Path = GOOD, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credaudit", *args],
        cwd=cwd,
        env=env or bare_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check(case: str, *args: str) -> subprocess.CompletedProcess[str]:
    return credaudit("check", "--policy", case, "--aws-config", "aws-config", "--at", AT, *args)


def lines_of(report: dict[str, object]) -> list[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return [
        f"{f['code']} {f['severity']} {f['subject']} @{f['location']['line']}: {f['message']}"
        for f in findings
    ]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_good_policy_gives_its_exact_findings(path: Path) -> None:
    result = check(path.name, "--format", "json", "--soft-fail")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert lines_of(report) == expected
    assert report["kind"] == "check"
    assert all(f["location"]["path"] == path.name for f in report["findings"])


def test_findings_fail_the_gate_and_soft_fail_does_not() -> None:
    assert check("roles.toml").returncode == 1
    assert check("roles.toml", "--soft-fail").returncode == 0
    assert check("roles.toml", "--fail-on", "critical").returncode == 0


def test_clean_policy_passes_even_at_fail_on_low() -> None:
    result = check("clean.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings." in result.stdout


def test_defaults_fail_on_applies_unless_flag_given(tmp_path: Path) -> None:
    (tmp_path / "credaudit.toml").write_text(
        '[defaults]\nfail_on = "medium"\n\n[[workload]]\nname = "u"\nsource = "lambda"\nurl_ttl = "6h"\n'
    )
    assert credaudit("check", cwd=tmp_path).returncode == 1  # CA302 is medium
    assert credaudit("check", "--fail-on", "high", cwd=tmp_path).returncode == 0


def test_bad_policy_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "credaudit.toml").write_text(
        '[[workload]]\nname = "a"\nsource = "env"\nrun_tim = "1h"\n'
    )
    result = credaudit("check", "--soft-fail", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "credaudit: credaudit.toml:4: workload.0.run_tim: unknown key\n"


def test_profile_needs_aws_config() -> None:
    result = credaudit("check", "--policy", "profiles.toml")
    assert result.returncode == 2
    assert result.stderr == (
        "credaudit: profiles.toml:5: workload.0.profile: profile 'base-keys' needs "
        "--aws-config FILE to resolve it\n"
    )


def test_unknown_profile(tmp_path: Path) -> None:
    (tmp_path / "credaudit.toml").write_text('[[workload]]\nname = "a"\nprofile = "ghost"\n')
    (tmp_path / "cfg").write_text("[profile real]\nregion = us-east-1\n")
    result = credaudit("check", "--aws-config", "cfg", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == "credaudit: credaudit.toml:1: workload.0.profile: no profile 'ghost' in cfg\n"
    )


def test_unparseable_aws_config(tmp_path: Path) -> None:
    (tmp_path / "credaudit.toml").write_text('[[workload]]\nname = "a"\nprofile = "x"\n')
    (tmp_path / "cfg").write_text("[profile x\nregion = us-east-1\n")
    result = credaudit("check", "--aws-config", "cfg", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("credaudit: --aws-config cfg: cannot parse")
    assert result.stderr.count("\n") == 1


def test_policy_found_from_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "credaudit.toml").write_text(
        '[[workload]]\nname = "m"\nsource = "assume-role"\nmfa = true\nrun_time = "2h"\n'
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    result = credaudit("check", "--format", "json", cwd=sub)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [f["code"] for f in report["findings"]] == ["CA104"]
    # Outside the working directory the location is the path as found, not a relative one.
    assert report["findings"][0]["location"] == {
        "path": str(tmp_path / "credaudit.toml"),
        "line": 1,
        "env_var": None,
        "url": None,
    }


def test_secrets_in_aws_config_never_reach_output() -> None:
    for fmt in ("table", "json", "sarif", "junit", "github", "markdown"):
        out = check("profiles.toml", "--format", fmt).stdout
        assert "not-a-real-secret" not in out
        assert "AKIAY34FZKBOKMUTVV7A" not in out


# ---- CI formats over check output -------------------------------------------------------


def sarif_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_check_sarif_validates_and_locates(path: Path) -> None:
    result = check(path.name, "--format", "sarif")
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    run = log["runs"][0]
    expected = path.with_suffix(".expected").read_text().splitlines()
    assert len(run["results"]) == len(expected)
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted({line.split()[0] for line in expected})
    for result_, line in zip(run["results"], expected, strict=True):
        physical = result_["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == path.name
        assert physical["region"]["startLine"] == int(line.split("@")[1].split(":")[0])
        assert rule_ids[result_["ruleIndex"]] == result_["ruleId"]


def test_sarif_rule_help_comes_from_the_rule_page() -> None:
    log = json.loads(check("roles.toml", "--format", "sarif").stdout)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    page = REPO / "docs" / "rules" / "CA105.md"
    if page.exists():
        assert rules["CA105"]["help"]["markdown"] == page.read_text(encoding="utf-8")
    else:
        assert "Fix:" in rules["CA105"]["help"]["text"]
    assert rules["CA105"]["defaultConfiguration"]["level"] == "error"
    assert rules["CA106"]["defaultConfiguration"]["level"] == "note"


def test_junit_has_a_case_per_workload_and_failures_at_threshold() -> None:
    root = ET.fromstring(check("roles.toml", "--format", "junit").stdout)
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [
        "too-short",
        "minimum",
        "too-long",
        "over-role-max",
        "chained",
        "long-run-refreshable",
        "mfa-batch",
    ]
    failed = sorted(n for n, c in cases.items() if c.find("failure") is not None)
    assert failed == ["chained", "mfa-batch", "over-role-max", "too-long", "too-short"]
    assert suite.get("failures") == "5" and suite.get("tests") == "7"
    # CA106 (low) on "minimum" is reported, but does not fail the case at --fail-on high.
    minimum = cases["minimum"]
    out = minimum.find("system-out")
    assert out is not None and "CA106" in (out.text or "")
    lowered = ET.fromstring(check("roles.toml", "--format", "junit", "--fail-on", "low").stdout)
    assert lowered.find("testsuite").get("failures") == "6"  # type: ignore[union-attr]


def test_github_annotations() -> None:
    out = check("roles.toml", "--format", "github").stdout.splitlines()
    assert out[0] == (
        "::error file=roles.toml,line=38,title=CA104 MFA role session cannot be renewed in-process::"
        "mfa-batch: the MFA role session lasts 1h but the work needs 2h; botocore cannot renew it "
        "without a new MFA code%0AFix: Run long jobs under a role that needs no MFA prompt (a "
        "machine role), or keep the run within one session duration and raise duration_seconds "
        "up to the role's MaxSessionDuration."
    )
    assert sum(line.startswith("::error ") for line in out) == 5
    assert sum(line.startswith("::notice ") for line in out) == 2  # CA106 is low
    assert out[-1] == "credaudit check: 7 finding(s), 5 at or above high"


def test_markdown_summary() -> None:
    out = check("urls.toml", "--format", "markdown").stdout
    assert out.startswith("### credaudit check: ❌ failed: 2 finding(s) at or above high\n")
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 3
    assert "| 🔴 high | `CA301` | lambda-13h |" in rows[1]
    clean = check("clean.toml", "--format", "markdown").stdout
    assert clean == "### credaudit check: ✅ passed: no findings\n"


# ---- integrations: the composite action's script and the pre-commit hook ----------------


def _yaml(path: Path) -> object:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with moto[server] (test extra)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_pre_commit_hook_runs_check() -> None:
    hooks = _yaml(REPO / ".pre-commit-hooks.yaml")
    assert isinstance(hooks, list)
    hook = next(h for h in hooks if h["id"] == "credaudit-check")
    assert hook["entry"] == "credaudit check" and hook["pass_filenames"] is False
    import re

    assert re.search(hook["files"], "deploy/credaudit.toml")
    assert re.search(hook["files"], "pyproject.toml")


def test_action_check_step_writes_sarif_summary_and_exit_code(tmp_path: Path) -> None:
    action = _yaml(REPO / "action.yml")
    assert isinstance(action, dict)
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    output, summary = tmp_path / "output", tmp_path / "summary"
    env = bare_env(
        POLICY="roles.toml",
        AWS_CONFIG_INPUT="aws-config",
        FAIL_ON="",
        SOFT_FAIL="false",
        ONLINE="false",
        SARIF_FILE=str(tmp_path / "out.sarif"),
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=GOOD,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert output.read_text() == "exit-code=1\n"
    assert summary.read_text().startswith("### credaudit check: ❌ failed: 5 finding(s)")
    assert result.stdout.count("::error file=roles.toml,") == 5
    sarif_validator().validate(json.loads((tmp_path / "out.sarif").read_text()))
    # Every input the action declares reaches a step.
    text = (REPO / "action.yml").read_text()
    for name in action["inputs"]:
        assert text.count(f"inputs.{name}") >= 1, name
