"""An expired presigned URL, end to end with real parts: the AWS CLI v1 assumes a role against
moto (its --debug log holds the minting), uploads to s3rver and presigns a 1-second and a 1-hour
URL (``aws s3 presign``; s3rver accepts only its own static key, so the URLs are signed with
it), a fetcher requests both, s3rver judges the short one expired (403 AccessDenied "Request has
expired"), and the fetcher logs what s3rver answered, URL included.  The incident reader reads
each URL's X-Amz-* with credaudit's presign parser and reports the failure as the URL's own TTL —
not a session's (no CA905, no CA901) — beside the session the CLI's debug log minted."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.keys import mask_key
from tests.peers.conftest import scrubbed_env
from tests.peers.peer_util import start_s3rver, stop_process

pytestmark = pytest.mark.peer
BUCKET = "incident-bucket"


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, endpoint = start_s3rver(tmp_path_factory.mktemp("s3rver-incident"), BUCKET)
    yield endpoint
    stop_process(proc)


def _aws(aws_cli: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(aws_cli), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=scrubbed_env(AWS_DEFAULT_REGION="us-east-1", **env),
    )


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_expired_presigned_url_from_the_cli_judged_by_s3rver(
    aws_cli: Path, moto_endpoint: str, s3rver: str, tmp_path: Path
) -> None:
    static = {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    minted = _aws(
        aws_cli,
        [
            "--endpoint-url",
            moto_endpoint,
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::123456789012:role/share-links",
            "--role-session-name",
            "links",
            "--debug",
        ],
        static,
    )
    assert minted.returncode == 0, minted.stderr[-500:]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "assume-debug.log").write_text(minted.stderr)
    creds = json.loads(minted.stdout)["Credentials"]
    s3rver_key = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}
    body = tmp_path / "report.txt"
    body.write_text("quarterly report\n")
    put = _aws(
        aws_cli,
        ["--endpoint-url", s3rver, "s3", "cp", str(body), f"s3://{BUCKET}/report.txt"],
        s3rver_key,
    )
    assert put.returncode == 0, put.stderr[-500:]
    urls = {}
    for seconds in (1, 3600):
        signed = _aws(
            aws_cli,
            [
                "--endpoint-url",
                s3rver,
                "s3",
                "presign",
                f"s3://{BUCKET}/report.txt",
                "--expires-in",
                str(seconds),
            ],
            s3rver_key,
        )
        assert signed.returncode == 0, signed.stderr[-500:]
        urls[seconds] = signed.stdout.strip()
    time.sleep(2.5)
    lines = []
    for seconds, url in urls.items():
        status, text = _fetch(url)
        code = re.search(r"<Code>([^<]+)</Code>", text)
        message = re.search(r"<Message>([^<]+)</Message>", text)
        entry = {
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "worker": "link-checker",
            "url": url,
            "status": status,
        }
        if status >= 400:
            assert code and message
            entry |= {"error": code.group(1), "message": message.group(1)}
        lines.append(json.dumps(entry))
        assert (status >= 400) == (seconds == 1), (status, text[:200])
    (logs / "fetcher.jsonl").write_text("\n".join(lines) + "\n")

    out = CliRunner().invoke(cli, ["incident", str(logs), "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    [s] = doc["sessions"]
    assert s["access_key_id"] == mask_key(creds["AccessKeyId"])
    assert s["principal"] == "arn:aws:iam::123456789012:role/share-links"
    [failure] = doc["uses"]
    assert failure["session"] is None  # signed with s3rver's static key, not a session
    assert failure["presigned"] is True and failure["source"] == "app"
    assert (failure["error"], failure["message"]) == ("AccessDenied", "Request has expired")
    url_expires = datetime.fromisoformat(failure["url_expires_at"].replace("Z", "+00:00"))
    failed_at = datetime.fromisoformat(failure["at"].replace("Z", "+00:00"))
    assert url_expires < failed_at  # s3rver judged it after its own expiry
    if failure["signed_at"] is not None:  # SigV4; the CLI v1 presigns SigV2 for this endpoint
        signed_at = datetime.fromisoformat(failure["signed_at"].replace("Z", "+00:00"))
        assert (url_expires - signed_at).total_seconds() == 1
    assert failure["cause"] is None  # the URL's own TTL, not a session's
    assert (failed_at - url_expires).total_seconds() < 30
    assert doc["summary"]["records"] == {"app": 2, "sdk-debug": 1}
    assert s["failures"] == 0
    assert doc["findings"] == []
    assert doc["verdict"]["kind"] == "none"
    for secret in (creds["SecretAccessKey"], creds["SessionToken"], creds["SessionToken"][:40]):
        assert secret not in out.stdout and secret not in out.stderr
