"""The real AWS CLI v1 writes its AssumeRole cache against moto; credaudit must read it.

This is the whole path a user has: `aws ... --profile batch` assumes the role and caches the
session under ~/.aws/cli/cache/<botocore's key>.json; `credaudit scan --profile batch` must
find that file through the profile (by recomputing the key) and report its expiry.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from credaudit.durations import parse_instant
from tests.peers.conftest import scrubbed_env

pytestmark = pytest.mark.peer

CONFIG = """\
[profile base]
region = us-east-1

[profile batch]
role_arn = arn:aws:iam::123456789012:role/batch
source_profile = base
region = us-east-1

[profile short]
role_arn = arn:aws:iam::123456789012:role/short
source_profile = base
duration_seconds = 900
region = us-east-1
"""
CREDENTIALS = """\
[base]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
"""


def _home(tmp_path: Path) -> Path:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text(CONFIG)
    (aws / "credentials").write_text(CREDENTIALS)
    (aws / "credentials").chmod(0o600)
    return tmp_path


def _aws(aws_cli: Path, home: Path, endpoint: str, profile: str) -> None:
    env = scrubbed_env(HOME=str(home), AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run(
        [str(aws_cli), "sts", "get-caller-identity", "--profile", profile],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _scan(home: Path, profile: str) -> dict:
    env = scrubbed_env(HOME=str(home))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "credaudit",
            "scan",
            "--profile",
            profile,
            "--home",
            str(home),
            "--no-network",
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _cache_files(home: Path) -> list[Path]:
    return sorted((home / ".aws" / "cli" / "cache").glob("*.json"))


def test_expiry_equals_the_real_cli_cache(
    aws_cli: Path, moto_endpoint: str, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    _aws(aws_cli, home, moto_endpoint, "batch")
    caches = _cache_files(home)
    assert len(caches) == 1, "the AWS CLI should have written one AssumeRole cache entry"
    cached = json.loads(caches[0].read_text())["Credentials"]
    report = _scan(home, "batch")
    [entry] = report["chain"]
    assert entry["resolved"]["source"] == "assume-role"
    [cred] = [c for c in report["credentials"] if c["profile"] == "batch"]
    expected = parse_instant(cached["Expiration"]).replace(microsecond=0)
    assert parse_instant(cred["expires_at"]) == expected
    assert cred["access_key_id"] == f"{cached['AccessKeyId'][:4]}…{cached['AccessKeyId'][-4:]}"
    assert cached["SecretAccessKey"] not in json.dumps(report)
    assert cached["SessionToken"] not in json.dumps(report)


def test_duration_900_is_never_reused_and_flagged(
    aws_cli: Path, moto_endpoint: str, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    _aws(aws_cli, home, moto_endpoint, "short")
    [cache] = _cache_files(home)
    first = json.loads(cache.read_text())["Credentials"]["AccessKeyId"]
    _aws(aws_cli, home, moto_endpoint, "short")
    second = json.loads(cache.read_text())["Credentials"]["AccessKeyId"]
    # The premise of CA106, shown by the real CLI: the 900 s session is not reused.
    assert first != second
    codes = {f["code"] for f in _scan(home, "short")["findings"]}
    assert "CA106" in codes
    # and a 1 h role is reused by the CLI and not flagged
    _aws(aws_cli, home, moto_endpoint, "batch")
    _aws(aws_cli, home, moto_endpoint, "batch")
    assert "CA106" not in {f["code"] for f in _scan(home, "batch")["findings"]}
