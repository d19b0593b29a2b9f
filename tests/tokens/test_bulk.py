"""The bulk path of ``credaudit token --format jsonl``: orjson's dump of a record is the
record's JSON form, the fast segment decoder gives the careful one's verdicts, and ``--jobs``
workers write what one process writes, in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import credaudit.parallel
from credaudit.cli import cli
from credaudit.tokens import Expectations, inspect_stream, keys_from_jwks
from credaudit.tokens.jwt_segments import _decode_segments, decode
from tests.tokens.helpers import NOW, T0, b64url, claims, hs256, jwks, rs256, unsigned

AT = "2026-11-22T09:00:00Z"


def _odd(payload: str, header: str = '{"alg":"RS256","kid":"key-0"}') -> str:
    """A token whose segments hold JSON as written (what ``json.dumps`` would not write)."""
    return f"{b64url(header.encode())}.{b64url(payload.encode())}.c2ln"


ODD_TOKENS = [
    _odd('{"sub":"\\ud800x","iat":NaN,"exp":1e400}'),  # lone surrogate, NaN, infinity
    _odd(f'{{"sub":"big","iat":123456789012345678901234567890,"exp":{T0 + 60}}}'),
    _odd('{"sub":"early","nbf":-62135596800,"exp":-62100000000}'),  # year 1: strftime
    _odd(f'{{"sub":"float","iat":{T0}.75,"exp":{T0 + 100}.25}}'),
    _odd(f'{{"sub":"\\u00e9t\\u00e9 \\ud83d\\ude00","exp":{T0 + 10}}}'),
    _odd("[1,2]"),
    _odd('{"a":1}', header='"alg"'),
]


def _records(lines: list[str]) -> list[Any]:
    keys = keys_from_jwks(json.dumps(jwks(0)), "jwks")
    return list(
        inspect_stream(lines, now=NOW, keys=keys, expect=Expectations(audience=("urn:api",)))
    )


def test_to_json_is_to_dict() -> None:
    lines = [
        rs256(),
        f"Authorization: Bearer  {rs256(claims(exp=T0 - 5000))}",
        "",
        unsigned(),
        json.dumps({"access_token": hs256(), "expires_in": 60, "refresh_token": "r"}),
        json.dumps({"id": "k1", "api_key": "s3cr3t", "expiration": (T0 + 60) * 1000}),
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "Basic dXNlcjpwYXNz",
        *ODD_TOKENS,
    ]
    records = _records(lines)
    assert len(records) == len(lines)
    for record in records:
        line = record.to_json()
        assert b"\n" not in line
        assert json.loads(line) == record.to_dict()
    early = records[-5]
    assert early.to_dict()["not_before"] == "0001-01-01T00:00:00Z"  # RFC 3339: four digits


def test_a_lone_surrogate_in_a_claim_stays_escaped() -> None:
    record = _records([ODD_TOKENS[0]])[0]
    assert record.sub == "\ud800x"
    assert b'"sub":"\\ud800x"' in record.to_json()
    # One in U+DC80..U+DCFF too: the escape, not the byte it would stand for in a file name.
    record.sub = "\udc80"
    assert b'"sub":"\\udc80"' in record.to_json() and record.to_json().decode("utf-8")
    assert [f.message for f in record.findings if f.code == "CA804"] == [
        "the exp claim is out of range",
        "the iat claim is out of range",
    ]


@pytest.mark.parametrize("token", [*ODD_TOKENS, rs256(), unsigned(), hs256()])
def test_fast_decoder_agrees_with_the_segment_decoder(token: str) -> None:
    fast, careful = decode(token), _decode_segments(token)
    assert type(fast) is type(careful)
    if isinstance(fast, str):
        assert fast == careful
    else:
        assert not isinstance(careful, str)
        assert json.dumps(fast.header) == json.dumps(careful.header)
        assert json.dumps(fast.claims) == json.dumps(careful.claims)
        assert fast.signing_input == careful.signing_input
        assert fast.signature == careful.signature


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="eyJhbGciOiJIUzI1NiJ9.-_=+/ \t\x00A0", max_size=60))
def test_fast_decoder_agrees_on_anything(token: str) -> None:
    fast, careful = decode(token), _decode_segments(token)
    assert (fast if isinstance(fast, str) else "ok") == (
        careful if isinstance(careful, str) else "ok"
    )


def test_decoded_headers_are_kept_per_key_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key's header segment is decoded once and shared; beyond the bound, or when too long,
    a header is decoded for each token, with the same verdict."""
    from credaudit.tokens import jwt_segments

    monkeypatch.setattr(jwt_segments, "_HEADERS", {})
    monkeypatch.setattr(jwt_segments, "_HEADERS_MAX", 3)
    first, second = decode(rs256(claims(sub="a"))), decode(rs256(claims(sub="b")))
    assert not isinstance(first, str) and not isinstance(second, str)
    assert first.header is second.header and first.claims["sub"] == "a"
    tokens = [rs256(claims(sub=f"s{n}"), kid=f"key-{n}") for n in range(6)]
    tokens.append(rs256(kid="k" * 600))  # longer than a kept header may be
    for token in tokens * 2:
        fast, careful = decode(token), _decode_segments(token)
        assert not isinstance(fast, str) and not isinstance(careful, str)
        assert fast.header == careful.header and fast.claims == careful.claims
    assert len(jwt_segments._HEADERS) == 3


