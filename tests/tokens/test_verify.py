"""Signature checks with the operator's keys only, and the attacks of RFC 8725 §3.

Each attack must end in CA806 and never in ``signature_valid: true``; the ``jku`` server
counts requests and must get none; a ``kid`` that is a path must never be opened.  PyJWT,
given the right key and pinned algorithm, is the oracle for the honest cases.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.errors import InputError
from credaudit.tokens import inspect, keys_from_jwks, keys_from_public_key, keys_from_secret
from tests.tokens.helpers import (
    HMAC_SECRET,
    NOW,
    b64url,
    claims,
    hs256,
    jwks,
    public_pem,
    rs256,
    rsa_key,
    unsigned,
)

AT = "2026-11-22T09:00:00Z"
KEYS = keys_from_jwks(json.dumps(jwks(0, 1)), "jwks test")


def _codes(record: object) -> list[str]:
    return [f.code for f in record.findings]  # type: ignore[attr-defined]


def _forged_hs256(secret: bytes, header: dict[str, object] | None = None) -> str:
    head = b64url(header or {"alg": "HS256", "typ": "JWT", "kid": "key-0"})
    body = b64url(claims())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def test_a_token_from_a_named_key_verifies() -> None:
    for n in (0, 1):
        record = inspect(rs256(n=n), now=NOW, keys=KEYS)
        assert record.signature_valid is True, record.signature_note
        assert f"kid key-{n}" in (record.signature_note or "") and _codes(record) == []


def test_an_altered_payload_is_ca806() -> None:
    head, _body, sig = rs256().split(".")
    forged = f"{head}.{b64url(claims(scope='admin'))}.{sig}"
    record = inspect(forged, now=NOW, keys=KEYS)
    assert record.signature_valid is False and _codes(record) == ["CA806"]
    assert record.status == "invalid"


def test_a_key_outside_the_set_is_ca806() -> None:
    record = inspect(rs256(n=2), now=NOW, keys=KEYS)  # kid key-2: not among the keys
    assert record.signature_valid is False and "not among the operator's keys" in (
        record.signature_note or ""
    )
    wrong_kid = inspect(rs256(n=2, kid="key-0"), now=NOW, keys=KEYS)
    assert wrong_kid.signature_valid is False and _codes(wrong_kid) == ["CA806"]


def test_pem_public_key_and_hmac_secret() -> None:
    pem = keys_from_public_key(public_pem(0), "pem")
    assert inspect(rs256(), now=NOW, keys=pem).signature_valid is True
    assert inspect(rs256(n=1), now=NOW, keys=pem).signature_valid is False
    secret = keys_from_secret(HMAC_SECRET, "secret")
    assert inspect(hs256(), now=NOW, keys=secret).signature_valid is True
    assert (
        inspect(
            hs256(secret="another-secret-of-32-bytes-length"), now=NOW, keys=secret
        ).signature_valid
        is False
    )


def test_a_public_key_is_refused_as_an_hmac_secret() -> None:
    with pytest.raises(InputError, match="not an HMAC secret"):
        keys_from_secret(public_pem(0).decode(), "secret $X")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_attack_alg_none_is_never_valid(alg: str) -> None:
    for keys in (None, KEYS, keys_from_secret(HMAC_SECRET, "s")):
        record = inspect(unsigned(alg=alg), now=NOW, keys=keys)
        assert record.signature_valid is False and _codes(record) == ["CA806"]


def test_attack_hs256_signed_with_the_rsa_public_key() -> None:
    forged = _forged_hs256(public_pem(0))
    for keys in (KEYS, keys_from_public_key(public_pem(0), "pem")):
        record = inspect(forged, now=NOW, keys=keys)
        assert record.signature_valid is False and _codes(record) == ["CA806"]
        assert "never used as an HMAC secret" in (record.signature_note or "")
    # PyJWT agrees: it refuses the public key as an HMAC secret.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(forged, public_pem(0), algorithms=["HS256"])


class _Counting(http.server.BaseHTTPRequestHandler):
    hits = 0
    body = b"{}"

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def counting_server() -> Iterator[tuple[str, type[_Counting]]]:
    handler = type("Handler", (_Counting,), {"hits": 0})
    handler.body = json.dumps(jwks(5)).encode()  # the attacker's own key
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", handler
    finally:
        server.shutdown()
        server.server_close()


def test_attack_jku_is_never_fetched(
    counting_server: tuple[str, type[_Counting]], tmp_path: Path
) -> None:
    url, handler = counting_server
    forged = rs256(n=5, jku=url, x5u=url)  # signed by the key the jku serves
    record = inspect(forged, now=NOW, keys=KEYS)
    assert record.signature_valid is False and _codes(record) == ["CA806"]
    assert any("jku" in n and "never fetched" in n for n in record.notes)
    unchecked = inspect(forged, now=NOW)
    assert unchecked.signature_valid is None
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks(0)))
    result = CliRunner().invoke(
        cli,
        ["token", "--at", AT, "--jwks", str(jwks_file), "--online", "--format", "json", forged],
    )
    assert result.exit_code == 1
    (tok,) = json.loads(result.stdout)["tokens"]
    assert tok["signature_valid"] is False
    assert handler.hits == 0


@pytest.mark.parametrize("kid", ["{path}", "../../../../..{path}", "file://{path}"])
def test_attack_kid_as_a_path_is_never_opened(kid: str, tmp_path: Path) -> None:
    secret_file = tmp_path / "attacker-key"
    secret_file.write_bytes(b"attacker-chosen-secret")
    header = {"alg": "HS256", "typ": "JWT", "kid": kid.format(path=secret_file)}
    forged = _forged_hs256(b"attacker-chosen-secret", header)
    for keys in (KEYS, keys_from_secret(HMAC_SECRET, "s")):
        record = inspect(forged, now=NOW, keys=keys)
        assert record.signature_valid is False and _codes(record) == ["CA806"]
    empty = _forged_hs256(b"", {"alg": "HS256", "kid": "../../../../../../dev/null"})
    assert inspect(empty, now=NOW, keys=keys_from_secret(HMAC_SECRET, "s")).signature_valid is False


def test_pyjwt_oracle_agrees_on_honest_and_tampered_tokens() -> None:
    good, bad = rs256(), rs256(n=1, kid="key-0")
    assert jwt.decode(
        good,
        rsa_key(0).public_key(),
        algorithms=["RS256"],
        audience="urn:api",
        options={"verify_exp": False},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(bad, rsa_key(0).public_key(), algorithms=["RS256"], audience="urn:api")
    assert inspect(good, now=NOW, keys=KEYS).signature_valid is True
    assert inspect(bad, now=NOW, keys=KEYS).signature_valid is False


def test_cli_jwks_public_key_and_secret_env(tmp_path: Path) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks(0)))
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem(1))
    env = {"SIGNING_SECRET": HMAC_SECRET}
    result = CliRunner(env=env).invoke(
        cli,
        [
            "token",
            "--at",
            AT,
            "--jwks",
            str(jwks_file),
            "--public-key",
            str(pem),
            "--secret-env",
            "SIGNING_SECRET",
            "--format",
            "json",
            rs256(),
            rs256(n=1, kid=None),
            hs256(),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [t["signature_valid"] for t in doc["tokens"]] == [True, True, True]
    assert "jwks" in doc["keys"] and "public key" in doc["keys"] and "HMAC" in doc["keys"]
    assert HMAC_SECRET not in result.stdout


def test_a_jwks_without_usable_keys_is_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "jwks.json"
    bad.write_text(
        json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "none"}, {"kty": "nope"}]})
    )
    with pytest.raises(InputError, match="no usable signing key"):
        keys_from_jwks(bad.read_bytes(), "jwks")
    result = CliRunner().invoke(cli, ["token", "--jwks", str(bad), rs256()])
    assert isinstance(result.exception, InputError)
    assert "c2VjcmV0" not in str(result.exception)
