"""Every token parser, fuzzed: none raises, every candidate can be judged, and the failing
examples hypothesis found are kept below as explicit cases."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.cli import cli
from credaudit.commands.token import TOKEN_FORMATS
from credaudit.tokens.analyze import Context, judge
from credaudit.tokens.elasticsearch import audit_settings
from credaudit.tokens.header import parse_authorization
from credaudit.tokens.jwt_segments import decode
from credaudit.tokens.readers import Candidate, read_har, read_line, read_request
from tests.tokens.helpers import NOW, T0, b64url

CTX = Context(now=NOW)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

b64ish = st.text(alphabet="AZaz09-_.+/=~ \t\"',;:%é", max_size=60)
# Claim text as a JWT may carry it: any text, and lone surrogates (a JSON "\ud800" escape
# decodes to one; no UTF-8 output can hold it as it is).
claim_text = st.one_of(
    st.text(max_size=8),
    st.text(st.characters(categories=["Cs", "Ll", "Nd", "Zs", "Po"]), min_size=1, max_size=6),
)
segments = st.lists(
    st.one_of(
        b64ish,
        st.dictionaries(
            st.sampled_from(["alg", "exp", "iat", "nbf", "aud", "kid", "typ", "iss", "sub"]),
            st.one_of(
                st.integers(),
                st.floats(allow_nan=True),
                claim_text,
                st.none(),
                st.booleans(),
                st.lists(claim_text),
            ),
        ).map(b64url),
    ),
    min_size=1,
    max_size=6,
).map(".".join)


def _judged(candidates: list[Candidate]) -> None:
    for candidate in candidates:
        record = judge(candidate, CTX)
        assert record.status in (
            "valid",
            "expiring",
            "expired",
            "not-yet-valid",
            "invalid",
            "unknown",
            "none",
        )
        json.dumps(record.to_dict())


@FUZZ
@given(st.text(max_size=80))
def test_header_parser_never_raises(value: str) -> None:
    verdict = parse_authorization(value)
    assert verdict.valid in (True, False)
    if verdict.valid:
        assert verdict.token and verdict.scheme


@FUZZ
@given(st.one_of(segments, st.text(max_size=80)))
def test_jwt_segments_never_raise(token: str) -> None:
    result = decode(token)
    assert isinstance(result, str) or isinstance(result.claims, dict)
    _judged([Candidate(found_in="fuzz", token=token)])


@FUZZ
@given(
    st.one_of(
        st.text(max_size=120),
        st.builds(lambda s, t: f"curl {s} -H 'Authorization: {t}' {s}", b64ish, b64ish),
        st.builds(lambda t: f"Authorization: {t}", b64ish),
        st.builds(
            json.dumps,
            st.dictionaries(
                st.sampled_from(
                    [
                        "token",
                        "authorization",
                        "access_token",
                        "expires_in",
                        "refresh_token",
                        "type",
                        "encoded",
                        "id",
                        "api_key",
                        "expiration",
                        "api_keys",
                    ]
                ),
                st.one_of(
                    st.text(max_size=10),
                    st.integers(),
                    st.none(),
                    st.lists(st.integers()),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                ),
            ),
        ),
    )
)
def test_line_reader_never_raises(line: str) -> None:
    found = read_line(line, Candidate(found_in="fuzz:1", line=1))
    assert found
    _judged(found)


har_entries = st.lists(
    st.fixed_dictionaries(
        {
            "request": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        "url": st.text(max_size=30),
                        "headers": st.one_of(
                            st.none(),
                            st.lists(
                                st.fixed_dictionaries(
                                    {
                                        "name": st.sampled_from(
                                            ["Authorization", "authorization", "X"]
                                        ),
                                        "value": st.one_of(b64ish, st.integers()),
                                    }
                                ),
                                max_size=3,
                            ),
                        ),
                        "queryString": st.one_of(
                            st.none(),
                            st.lists(
                                st.fixed_dictionaries(
                                    {
                                        "name": st.sampled_from(["access_token", "q"]),
                                        "value": st.one_of(b64ish, st.none()),
                                    }
                                ),
                                max_size=2,
                            ),
                        ),
                    }
                ),
            )
        }
    ),
    max_size=4,
)


@FUZZ
@given(
    st.one_of(
        har_entries.map(lambda e: json.dumps({"log": {"entries": e}}).encode()),
        st.binary(max_size=100),
    )
)
def test_har_reader_never_raises(data: bytes) -> None:
    _judged(read_har(data, "fuzz.har"))


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda path, hdr, body: (
                f"POST {path} HTTP/1.1\r\nAuthorization: {hdr}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n\r\n{body}".encode()
            ),
            st.text(max_size=20),
            b64ish,
            st.text(max_size=30),
        ),
    )
)
def test_raw_request_reader_never_raises(data: bytes) -> None:
    found = read_request(data, "fuzz.http")
    assert found
    _judged(found)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(
            st.sampled_from(
                [
                    "xpack.security.authc.token.enabled",
                    "xpack.security.authc.token.timeout",
                    "xpack.security.http.ssl.enabled",
                    "xpack.security.enabled",
                    "xpack",
                ]
            ),
            st.one_of(
                st.booleans(),
                st.text(max_size=8),
                st.integers(),
                st.none(),
                st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
            ),
        ).map(lambda d: json.dumps(d).encode()),
    )
)
def test_elasticsearch_yml_reader_raises_only_value_error(data: bytes) -> None:
    try:
        audit = audit_settings(data, "fuzz.yml", Budget())
    except ValueError as exc:
        assert str(exc)
        return
    assert audit.view is not None


_CLAIMED = ["iss", "sub", "aud", "scope", "client_id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries({name: claim_text for name in _CLAIMED}),
    st.fixed_dictionaries({"kid": claim_text, "typ": claim_text}),
    st.sampled_from(TOKEN_FORMATS),
)
@example(
    {"iss": "", "sub": "", "aud": "", "scope": "", "client_id": "\udc80"},
    {"kid": "", "typ": ""},
    "jsonl",
)  # found by hypothesis: jsonl wrote a surrogate of U+DC80..U+DCFF as the raw byte 0x80
def test_every_format_renders_any_claim_text(
    texts: dict[str, str], header: dict[str, str], fmt: str
) -> None:
    """Whatever text a token's claims and header carry — a lone surrogate among it — every
    format writes UTF-8 and exits 0 or 1 (CA807's message quotes iss, aud, scope and typ);
    the JSON formats give the claim back as it was."""
    token = f"{b64url({'alg': 'RS256', **header})}.{b64url({**texts, 'exp': T0 + 600})}.c2ln"
    args = ["token", token, "--at", "2026-11-22T09:00:00Z", "--format", fmt]
    expect = ["--expected-issuer", "https://x", "--audience", "api", "--required-scope", "r"]
    result = CliRunner().invoke(cli, [*args, *expect, "--typ", "at+jwt"])
    # CliRunner reports a crash as exit code 1 with the exception kept: none may be kept.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1)
    text = result.stdout_bytes.decode("utf-8")  # strict: every byte is UTF-8
    texts = json.loads(json.dumps(texts))  # as the token carries them (a pair joins)
    header = json.loads(json.dumps(header))
    if fmt == "json":
        record = json.loads(text)["tokens"][0]
        assert [record[n] for n in ("iss", "sub", "scope", "client_id")] == [
            texts[n] for n in ("iss", "sub", "scope", "client_id")
        ]
        assert record["aud"] == [texts["aud"]] and record["key_id"] == header["kid"]
    elif fmt == "jsonl":
        assert json.loads(text)["iss"] == texts["iss"]
    elif fmt == "sarif":
        assert json.loads(text)["runs"][0]["results"]


# Failing examples hypothesis found while these were written, kept as explicit cases.
@pytest.mark.parametrize(
    "line",
    [
        "Bearer: x",  # ':' glued to the scheme was taken as the token
        '{"api_keys": []}',
        '{"encoded": 1, "api_key": "a", "id": "b"}',
        "curl '",  # unbalanced quote
        "eyJ",
        "a.b.c",
    ],
)
def test_kept_examples(line: str) -> None:
    _judged(read_line(line, Candidate(found_in="kept", line=1)))


@pytest.mark.parametrize("data", [b"xpack: [1, 2", b"- a\n- b\n", b"\xff\xfe", b"a: *b\n"])
def test_kept_yaml_examples(data: bytes) -> None:
    with pytest.raises(ValueError, match="YAML"):
        audit_settings(data, "kept.yml", Budget())


_ISSUER_X = ["--expected-issuer", "https://x"]


@pytest.mark.parametrize("fmt", TOKEN_FORMATS)
def test_a_lone_surrogate_in_a_claim_is_shown_escaped_in_each_format(fmt: str) -> None:
    """The example that crashed ``--format json`` (exit 3) and, once a message quoted the
    claim, every format but jsonl: the surrogate is written as its escape, ``\\ud800``."""
    exp = T0 + 600
    payload = f'{{"iss":"i\\ud800","sub":"\\ud800","aud":"a","exp":{exp}}}'
    token = f"{b64url({'alg': 'RS256'})}.{b64url(payload.encode())}.c2ln"
    result = CliRunner().invoke(
        cli,
        ["token", token, "--at", "2026-11-22T09:00:00Z", "--format", fmt, *_ISSUER_X],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1  # CA807: the issuer is not the expected one
    text = result.stdout_bytes.decode("utf-8")
    # The exposition escapes the escape's backslash: the label value reads "i\ud800".
    assert ("i\\\\ud800" if fmt == "prometheus" else "i\\ud800") in text
    if fmt in ("json", "jsonl"):
        record = json.loads(text)["tokens"][0] if fmt == "json" else json.loads(text)
        assert (record["iss"], record["sub"]) == ("i\ud800", "\ud800")
