"""Hypothesis: the parser and the whole pipeline never raise, and never echo a secret."""

from __future__ import annotations

import base64
import itertools
import json
import string
from datetime import UTC, datetime
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.presign import inspect, inspect_stream
from credaudit.presign.parse import EKS_TOKEN_PREFIX, _decode, parse, parse_amz_date

T0 = datetime(2030, 1, 1, tzinfo=UTC)
PARAM_NAMES = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Amz-Region-Set",
    "AWSAccessKeyId",
    "Expires",
    "Signature",
    "x-amz-security-token",
    "X-Amz-S3session-Token",
    "Key-Pair-Id",
    "Policy",
    "Hash-Algorithm",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "AWS4-HMAC-SHA256",
            "AWS4-ECDSA-P256-SHA256",
            "20300101T000000Z",
            "ASIAY34FZKBOKMUTVV7A%2F20300101%2Fus-east-1%2Fs3%2Faws4_request",
            "3600",
            "604801",
            "-1",
            "host",
            "%",
            "%zz",
            "%E1%88",
            "a" * 64,
        ]
    ),
)
QUERY = st.lists(st.tuples(st.sampled_from(PARAM_NAMES) | st.text(max_size=8), VALUES), max_size=12)


def _url(host: str, path: str, pairs: list[tuple[str, str]]) -> str:
    return f"https://{host}/{path}?" + "&".join(f"{k}={v}" for k, v in pairs)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises_on_any_text(text: str) -> None:
    parsed = parse(text)
    assert parsed.problems or parsed.algorithm is not None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), QUERY, st.text(min_size=1, max_size=10))
def test_pipeline_never_raises(
    host: str, path: str, pairs: list[tuple[str, str]], secret: str
) -> None:
    result = inspect(_url(host, path, pairs), now=T0, secret=secret)
    assert result.status in {"valid", "expiring", "expired", "invalid"}
    # The JSON line (orjson, instants rendered by it) is the dict form, exactly.
    assert json.loads(result.to_json()) == result.to_dict()


def test_json_line_of_command_line_bytes_is_utf8_and_reads_back() -> None:
    """A command-line URL that is not UTF-8 arrives with lone surrogates (surrogateescape):
    orjson refuses them, so that line goes through json, each surrogate as its JSON escape,
    as --format json writes it: valid UTF-8 that reads back as the same string."""
    url = "https://b.s3.amazonaws.com/k\udcff?AWSAccessKeyId=A&Expires=1&Signature=x"
    result = inspect(url, now=T0)
    line = result.to_json()
    assert b"/k\\udcff?" in line
    record = json.loads(line.decode("utf-8"))  # strict UTF-8: raw bytes would fail here
    assert record == result.to_dict() and record["url"].startswith(
        "https://b.s3.amazonaws.com/k\udcff?"
    )


CANARY = "CANARYtok3n"


@settings(max_examples=300, deadline=None)
@given(
    QUERY,
    st.sampled_from(
        [
            "X-Amz-Security-Token",
            "x-amz-security-token",
            "X-Amz-S3session-Token",
            "X-Amz-Signature",
            "Signature",
        ]
    ),
)
def test_token_values_never_echoed(pairs: list[tuple[str, str]], token_param: str) -> None:
    pairs = [(k, v) for k, v in pairs if CANARY not in v] + [(token_param, CANARY)]
    result = inspect(_url("b.s3.amazonaws.com", "k", pairs), now=T0)
    assert CANARY not in repr(result.to_dict())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_stream_yields_one_record_per_line(lines: list[bytes]) -> None:
    results = list(inspect_stream(lines, now=T0))
    assert [r.line for r in results] == list(range(1, len(lines) + 1))


# Found by hypothesis while writing the parser; kept as explicit cases.
def test_found_examples() -> None:
    for text in [
        "https://[/?a=b",
        "https://h:99999/?X-Amz-Expires=1",
        "://",
        "?",
        "https://h/?&&&",
        "https://h/?X-Amz-Credential=%2F%2F%2F%2F",
        "https://h/?X-Amz-Expires=\u0661\u0662",
    ]:
        parsed = parse(text)
        assert parsed.problems, text
    # A non-ASCII signature once made hmac.compare_digest raise TypeError.
    for url in (
        "https://h/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20300101%2Fr%2Fs%2Faws4_request"
        "&X-Amz-Date=20300101T000000Z&X-Amz-Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=\u00e9",
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=A&Expires=1&Signature=\u00e9",
    ):
        assert inspect(url, now=T0, secret="s").signature_valid is False
    # A '#' before the token turns it into a fragment: it must still not be echoed.
    tail = inspect("https://b.s3.amazonaws.com/k?0#=&X-Amz-Security-Token=CANARYtok3n", now=T0)
    assert "CANARY" not in repr(tail.to_dict())
    # Unicode digits are not an integer X-Amz-Expires.
    assert ("CA305", "X-Amz-Expires is not an integer") in parse(
        "https://h/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=\u0661"
    ).problems


