"""Hypothesis: whatever lands in a cache dir, token file or config, collect() never raises.

Every source must turn bad input into an observation (with a CA702 when it is broken), so the
scan goes on.  Any failing example hypothesis finds is kept below as an explicit ``@example``.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from credaudit.model import Observation
from credaudit.report.json import to_json
from credaudit.sources import cli_cache, login_cache, process, sso_cache, web_identity
from tests.helpers_home import make_home

FIELDS = [
    "Credentials",
    "Expiration",
    "AccessKeyId",
    "SecretAccessKey",
    "SessionToken",
    "AccountId",
    "AssumedRoleUser",
    "Arn",
    "ProviderType",
    "accessToken",
    "expiresAt",
    "refreshToken",
    "clientId",
    "clientSecret",
    "registrationExpiresAt",
    "startUrl",
    "region",
    "accessKeyId",
    "secretAccessKey",
    "sessionToken",
    "accountId",
    "dpopKey",
    "Version",
    "exp",
    "iat",
    "aud",
    "iss",
]
TIMESTAMPS = st.sampled_from(
    [
        "2030-01-01T12:00:00Z",
        "2030-01-01T12:00:00UTC",
        "2030-01-01 12:00:00",
        "1700000000",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "notatimestamp",
        "",
        "20300101T120000Z",
    ]
)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | TIMESTAMPS
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)
DOCUMENTS = st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=8)
FILE_BYTES = (
    st.binary(max_size=300)
    | DOCUMENTS.map(lambda d: json.dumps(d).encode())
    | JSONISH.map(lambda d: json.dumps(d).encode())
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
# CREDAUDIT_FUZZ_EXAMPLES raises the budget for a long local hunt; the default keeps CI quick.
FUZZ = settings(
    max_examples=int(os.environ.get("CREDAUDIT_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check(observations: list[Observation]) -> None:
    for obs in observations:
        to_json(obs)  # must serialise
        for problem in obs.problems:
            assert problem.code == "CA702"
            assert "\n" not in problem.message


def _run_cache(relative: str, data: bytes, collect: Any, mode: int = 0o600) -> list[Observation]:
    with tempfile.TemporaryDirectory() as tmp:
        fake = make_home(Path(tmp))
        fake.write(relative, data, mode)
        observations: list[Observation] = collect(fake.target)
        assert len(observations) == 1
        assert observations[0].file_mode == mode
        _check(observations)
        return observations


@FUZZ
@given(FILE_BYTES)
@example(b'{"Credentials": {"Expiration": "0001-01-01T00:00:00+01:00"}}')
@example(b'{"Credentials": {"Expiration": 1e300}}')
@example(b"[" * 5000)
@example(b'{"Credentials": {"Expiration": ' + b"9" * 5000 + b"}}")
@example(b"\xef\xbb\xbf{}")
def test_cli_cache_never_raises(data: bytes) -> None:
    _run_cache(".aws/cli/cache/k.json", data, cli_cache.collect)


@FUZZ
@given(FILE_BYTES)
@example(
    b'{"accessToken": "x", "expiresAt": "x", "registrationExpiresAt": "0001-01-01T00:00:00+01:00"}'
)
@example(b'{"expiresAt": null}')
@example(b'{"clientId": [], "expiresAt": {}}')
def test_sso_cache_never_raises(data: bytes) -> None:
    _run_cache(".aws/sso/cache/k.json", data, sso_cache.collect)


@FUZZ
@given(FILE_BYTES)
@example(b'{"accessToken": {"expiresAt": true}}')
@example(b'{"accessToken": []}')
def test_login_cache_never_raises(data: bytes) -> None:
    _run_cache(".aws/login/cache/k.json", data, login_cache.collect)


def _jwt(claims: object) -> str:
    # hand-built rather than jwt.encode, which refuses odd claims a real file may still hold
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


JWTISH = (
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), JSONISH, max_size=6).map(_jwt)
    | JSONISH.map(_jwt)
    | st.lists(st.text(alphabet="abcXYZ019-_=.", max_size=30), min_size=3, max_size=3).map(".".join)
    | st.text(max_size=100)
)


@FUZZ
@given(st.one_of(JWTISH.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200)))
@example(b"eyJhbGciOiJIUzI1NiJ9.WzFd.sig")  # payload is a JSON list
@example(b"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjFlMzAwfQ.sig")  # exp 1e300
@example(b"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJOYU4ifQ.sig")
def test_web_identity_never_raises(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        token = Path(tmp) / "token"
        token.write_bytes(data)
        fake = make_home(Path(tmp), env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token)})
        observations = web_identity.collect(fake.target)
        assert len(observations) == 1
        _check(observations)


INI_LINES = st.sampled_from(
    [
        "[default]",
        "[profile p]",
        "[profile q]",
        "[sso-session s]",
        "[",
        "]",
        "[profile ]",
        "credential_process = /bin/true",
        "credential_process =",
        "credential_process = 'x",
        "web_identity_token_file = /nonexistent/t",
        "web_identity_token_file = relative/t",
        "web_identity_token_file = ~/t",
        "role_arn = arn:aws:iam::1:role/r",
        "  continued",
        "s3 =",
        "  max_concurrent_requests = 1",
        "%(x)s = y",
        "key",
        "= value",
        "\x00",
        "# c",
    ]
) | st.text(max_size=30)


@FUZZ
@given(st.lists(INI_LINES, max_size=12))
@example(["[profile p]", "credential_process = 'x"])
@example(["[profile p]", "web_identity_token_file = ~/t"])
def test_config_driven_sources_never_raise(lines: list[str]) -> None:
    text = "\n".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        fake = make_home(Path(tmp))
        fake.write(".aws/config", text.encode("utf-8", "surrogatepass"))
        _check(web_identity.collect(fake.target))
        _check(process.collect(fake.target))  # run_process is off: nothing is executed


@FUZZ
@given(FILE_BYTES)
@example(b'{"Version": 1, "AccessKeyId": 5, "SecretAccessKey": null, "Expiration": []}')
@example(
    b'{"Version": 1.0, "AccessKeyId": "A", "SecretAccessKey": "B", "Expiration": "0001-01-01T00:00:00+01:00"}'
)
def test_parse_process_output_never_raises(data: bytes) -> None:
    parsed = process.parse_process_output(data)
    assert parsed.error is None or "\n" not in parsed.error
    if parsed.error is None:
        assert "access_key_id" in parsed.fields
