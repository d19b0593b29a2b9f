"""Real ``--debug`` output of the AWS CLI v1 against moto server parses into sessions and uses.

The CLI assumes a role (its debug log holds the STS answer, secret and token included), lists
buckets with that session, and — against a second moto server with IAM auth on — is refused
with InvalidClientTokenId and InvalidAccessKeyId.  The CLI runs in a non-UTC zone, as a laptop
would: its log times are local, and the reader must recover UTC from the signed X-Amz-Date.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.keys import mask_key
from tests.peers.conftest import scrubbed_env
from tests.peers.peer_util import free_port, require_peer, start_process, stop_process

pytestmark = pytest.mark.peer
ROLE = "arn:aws:iam::123456789012:role/invoice-batch"


@pytest.fixture(scope="module")
def moto_with_auth() -> Iterator[str]:
    import shutil
    import sys

    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if exe is None:
        require_peer("moto_server is not installed")
    port = free_port()
    proc = start_process(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        port,
        env=scrubbed_env(INITIAL_NO_AUTH_ACTION_COUNT="0"),
    )
    yield f"http://127.0.0.1:{port}"
    stop_process(proc)


def _aws(aws_cli: Path, args: list[str], log: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = scrubbed_env(AWS_DEFAULT_REGION="us-east-1", TZ="America/New_York", **env)
    done = subprocess.run(
        [str(aws_cli), *args, "--debug"],
        capture_output=True,
        text=True,
        env=base,
        timeout=60,
        check=False,
    )
    log.write_text(done.stderr)
    return done


def test_cli_debug_logs_become_sessions_and_uses(
    aws_cli: Path, moto_endpoint: str, moto_with_auth: str, tmp_path: Path
) -> None:
    static = {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    before = datetime.now(UTC).replace(microsecond=0)
    minted = _aws(
        aws_cli,
        [
            "--endpoint-url",
            moto_endpoint,
            "sts",
            "assume-role",
            "--role-arn",
            ROLE,
            "--role-session-name",
            "nightly",
        ],
        tmp_path / "assume.log",
        **static,
    )
    assert minted.returncode == 0, minted.stderr[-500:]
    creds: dict[str, Any] = json.loads(minted.stdout)["Credentials"]
    session_env = {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    used = _aws(
        aws_cli,
        ["--endpoint-url", moto_endpoint, "s3api", "list-buckets"],
        tmp_path / "list.log",
        **session_env,
    )
    assert used.returncode == 0, used.stderr[-500:]
    bogus = {"AWS_ACCESS_KEY_ID": "AKIAI44QH8DHBEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}
    for args, name in (
        (["sts", "get-caller-identity"], "sts.log"),
        (["s3api", "list-buckets"], "s3.log"),
    ):
        refused = _aws(aws_cli, ["--endpoint-url", moto_with_auth, *args], tmp_path / name, **bogus)
        assert refused.returncode != 0
    after = datetime.now(UTC)

    out = CliRunner().invoke(cli, ["incident", str(tmp_path), "--format", "json"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    assert doc["summary"]["records"] == {"sdk-debug": 4}
    [session] = doc["sessions"]
    assert session["access_key_id"] == mask_key(creds["AccessKeyId"])
    assert session["principal"] == ROLE
    assert session["arn"].endswith(":assumed-role/invoice-batch/nightly")
    expires = datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
    assert session["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    minted_at = datetime.fromisoformat(session["minted_at"].replace("Z", "+00:00"))
    # the log says New York local time; the report says UTC
    assert before - timedelta(seconds=2) <= minted_at <= after
    assert session["uses"] == 1 and session["failures"] == 0
    failures = sorted((u["error"], u["service"], u["operation"]) for u in doc["uses"])
    assert failures == [
        ("InvalidAccessKeyId", "s3", "ListBuckets"),
        ("InvalidClientTokenId", "sts", "GetCallerIdentity"),
    ]
    [finding] = doc["findings"]
    assert finding["code"] == "CA906" and finding["subject"] == "AKIA…MPLE"
    assert finding["details"]["failures"] == 2
    assert finding["details"]["valid_sessions"] == 1
    assert doc["verdict"]["kind"] == "wrong-source"
    for secret in (creds["SecretAccessKey"], creds["SessionToken"], creds["SessionToken"][:40]):
        assert secret not in out.stdout and secret not in out.stderr
