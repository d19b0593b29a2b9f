"""Secrets never leave: the session tokens CloudTrail logs in ``responseElements``, the tokens
in presigned Request-URIs and SDK request lines, the ``<Token-0>`` an S3 error body echoes, and
secrets an application logged beside its fields never reach any output format or stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.commands.incident import INCIDENT_FORMATS
from tests.incident.scenarios import SCENARIOS, SECRET_CANARY, TOKEN_CANARY, TOKEN_TAIL, sdk_line

CANARIES = (TOKEN_CANARY, SECRET_CANARY, TOKEN_TAIL[:40])


def _echoing_logs(root: Path) -> None:
    """Logs that quote the token in an error message or body."""
    token = f"{TOKEN_CANARY}echo{TOKEN_TAIL}"
    body = (
        'b\'<?xml version="1.0" encoding="UTF-8"?>\\n<Error><Code>ExpiredToken</Code>'
        f"<Message>The provided token has expired.</Message><Token-0>{token}</Token-0>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>'"
    )
    from tests.incident.scenarios import at

    t = at("10:02:00")
    (root / "debug.log").write_text(
        "\n".join(
            [
                sdk_line(
                    t,
                    "botocore.endpoint",
                    "DEBUG",
                    "Making request for OperationModel(name=GetObject) with params: {}",
                ),
                sdk_line(
                    t,
                    "botocore.endpoint",
                    "DEBUG",
                    "Sending http request: <AWSPreparedRequest stream_output=True, method=GET, "
                    "url=https://b.s3.amazonaws.com/k, headers={'X-Amz-Date': b'20260415T100200Z', "
                    f"'X-Amz-Security-Token': b'{token}', 'Authorization': b'AWS4-HMAC-SHA256 "
                    "Credential=ASIAQXAMPLE000000001/20260415/us-east-1/s3/aws4_request, "
                    "SignedHeaders=host, Signature=" + "ab" * 32 + "'}>",
                ),
                sdk_line(
                    t,
                    "urllib3.connectionpool",
                    "DEBUG",
                    'https://b.s3.amazonaws.com:443 "GET /k HTTP/1.1" 400 None',
                ),
                sdk_line(t, "botocore.parsers", "DEBUG", "Response body:"),
                body,
            ]
        )
        + "\n"
    )
    (root / "echo.log").write_text(
        f"2026-04-15T10:03:00Z worker=w requestId=r1 error=ExpiredToken "
        f'message="rejected token {token} for bucket b" '
        f"secretAccessKey={SECRET_CANARY}abc\n"
    )


@pytest.mark.parametrize("fmt", INCIDENT_FORMATS)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_secret_reaches_any_format(name: str, fmt: str, tmp_path: Path) -> None:
    root = SCENARIOS[name](tmp_path / name).root
    _echoing_logs(root)
    result = CliRunner().invoke(cli, ["incident", str(root), "--format", fmt])
    assert result.exit_code in (0, 1), result.output
    assert result.stdout
    for canary in CANARIES:
        assert canary not in result.stdout
        assert canary not in result.stderr


def test_the_echoed_failure_is_still_counted(tmp_path: Path) -> None:
    import json

    root = tmp_path / "echo"
    root.mkdir()
    _echoing_logs(root)
    doc = json.loads(CliRunner().invoke(cli, ["incident", str(root), "--format", "json"]).stdout)
    errors = sorted(u["error"] for u in doc["uses"])
    assert errors == ["ExpiredToken", "ExpiredToken"]
    messages = [u["message"] for u in doc["uses"]]
    assert "The provided token has expired." in messages
    assert any(
        m and m.startswith("rejected token") and m.endswith("for bucket b") for m in messages
    )
