"""credaudit's verdicts against a real S3 implementation: s3rver (npm).

s3rver judges presigned-URL expiry with its own clock (403 "Request has expired"), rejects
X-Amz-Expires beyond a week (400) and verifies SigV2 query signatures; it does not verify
SigV4 signatures (reference "Real peers").  So: expiry verdicts for SigV4 and SigV2, the
week limit, and signature verdicts for SigV2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from credaudit.analysis.budget import Budget
from credaudit.presign import inspect
from tests.peers.peer_util import REPO, start_s3rver, stop_process
from tests.presign.helpers import presign

pytestmark = pytest.mark.peer

KEY = SECRET = "S3RVER"
BUCKET = "peer-bucket"
NO_BUDGET = Budget(min_remaining=timedelta(0))


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, endpoint = start_s3rver(tmp_path_factory.mktemp("s3rver"), BUCKET)
    put = presign(
        key=KEY,
        secret=SECRET,
        token=None,
        endpoint_url=endpoint,
        style="path",
        client_method="put_object",
        bucket=BUCKET,
        object_key="obj.txt",
    )
    request = urllib.request.Request(put, data=b"hello", method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        yield endpoint
    finally:
        stop_process(proc)


def _status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _url(endpoint: str, **kw: object) -> str:
    return presign(
        key=KEY,
        secret=SECRET,
        token=None,
        endpoint_url=endpoint,
        style="path",
        bucket=BUCKET,
        object_key="obj.txt",
        **kw,
    )  # type: ignore[arg-type]


def test_expiry_verdicts_agree_with_s3rver(s3rver: str) -> None:
    now = datetime.now(UTC)
    urls = [
        _url(s3rver, expires=1),
        _url(s3rver, expires=2),
        _url(s3rver, expires=3600),
        _url(s3rver, expires=604800),
        _url(s3rver, expires=3600, at=now - timedelta(hours=2)),
        _url(s3rver, expires=3600, at=now - timedelta(minutes=50)),
        _url(s3rver, version="s3", expires=1),
        _url(s3rver, version="s3", expires=3600),
    ]
    time.sleep(3.5)  # let the 1 s and 2 s URLs lapse
    verdicts = []
    for url in urls:
        result = inspect(url, now=datetime.now(UTC), budget=NO_BUDGET)
        code, body = _status(url)
        verdicts.append((result.status, code))
        if result.status == "expired":
            assert code == 403 and "Request has expired" in body, (url, code, body[:200])
        else:
            assert result.status == "valid", (url, result.findings)
            assert code == 200, (url, code, body[:300])
    assert [s for s, _ in verdicts].count("expired") == 4
    assert [s for s, _ in verdicts].count("valid") == 4


def test_a_week_and_a_second_is_ca305_and_400(s3rver: str) -> None:
    url = _url(s3rver, expires=604801)
    result = inspect(url, now=datetime.now(UTC))
    assert "CA305" in {f.code for f in result.findings} and result.status == "invalid"
    code, body = _status(url)
    assert code == 400 and "AuthorizationQueryParametersError" in body


def test_sigv2_signature_verdicts_agree_with_s3rver(s3rver: str) -> None:
    url = _url(s3rver, version="s3", expires=3600)
    good = inspect(url, now=datetime.now(UTC), secret=SECRET)
    assert good.signature_valid is True and _status(url)[0] == 200
    # A different object under the same signature: s3rver and credaudit both refuse.
    tampered = url.replace("obj.txt", "obk.txt")
    bad = inspect(tampered, now=datetime.now(UTC), secret=SECRET)
    code, body = _status(tampered)
    assert bad.signature_valid is False and "CA308" in {f.code for f in bad.findings}
    assert code == 403 and "SignatureDoesNotMatch" in body


def test_cli_jsonl_agrees_with_s3rver(s3rver: str, tmp_path: Path) -> None:
    urls = [_url(s3rver, expires=1), _url(s3rver, expires=3600)]
    time.sleep(2.2)
    source = tmp_path / "urls.txt"
    source.write_text("\n".join(urls) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "credaudit",
            "url",
            "--from",
            str(source),
            "--format",
            "jsonl",
            "--no-network",
            "--min-remaining",
            "0s",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["status"] for r in records] == ["expired", "valid"], out.stderr
    assert [_status(u)[0] for u in urls] == [403, 200]
    assert out.returncode == 1  # CA303 is critical, above the default --fail-on high
