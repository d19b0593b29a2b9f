"""``credaudit token`` against the real oidc-provider@8 (panva), started here on 127.0.0.1
with client_credentials, RS256 JWT access tokens (typ at+jwt) and introspection.

Its real tokens verify through its /jwks saved to a file and through ``--issuer … --online``;
``expires_at`` equals ``exp``; a 60 s token against ``--run-time 5m`` is CA802; an altered
payload is CA806; the same token evaluated after its exp is CA801; introspection of its
opaque token reports the same exp the token endpoint promised.  PyJWT is the oracle.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from tests.peers.peer_util import (
    PEERS,
    free_port,
    require_peer,
    start_process,
    stop_process,
)

pytestmark = pytest.mark.peer

HERE = Path(__file__).parent
TTL = 60
CLIENT_ID = "credaudit-client"
CLIENT_SECRET = "CANARYCLIENTSECRET-oidc-peer-0001"
API, OPAQUE = "urn:credaudit:api", "urn:credaudit:opaque"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    module = os.environ.get("CREDAUDIT_PEER_OIDC_PROVIDER") or str(
        PEERS / "oidc" / "node_modules" / "oidc-provider" / "lib" / "index.js"
    )
    node = shutil.which("node")
    if node is None or not Path(module).is_file():
        require_peer("node or oidc-provider@8 is missing (scripts/peers install)")
    port = free_port()
    env = {**os.environ, "OIDC_PROVIDER_MODULE": module, "OIDC_CLIENT_SECRET": CLIENT_SECRET}
    proc = start_process(
        [node, str(HERE / "oidc" / "provider.mjs"), str(port), str(TTL)], port, env=env
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def _post(url: str, form: dict[str, str]) -> dict[str, Any]:
    auth = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    req = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {auth}"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer: dict[str, Any] = json.loads(resp.read())
    return answer


def token_answer(issuer: str, resource: str = API) -> dict[str, Any]:
    return _post(
        f"{issuer}/token",
        {"grant_type": "client_credentials", "scope": "read", "resource": resource},
    )


def run(args: list[str], env: dict[str, str] | None = None) -> Any:
    """The command with a 10 s skew margin: the default 60 s is the whole life of these
    60 s tokens, which would make every one of them CA802 (tests of the default below)."""
    return CliRunner(env=env).invoke(cli, ["token", "--skew-margin", "10s", *args])


@pytest.fixture(scope="module")
def jwks_file(issuer: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oidc") / "jwks.json"
    with urllib.request.urlopen(f"{issuer}/jwks", timeout=10) as resp:
        path.write_bytes(resp.read())
    return path


def test_a_real_token_verifies_with_its_saved_jwks(issuer: str, jwks_file: Path) -> None:
    answer = token_answer(issuer)
    token = answer["access_token"]
    oracle = jwt.decode(
        token,
        jwt.PyJWKSet.from_json(jwks_file.read_text()).keys[0].key,
        algorithms=["RS256"],
        audience=API,
    )
    result = run(
        [
            "--env",
            "AT",
            "--jwks",
            str(jwks_file),
            "--typ",
            "at+jwt",
            "--audience",
            API,
            "--expected-issuer",
            issuer,
            "--required-scope",
            "read",
            "--format",
            "json",
        ],
        env={"AT": token},
    )
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)["tokens"]
    assert record["signature_valid"] is True and record["findings"] == []
    assert record["type"] == "at+jwt" and record["key_id"] == "peer-rs256"
    exp = datetime.fromtimestamp(oracle["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["expires_at"] == exp
    assert record["lifetime_seconds"] == TTL == answer["expires_in"]
    assert (record["iss"], record["aud"], record["client_id"]) == (issuer, [API], CLIENT_ID)
    assert token not in result.stdout


def test_a_real_token_verifies_through_the_issuer_online(issuer: str) -> None:
    token = token_answer(issuer)["access_token"]
    result = run(
        ["--env", "AT", "--issuer", issuer, "--online", "--format", "json"], env={"AT": token}
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["tokens"][0]["signature_valid"] is True
    assert f"{issuer}/jwks" in doc["keys"]


def test_without_online_the_issuer_is_not_called(issuer: str) -> None:
    token = token_answer(issuer)["access_token"]
    result = run(["--env", "AT", "--issuer", issuer, "--format", "json"], env={"AT": token})
    assert json.loads(result.stdout)["tokens"][0]["signature_valid"] is None
    assert "--online" in result.stderr


def test_a_60s_token_against_a_5m_run_is_ca802(issuer: str, jwks_file: Path) -> None:
    token = token_answer(issuer)["access_token"]
    result = run(
        ["--env", "AT", "--jwks", str(jwks_file), "--run-time", "5m", "--format", "json"],
        env={"AT": token},
    )
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["CA802"]


def test_an_altered_payload_is_ca806(issuer: str, jwks_file: Path) -> None:
    head, body, sig = token_answer(issuer)["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["scope"] = "read write admin"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    result = run(
        ["--env", "AT", "--jwks", str(jwks_file), "--format", "json"],
        env={"AT": f"{head}.{forged_body}.{sig}"},
    )
    assert result.exit_code == 1
    record = json.loads(result.stdout)["tokens"][0]
    assert record["signature_valid"] is False
    assert [f["code"] for f in record["findings"]] == ["CA806"]


def test_the_same_token_after_its_exp_is_ca801(issuer: str, jwks_file: Path) -> None:
    token = token_answer(issuer)["access_token"]
    result = run(
        ["--env", "AT", "--jwks", str(jwks_file), "--at", "+3m", "--format", "jsonl"],
        env={"AT": token},
    )
    assert result.exit_code == 1
    row = json.loads(result.stdout)
    assert row["status"] == "expired" and [f["code"] for f in row["findings"]] == ["CA801"]
    assert row["signature_valid"] is True


def test_introspection_reports_the_exp_the_token_endpoint_promised(issuer: str) -> None:
    before = int(time.time())
    answer = token_answer(issuer, OPAQUE)
    after = int(time.time())
    token = answer["access_token"]
    assert "." not in token  # opaque, as configured for this resource
    oracle = _post(f"{issuer}/token/introspection", {"token": token})
    assert oracle["active"] is True
    result = run(
        [
            "--env",
            "AT",
            "--introspect",
            f"{issuer}/token/introspection",
            "--online",
            "--client-id",
            CLIENT_ID,
            "--client-secret-env",
            "CS",
            "--format",
            "json",
        ],
        env={"AT": token, "CS": CLIENT_SECRET},
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)["tokens"][0]
    assert record["kind"] == "opaque" and "introspection: active" in record["notes"]
    exp = datetime.fromtimestamp(oracle["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["expires_at"] == exp
    assert before + answer["expires_in"] <= oracle["exp"] <= after + answer["expires_in"] + 1
    assert record["scope"] == oracle["scope"] and record["status"] == "valid"
    for secret in (token, CLIENT_SECRET):
        assert secret not in result.stdout and secret not in result.stderr


def test_introspection_of_a_jwt_does_not_call_it_expired(issuer: str, jwks_file: Path) -> None:
    """oidc-provider does not store its JWT access tokens: it answers active: false."""
    token = token_answer(issuer)["access_token"]
    result = run(
        [
            "--env",
            "AT",
            "--jwks",
            str(jwks_file),
            "--introspect",
            f"{issuer}/token/introspection",
            "--online",
            "--client-id",
            CLIENT_ID,
            "--client-secret-env",
            "CS",
            "--format",
            "json",
        ],
        env={"AT": token, "CS": CLIENT_SECRET},
    )
    record = json.loads(result.stdout)["tokens"][0]
    assert "introspection: inactive" in record["notes"]
    assert record["findings"] == [] and record["status"] == "valid"


def test_with_the_default_skew_margin_a_60s_token_is_already_short(issuer: str) -> None:
    token = token_answer(issuer)["access_token"]
    result = CliRunner(env={"AT": token}).invoke(cli, ["token", "--env", "AT", "--format", "json"])
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "CA802" and "needs 1m" in finding["message"]


def test_the_token_answer_itself_as_a_json_line(issuer: str, tmp_path: Path) -> None:
    answer = token_answer(issuer)
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(answer) + "\n")
    result = run(["--from", str(path), "--run-time", "5m", "--format", "json"])
    record = json.loads(result.stdout)["tokens"][0]
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert record["expires_at"] == datetime.fromtimestamp(claims["exp"], UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    # The 60 s token dies before a 5 min run ends (CA802), and the client_credentials answer
    # carries no refresh token to renew it (CA809: missing where the work outlives it).
    assert [f["code"] for f in record["findings"]] == ["CA802", "CA809"]