def _bulk_file(tmp_path: Path) -> Path:
    good = rs256()
    lines = [
        "\ufeff" + good,  # a byte-order mark on the first line
        "",
        f"Authorization: Bearer {rs256(claims(exp=T0 - 3600))}",
        "x" * 70_000,  # longer than a line may be: one record, its bytes dropped
        "not a token, just words\r",
        json.dumps({"access_token": hs256(), "expires_in": 600}),
        *ODD_TOKENS,
        *(rs256(claims(sub=f"s{n}", exp=T0 + 30 * n)) for n in range(40)),
        "\x00binary",
        good,  # the last line has no newline
    ]
    path = tmp_path / "bulk.txt"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    return path


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(cli, ["token", "--at", AT, "--format", "jsonl", *args])


@pytest.mark.parametrize("range_bytes", [64, 1500, 1024 * 1024])
def test_jobs_write_what_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, range_bytes: int
) -> None:
    """Byte ranges of the file (cut after a newline, stretched over a long line) are judged in
    worker processes; the output is byte for byte the serial one, with its exit code."""
    monkeypatch.setattr(credaudit.parallel, "RANGE", range_bytes)
    path = _bulk_file(tmp_path)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks(0)))
    for extra in ([], ["--jwks", str(jwks_file), "--audience", "urn:api"]):
        one = _run(["--from", str(path), "--jobs", "1", *extra])
        two = _run(["--from", str(path), "--jobs", "2", *extra])
        assert one.exit_code == two.exit_code == 1, one.output
        assert one.stdout_bytes == two.stdout_bytes
        rows = [json.loads(line) for line in two.stdout_bytes.splitlines()]
        assert [r["line"] for r in rows] == list(range(1, len(rows) + 1))
        assert len(rows) == 6 + len(ODD_TOKENS) + 40 + 2
        assert rows[0]["kind"] == "jwt" and rows[3]["findings"][0]["code"] == "CA804"
        assert rows[-1]["fingerprint"] == rows[0]["fingerprint"]


def test_jobs_keep_other_inputs_first_and_the_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credaudit.parallel, "RANGE", 200)
    path = tmp_path / "fine.txt"
    path.write_text("\n".join(rs256(claims(sub=f"s{n}")) for n in range(12)) + "\n")
    env = {"TOK": rs256(claims(sub="from-env"))}
    result = CliRunner(env=env).invoke(
        cli,
        [
            "token",
            "--at",
            AT,
            "--format",
            "jsonl",
            "--env",
            "TOK",
            "--from",
            str(path),
            "--jobs",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout_bytes.splitlines()]
    assert [r["sub"] for r in rows] == ["from-env", *(f"s{n}" for n in range(12))]


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256"])
def test_each_keys_prepared_check_agrees_with_pyjwt(alg: str) -> None:
    """The check made once per key (cryptography's verify with its padding and hash bound
    for RS*, PyJWT's verify otherwise) gives PyJWT's verdict on good, altered and
    truncated signatures and messages."""
    import jwt
    from jwt.algorithms import get_default_algorithms

    from tests.tokens.helpers import public_pem, rsa_key

    token = jwt.encode(claims(), rsa_key(0), algorithm=alg)
    decoded = decode(token)
    assert not isinstance(decoded, str)
    doc = jwks(0)
    doc["keys"][0]["alg"] = alg
    key = keys_from_jwks(json.dumps(doc), "jwks").keys[0]
    assert key.algorithm == alg
    pyjwt = get_default_algorithms()[alg]
    public = pyjwt.prepare_key(public_pem(0))
    good = decoded.signature
    altered = bytes([good[0] ^ 1]) + good[1:]
    verdicts = []
    for signature in (good, altered, good[:-1], b""):
        for message in (decoded.signing_input, decoded.signing_input + b"x"):
            verdict = key.check(message, signature)
            assert verdict is pyjwt.verify(message, public, signature)
            verdicts.append(verdict)
    assert verdicts == [True] + [False] * 7
