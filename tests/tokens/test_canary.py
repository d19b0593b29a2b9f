"""Secrets never leave ``credaudit token``: a bearer token, an HMAC secret, a client secret and
an API key, each a unique canary, appear in no format, no stderr line and no log record —
including when the input holding them is broken and tempting to quote."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.commands.token import TOKEN_FORMATS
from tests.tokens.helpers import T0, b64url, claims, hs256

CANARY = {
    name: f"CANARY{name.upper()}{i:02d}" + "q" * 8
    for i, name in enumerate(
        [
            "jwtsig",
            "opaque",
            "hmac",
            "client",
            "apikey",
            "harq",
            "reqbody",
            "broken",
            "esyml",
            "curl",
            "envhdr",
            "refresh",
        ]
    )
}


def _inputs(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    c = CANARY
    jwt_token = f"{b64url({'alg': 'RS256', 'kid': 'k'})}.{b64url(claims())}.{c['jwtsig']}"
    hmac_token = hs256(claims(exp=T0 - 10))
    api_key = base64.b64encode(f"keyid:{c['apikey']}".encode()).decode()
    lines = [
        jwt_token,
        c["opaque"],
        f'Authorization: Bearer "{c["broken"]}"',
        f"curl -H 'Authorization: Bearer {c['curl']}' https://x.example/?access_token={c['curl']}",
        json.dumps(
            {
                "access_token": c["opaque"],
                "type": "Bearer",
                "expires_in": 1200,
                "refresh_token": c["refresh"],
                "authentication": {},
            }
        ),
        json.dumps({"id": "keyid", "name": "k", "api_key": c["apikey"], "encoded": api_key}),
        f"Authorization: ApiKey {api_key}",
        f"Basic {base64.b64encode(('user:' + c['broken']).encode()).decode()}",
        hmac_token,
        "{not json " + c["broken"],
        "\x00" + c["broken"],
    ]
    src = tmp_path / "tokens.txt"
    src.write_text("\n".join(lines) + "\n")
    har = tmp_path / "s.har"
    har.write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        {
                            "request": {
                                "url": f"https://x.example/a?access_token={c['harq']}",
                                "headers": [
                                    {"name": "Authorization", "value": f"Bearer {c['harq']}"}
                                ],
                                "queryString": [{"name": "access_token", "value": c["harq"]}],
                            }
                        }
                    ]
                }
            }
        )
    )
    req = tmp_path / "r.http"
    req.write_bytes(
        f"POST /api?access_token={c['reqbody']} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {c['reqbody']}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        f"access_token={c['reqbody']}&x=1".encode()
    )
    yml = tmp_path / "elasticsearch.yml"
    yml.write_text(f"bootstrap.password: {c['esyml']}\nxpack.security.http.ssl.enabled: true\n")
    args = [
        "--from",
        str(src),
        "--har",
        str(har),
        "--request",
        str(req),
        "--elasticsearch-config",
        str(yml),
        "--env",
        "HDR",
        "--secret-env",
        "HMAC",
        "--introspect",
        "http://127.0.0.1:9/introspect",
        "--online",
        "--online-timeout",
        "1s",
        "--client-id",
        "cid",
        "--client-secret-env",
        "CLIENT_SECRET",
    ]
    env = {"HDR": f"Bearer {c['envhdr']}", "HMAC": c["hmac"], "CLIENT_SECRET": c["client"]}
    return args, env


@pytest.mark.parametrize("fmt", TOKEN_FORMATS)
def test_no_canary_in_any_format_stderr_or_log(
    fmt: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    args, env = _inputs(tmp_path)
    caplog.set_level(logging.DEBUG)
    result = CliRunner(env=env).invoke(cli, ["token", *args, "--format", fmt])
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert len(result.stdout) > 200
    for name, canary in CANARY.items():
        assert canary not in result.stdout, (fmt, name)
        assert canary not in result.stderr, (fmt, name)
        assert canary not in caplog.text, (fmt, name)


def test_the_run_saw_what_carries_the_canaries(tmp_path: Path) -> None:
    """The canaries were really read: the records exist, so their absence means something."""
    args, env = _inputs(tmp_path)
    result = CliRunner(env=env).invoke(cli, ["token", *args, "--format", "json"])
    doc = json.loads(result.stdout)
    found = [t["found_in"] for t in doc["tokens"]]
    assert any(f.endswith("s.har entry 1 Authorization") for f in found)
    assert any("query access_token" in f for f in found)
    assert any(f.endswith("body access_token") for f in found)
    assert any(t["kind"] == "api-key" for t in doc["tokens"])
    assert any("introspection failed" in n for t in doc["tokens"] for n in t["notes"])
    assert any(t["signature_valid"] is False for t in doc["tokens"])