def test_json_line_of_an_instant_before_year_1000_is_the_dict_form() -> None:
    """An X-Amz-Date in year 1: the jsonl line (orjson) and to_dict (format_instant, what
    ``--format json`` writes) give the same RFC 3339 text, ``0001-01-01T00:00:00Z``."""
    url = (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F00010101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=00010101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=" + "a" * 64
    )
    result = inspect(url, now=T0)
    assert result.signed_at is not None and result.signed_at.year == 1
    assert json.loads(result.to_json()) == result.to_dict()
    assert result.to_dict()["signed_at"] == "0001-01-01T00:00:00Z"


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200) | st.binary(max_size=200).map(base64.urlsafe_b64encode).map(bytes.decode)
)
def test_eks_token_of_any_text_never_raises(text: str) -> None:
    result = inspect(EKS_TOKEN_PREFIX + text, now=T0)
    assert result.status in {"valid", "expiring", "expired", "invalid"}
    assert json.loads(result.to_json()) == result.to_dict()


@settings(max_examples=200, deadline=None)
@given(QUERY)
def test_eks_token_never_echoes_its_session_token(pairs: list[tuple[str, str]]) -> None:
    pairs = [(k, v) for k, v in pairs if CANARY not in v] + [("X-Amz-Security-Token", CANARY)]
    url = _url("sts.us-east-1.amazonaws.com", "", pairs)
    token = EKS_TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    result = inspect(token, now=T0)
    shown = repr(result.to_dict())
    assert CANARY not in shown and token[len(EKS_TOKEN_PREFIX) :][:24] not in shown


def test_text_that_is_not_a_url_is_never_echoed() -> None:
    """Found reading an EKS token before they were understood: text with neither a scheme
    nor a query was taken for a host name and printed whole (lower-cased) in ``host``.  Such
    text may be a bearer token; it is reported as not a URL and nothing of it is shown."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUll0b2szbiJ9.c2lnbmF0dXJlQ0FOQVJZ"
    for text in (jwt, EKS_TOKEN_PREFIX + "!!not-base64!!", EKS_TOKEN_PREFIX + "bm90IGEgdXJs"):
        result = inspect(text, now=T0)
        assert (result.status, result.host, result.url) == ("invalid", None, None), text
        assert [f.code for f in result.findings] == ["CA307"]
        assert text[12:30].lower() not in repr(result.to_dict()).lower()


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_amz_date_of_any_instant_reads_back(instant: datetime) -> None:
    text = instant.strftime("%Y%m%dT%H%M%SZ").rjust(16, "0")  # glibc writes year 1 as "1"
    assert parse_amz_date(text) == instant.replace(microsecond=0, tzinfo=UTC)


def test_amz_date_refuses_every_other_iso_form() -> None:
    """``fromisoformat`` reads week dates and extended forms too; X-Amz-Date is only
    YYYYMMDDTHHMMSSZ.  Every one- and two-letter substitution into the digits is refused
    (the shape check leans on ``fromisoformat`` refusing them: this is what holds it)."""
    base = "20261122T032300Z"
    places = [*range(8), *range(9, 15)]
    letters = string.ascii_letters + "-:+,.W"
    for first, second in itertools.combinations(places, 2):
        for a, b in itertools.product(letters, repeat=2):
            text = list(base)
            text[first], text[second] = a, b
            assert parse_amz_date("".join(text)) is None, "".join(text)
    for place in places:
        for a in letters:
            assert parse_amz_date(base[:place] + a + base[place + 1 :]) is None
    for other in ("2026W471T032300Z", "2026-W47T032300Z", "2026-11-22T03:23", "2026112٢T032300Z"):
        assert parse_amz_date(other) is None


# Text made mostly of the pieces of percent escapes, so that runs of them (``%2F``, ``%%2F``,
# ``%252F``, ``%2f``, an escape cut short) are common, beside any other character.
ESCAPE_PIECES = st.lists(
    st.sampled_from([*"%23BDFbdf/+=aé", "%2F", "%2B", "%3D", "%2f", "%E2%82%AC", "%C3"])
    | st.characters(),
    max_size=20,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(ESCAPE_PIECES)
def test_decode_is_unquote(text: str) -> None:
    """``_decode`` replaces base64's three escapes rather than calling ``unquote``; on any
    text it must give what ``unquote`` gives."""
    assert _decode(text) == unquote(text)


def test_decode_of_escapes_that_are_not_base64_s() -> None:
    cases = {
        "6xMROwuTC2F4%2FNMo5puj%2F%2FhIlVQ%3D": "6xMROwuTC2F4/NMo5puj//hIlVQ=",
        "a%2Bb": "a+b",
        "%252F": "%2F",  # an escaped "%": the "%2F" it decodes to is not decoded again
        "%%2F": "%/",
        "%2": "%2",
        "%2f%2F": "//",
        "%E2%82%AC%2F": "€/",
        "%C3": "\ufffd",
    }
    for raw, decoded in cases.items():
        assert _decode(raw) == decoded == unquote(raw), raw
