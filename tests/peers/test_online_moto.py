"""``credaudit check --online`` against moto server: IAM GetRole and STS GetCallerIdentity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.peers.conftest import scrubbed_env

pytestmark = pytest.mark.peer

POLICY = """
[defaults]
expected_account = "111111111111"

[[workload]]
name = "nightly"
source = "assume-role"
role_arn = "arn:aws:iam::123456789012:role/{role}"
duration = "2h"
expected_account = "123456789012"

[[workload]]
name = "ghost"
source = "assume-role"
role_arn = "arn:aws:iam::123456789012:role/does-not-exist"
duration = "2h"
expected_account = "123456789012"

[[workload]]
name = "ci-runner"
source = "env"
"""


def moto_env(endpoint: str) -> dict[str, str]:
    return scrubbed_env(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
    )


def create_role(endpoint: str, name: str, max_session: int) -> None:
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=max_session
    )


def run_check(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credaudit", "check", "--format", "json", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_online_max_session_duration_and_caller_account(moto_endpoint: str, tmp_path: Path) -> None:
    role = f"nightly-{tmp_path.name[-8:]}".replace("_", "-")
    create_role(moto_endpoint, role, 3600)
    (tmp_path / "credaudit.toml").write_text(POLICY.format(role=role))
    env = moto_env(moto_endpoint)

    offline = run_check(tmp_path, env)
    codes = {(f["subject"], f["code"]) for f in json.loads(offline.stdout)["findings"]}
    assert ("nightly", "CA105") not in codes  # 2 h is within STS's 12 h: config alone can't tell

    online = run_check(tmp_path, env, "--online")
    report = json.loads(online.stdout)
    found = {(f["subject"], f["code"]): f["message"] for f in report["findings"]}
    assert found[("nightly", "CA105")] == (
        "duration 2h is above the role's MaxSessionDuration (IAM GetRole) of 1h; AssumeRole fails"
    )
    assert found[("ci-runner", "CA402")] == (
        "credentials resolve to account 123456789012 (STS GetCallerIdentity), expected 111111111111"
    )
    # A role IAM does not know is a note on stderr, not a crash and not a finding.
    assert ("ghost", "CA105") not in found
    assert "credaudit: --online: iam:GetRole does-not-exist: NoSuchEntity" in online.stderr
    assert online.returncode == 1


def test_online_role_within_its_max_passes(moto_endpoint: str, tmp_path: Path) -> None:
    role = f"long-{tmp_path.name[-8:]}".replace("_", "-")
    create_role(moto_endpoint, role, 43200)
    (tmp_path / "credaudit.toml").write_text(
        f'[[workload]]\nname = "n"\nsource = "assume-role"\nrole_arn = "arn:aws:iam::123456789012:role/{role}"\nduration = "2h"\n'
    )
    result = run_check(tmp_path, moto_env(moto_endpoint), "--online")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []
    assert result.stderr == ""
