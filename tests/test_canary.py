"""Secrets never leave: a unique canary in every secret field of every source must not
appear in any output format, in stderr, or in any log record — including when the file that
holds it is corrupt and its content would be tempting to quote in an error."""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.commands.scan import SCAN_FORMATS

CANARIES = {
    name: f"CANARY{name.upper()}{i:02d}" + "x" * 8
    for i, name in enumerate(
        [
            "envsecret",
            "envtoken",
            "credsecret",
            "credtoken",
            "configsecret",
            "cachesecret",
            "cachetoken",
            "ssoaccess",
            "ssorefresh",
            "ssoclientsecret",
            "regsecret",
            "loginsecret",
            "logintoken",
            "loginrefresh",
            "loginid",
            "logindpop",
            "procsecret",
            "proctoken",
            "corrupt",
            "containertoken",
            "webidsig",
        ]
    )
}


def _jwt_with_canary() -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    body = part(
        {
            "iss": "https://oidc.example",
            "aud": "sts.amazonaws.com",
            "iat": 1790000000,
            "exp": 1790086400,
            "sub": "system:serviceaccount:ns:sa",
        }
    )
    return f"{part({'alg': 'RS256'})}.{body}.{CANARIES['webidsig']}"


def _home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    aws = home / ".aws"
    for sub in ("cli/cache", "sso/cache", "login/cache"):
        (aws / sub).mkdir(parents=True)
    c = CANARIES
    token_file = home / "token"
    token_file.write_text(_jwt_with_canary())
    proc = home / "proc.py"
    proc.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'ASIAPROCESSKEY000001',"
        f" 'SecretAccessKey': '{c['procsecret']}', 'SessionToken': '{c['proctoken']}',"
        " 'Expiration': '2030-01-01T00:00:00Z'}))\n"
    )
    (aws / "config").write_text(
        "[default]\n"
        f"aws_access_key_id = AKIACONFIGKEY0000001\naws_secret_access_key = {c['configsecret']}\n"
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = default\n"
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
        "[profile login]\nlogin_session = arn:aws:iam::123456789012:user/me\n"
        f"[profile proc]\ncredential_process = {sys.executable} {proc}\n"
        f"[profile webid]\nrole_arn = arn:aws:iam::123456789012:role/w\n"
        f"web_identity_token_file = {token_file}\n"
    )
    (aws / "credentials").write_text(
        f"[creds]\naws_access_key_id = ASIACREDSKEY00000001\naws_secret_access_key = {c['credsecret']}\n"
        f"aws_session_token = {c['credtoken']}\n"
    )
    (aws / "cli" / "cache" / "a.json").write_text(
        json.dumps(
            {
                "Credentials": {
                    "AccessKeyId": "ASIACACHEKEY00000001",
                    "SecretAccessKey": c["cachesecret"],
                    "SessionToken": c["cachetoken"],
                    "Expiration": "2030-01-01T00:00:00UTC",
                }
            }
        )
    )
    (aws / "cli" / "cache" / "corrupt.json").write_text(
        '{"Credentials": {"SecretAccessKey": "' + c["corrupt"] + '", "Expiration": '
    )
    (aws / "sso" / "cache" / "t.json").write_text(
        json.dumps(
            {
                "startUrl": "https://corp.awsapps.com/start",
                "region": "us-east-1",
                "accessToken": c["ssoaccess"],
                "refreshToken": c["ssorefresh"],
                "clientId": "cid",
                "clientSecret": c["ssoclientsecret"],
                "expiresAt": "2030-01-01T00:00:00Z",
                "registrationExpiresAt": "2030-01-01T00:00:00Z",
            }
        )
    )
    (aws / "sso" / "cache" / "r.json").write_text(
        json.dumps(
            {"clientId": "cid", "clientSecret": c["regsecret"], "expiresAt": "2030-01-01T00:00:00Z"}
        )
    )
    (aws / "login" / "cache" / "l.json").write_text(
        json.dumps(
            {
                "accessToken": {
                    "accessKeyId": "ASIALOGINKEY00000001",
                    "secretAccessKey": c["loginsecret"],
                    "sessionToken": c["logintoken"],
                    "accountId": "123456789012",
                    "expiresAt": "2030-01-01T00:00:00Z",
                },
                "tokenType": "aws_sigv4",
                "clientId": "cid",
                "refreshToken": c["loginrefresh"],
                "idToken": c["loginid"],
                "dpopKey": c["logindpop"],
            }
        )
    )
    env_file = tmp_path / "env"
    env_file.write_text(
        f"HOME={home}\nAWS_ACCESS_KEY_ID=ASIAENVKEY0000000001\nAWS_SECRET_ACCESS_KEY={c['envsecret']}\n"
        f"AWS_SESSION_TOKEN={c['envtoken']}\nAWS_EC2_METADATA_DISABLED=true\n"
        "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9/\n"
        f"AWS_LOGIN_CACHE_DIRECTORY={aws / 'login' / 'cache'}\n"
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds\n"
        f"AWS_CONTAINER_AUTHORIZATION_TOKEN={c['containertoken']}\n"
    )
    return home, {"env_file": str(env_file)}


@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_no_canary_in_any_format_or_log(
    fmt: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home, paths = _home(tmp_path)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--debug",
            "scan",
            "--home",
            str(home),
            "--env-file",
            paths["env_file"],
            "--all-profiles",
            "--run-process",
            "--probe-timeout",
            "0.3s",
            "--format",
            fmt,
        ],
    )
    assert result.exit_code in (0, 1), (result.output, result.exception)
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    text += "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "ASIAENVKEY0000000001" not in text, "access key ids are rendered masked"
    leaked = [name for name, value in CANARIES.items() if value in text]
    assert leaked == []
    # the scan did see the sources it is meant to protect
    if fmt == "json":
        report = json.loads(result.output)
        sources = {c["source"] for c in report["credentials"]}
        assert {"env", "shared-credentials-file", "config-file"} <= sources
        assert any(f["code"] == "CA702" for f in report["findings"]), "corrupt cache reported"
