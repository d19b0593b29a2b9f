"""The real AWS CLI v1's ``aws eks get-token`` token, read by ``credaudit url``.

An EKS token is ``k8s-aws-v1.`` and a presigned STS GetCallerIdentity URL in base64url.
The CLI signs it locally (no call to AWS) with ``X-Amz-Expires=60`` and reports an
``expirationTimestamp`` 14 minutes ahead; the cluster accepts it for 15 minutes after its
X-Amz-Date.  credaudit must decode it, judge it by those 15 minutes, verify its signature
with the cluster name as the signed ``x-k8s-aws-id`` header, and print neither the token
nor the session token inside it.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from credaudit.durations import parse_instant
from tests.peers.conftest import scrubbed_env
from tests.peers.peer_util import REPO
from tests.report.ci_helpers import credaudit

pytestmark = pytest.mark.peer

KEY_ID = "ASIAY34FZKBOKMUTVV7A"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "CANARYeksSESSIONtoken/+="
CLUSTER = "prod-cluster"


def _get_token(aws_cli: Path, home: Path) -> dict[str, object]:
    env = scrubbed_env(
        HOME=str(home),
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_SESSION_TOKEN=SESSION_TOKEN,
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        [str(aws_cli), "eks", "get-token", "--cluster-name", CLUSTER],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    credential: dict[str, object] = json.loads(done.stdout)
    return credential


def _credaudit(home: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], str]:
    done = credaudit(list(argv), scrubbed_env(HOME=str(home), EKS_SIGNER_SECRET=SECRET), REPO)
    return done, done.stdout + done.stderr


def _url(home: Path, token: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], str]:
    return _credaudit(home, "url", "--no-network", *extra, token)


def test_aws_cli_eks_token_is_judged_by_fifteen_minutes_and_verifies(
    aws_cli: Path, tmp_path: Path
) -> None:
    credential = _get_token(aws_cli, tmp_path)
    status = credential["status"]
    assert isinstance(status, dict)
    token = status["token"]
    assert token.startswith("k8s-aws-v1.")
    verify = ["--verify", "--secret-env", "EKS_SIGNER_SECRET", "--session-expires", "+1h"]
    done, output = _url(
        tmp_path, token, "--format", "jsonl", *verify, "--header", f"x-k8s-aws-id:{CLUSTER}"
    )
    record = json.loads(done.stdout)
    assert record["service"] == "sts" and record["region"] == "eu-west-1", record
    assert record["url"].startswith("k8s-aws-v1.https://sts.")
    assert record["signature_valid"] is True and record["signed_method"] == "GET", record
    signed = parse_instant(record["signed_at"])
    assert parse_instant(record["expires_at"]) - signed == timedelta(minutes=15)
    # The CLI's own promise is 14 minutes from its clock: a minute inside ours.
    promised = parse_instant(str(status["expirationTimestamp"]))
    assert timedelta(seconds=58) <= parse_instant(record["expires_at"]) - promised
    assert parse_instant(record["expires_at"]) - promised <= timedelta(seconds=62)
    assert record["status"] == "expiring"  # 15 minutes is less than the default 15m required

    # Another cluster's name does not reproduce the signature.
    done, other = _url(
        tmp_path, token, "--format", "jsonl", *verify, "--header", f"x-k8s-aws-id:{CLUSTER}x"
    )
    assert json.loads(done.stdout)["signature_valid"] is False
    # Without the cluster name the signature cannot be checked, and says why.
    done, unnamed = _url(tmp_path, token, "--format", "jsonl", *verify)
    assert "x-k8s-aws-id" in json.loads(done.stdout)["signature_note"]

    for fmt in ("table", "json", "sarif", "markdown"):
        _, rendered = _url(tmp_path, token, "--format", fmt, *verify)
        output += rendered
    for text in (output, other, unnamed):
        assert token[len("k8s-aws-v1.") :][:40] not in text
        assert SESSION_TOKEN not in text and SECRET not in text


def test_credaudit_token_dates_the_aws_cli_eks_token(aws_cli: Path, tmp_path: Path) -> None:
    status = _get_token(aws_cli, tmp_path)["status"]
    assert isinstance(status, dict)
    token = str(status["token"])
    done, output = _credaudit(tmp_path, "token", "--format", "jsonl", token)
    record = json.loads(done.stdout)
    issued, expires = parse_instant(record["issued_at"]), parse_instant(record["expires_at"])
    assert expires - issued == timedelta(minutes=15) and record["lifetime_seconds"] == 900
    promised = parse_instant(str(status["expirationTimestamp"]))
    assert timedelta(seconds=58) <= expires - promised <= timedelta(seconds=62)
    assert record["status"] == "valid" and record["findings"] == [], record
    assert token[len("k8s-aws-v1.") :][:40] not in output and SESSION_TOKEN not in output
