"""Every token parser, fuzzed: none raises, every candidate can be judged, and the failing
examples hypothesis found are kept below as explicit cases."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.tokens.analyze import Context, judge
from credaudit.tokens.elasticsearch import audit_settings
from credaudit.tokens.header import parse_authorization
from credaudit.tokens.jwt_segments import decode
from credaudit.tokens.readers import Candidate, read_har, read_line, read_request
from tests.tokens.helpers import NOW, b64url

CTX = Context(now=NOW)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

b64ish = st.text(alphabet="AZaz09-_.+/=~ \t\"',;:%é", max_size=60)
segments = st.lists(
    st.one_of(
        b64ish,
        st.dictionaries(
            st.sampled_from(["alg", "exp", "iat", "nbf", "aud", "kid", "typ"]),
            st.one_of(
                st.integers(),
                st.floats(allow_nan=True),
                st.text(max_size=8),
                st.none(),
                st.booleans(),
                st.lists(st.text(max_size=4)),
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
