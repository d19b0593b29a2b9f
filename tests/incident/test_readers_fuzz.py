"""Every reader, fed anything, yields events and never raises; failing examples found while
writing them are kept as explicit cases."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.incident import times
from credaudit.incident.events import Activity, Session, Unreadable, Use
from credaudit.incident.files import decompress, detect, read_data
from credaudit.incident.readers import app, cloudtrail, s3_access, sdk_debug
from credaudit.incident.times import human, instant, s3_time

EVENTS = (Session, Use, Activity, Unreadable)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
ct_keys = st.sampled_from(
    [
        "eventTime",
        "eventName",
        "errorCode",
        "errorMessage",
        "userIdentity",
        "responseElements",
        "requestParameters",
        "eventSource",
        "requestID",
        "credentials",
        "expiration",
        "accessKeyId",
        "sessionContext",
        "attributes",
        "creationDate",
        "assumedRoleUser",
        "arn",
        "roleArn",
    ]
)
ct_like = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=30)
    | st.sampled_from(
        ["2026-04-15T10:00:00Z", "Apr 15, 2026, 10:00:00 AM", "AssumeRole", "ExpiredToken"]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ct_keys, inner, max_size=6),
    max_leaves=25,
)


def _all(events: object) -> list[object]:
    out = list(events)  # type: ignore[call-overload]
    assert all(isinstance(e, EVENTS) for e in out)
    return out


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_through_every_reader(data: bytes) -> None:
    for kind in (None, "cloudtrail", "s3-access", "sdk-debug", "app"):
        _all(read_data("f", data, kind))
    decompress(data)
    detect(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(ct_like, max_size=4))
def test_cloudtrail_record_shapes(records: list[object]) -> None:
    doc = json.dumps({"Records": records}).encode()
    _all(cloudtrail.read_document(doc, "f"))
    _all(cloudtrail.read_lines([json.dumps(r).encode() for r in records], "f"))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_cloudtrail_any_json(value: object) -> None:
    _all(cloudtrail.read_document(json.dumps(value).encode(), "f"))


s3_token = st.sampled_from(
    [
        "-",
        '"-"',
        "[06/Feb/2019:00:00:38 +0000]",
        "REST.GET.OBJECT",
        "400",
        "ExpiredToken",
        '"GET /k?X-Amz-Credential=ASIAQXAMPLE000000001%2F20260415%2Fus-east-1%2Fs3%2Faws4_request'
        '&X-Amz-Date=20260415T080500Z&X-Amz-Expires=99999999999 HTTP/1.1"',
        "QueryString",
        "arn:aws:sts::1:assumed-role/r/s",
        '"a \\" b"',
        "[99/Foo/2019:99:00:38 +9999]",
    ]
) | st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(s3_token, min_size=1, max_size=30))
def test_s3_lines(tokens: list[str]) -> None:
    _all(s3_access.read_lines([" ".join(tokens).encode("utf-8", "surrogatepass")], "f"))


sdk_message = st.sampled_from(
    [
        "Making request for OperationModel(name=GetObject) with params: {}",
        "Sending http request: <AWSPreparedRequest stream_output=False, method=GET, url=https://x/, "
        "headers={'X-Amz-Date': b'20269915T999999Z', 'Authorization': b'AWS4-HMAC-SHA256 "
        "Credential=ASIA/20260415/us-east-1/s3/aws4_request'}>",
        "Sending http request: <AWSPreparedRequest stream_output=False, method=GET, url=https://x/, "
        "headers={'X-Amz-Date': b'20260415T100000Z'}>",
        'https://x:443 "GET / HTTP/1.1" 403 12',
        "Response body:",
        "Response headers: {'x-amz-request-id': 'ABC'}",
        "Found credentials in environment variables.",
    ]
) | st.text(max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), sdk_message), max_size=12))
def test_sdk_debug_lines(lines: list[tuple[bool, str]]) -> None:
    raw = [
        (
            f"2026-04-15 10:00:00,123 - MainThread - botocore.x - DEBUG - {m}" if framed else m
        ).encode()
        for framed, m in lines
    ]
    _all(sdk_debug.read_lines(raw, "f"))


app_value = st.sampled_from(
    [
        "2026-04-15T10:00:00Z",
        "ExpiredToken",
        "garbage",
        '"quoted value"',
        "1776243600",
        "99999999999999999999",
        "Apr 15, 2026, 10:00:00 AM",
        "",
        "=",
        '"',
        "-",
    ]
) | st.text(max_size=15)
app_key = st.sampled_from([*app.FIELDS, "time", "x", "sessionToken"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(app_key, app_value, max_size=8), st.booleans())
def test_app_lines(fields: dict[str, str], as_json: bool) -> None:
    line = json.dumps(fields) if as_json else " ".join(f"{k}={v}" for k, v in fields.items())
    _all(app.read_lines([line.encode("utf-8", "surrogatepass")], "f"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.integers() | st.floats(allow_nan=True) | st.none())
def test_instants_never_raise(value: object) -> None:
    result = instant(value)
    assert result is None or result.tzinfo is not None
    if isinstance(value, str):
        human(value)
        s3_time(value)


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999",
        "Feb 30, 2026, 1:00:00 PM",
        "1e400",
        float("inf"),
        -1e20,
        "0000-00-00T00:00:00Z",
        "Jan 01, 2019 0:00:00 PM",
    ],
)
def test_instant_examples(value: object) -> None:
    instant(value)


def test_truncated_gzip_keeps_what_it_can() -> None:
    lines = b"".join(
        f"2026-04-15T10:0{i}:00Z worker=w requestId=r{i} error=ExpiredToken\n".encode()
        for i in range(10)
    )
    blob = gzip.compress(lines)
    data, problem = decompress(blob[: len(blob) - 12])
    assert problem and "corrupt gzip" in problem
    events = _all(read_data("f", data))
    assert sum(isinstance(e, Use) for e in events) >= 9


@pytest.mark.parametrize(
    "doc",
    [
        b'{"Records": 5}',
        b'{"Records": [1, "x", null]}',
        b"[1,2]",
        b'{"Records": [{"eventTime": "2026-04-15T10:00:00Z", '
        b'"userIdentity": "x", "responseElements": []}]}',
    ],
)
def test_cloudtrail_odd_shapes(doc: bytes) -> None:
    events = _all(cloudtrail.read_document(doc, "f"))
    assert events


def test_boto3_stream_logger_format() -> None:
    """boto3.set_stream_logger writes '%(asctime)s %(name)s [%(levelname)s] %(message)s'."""
    lines = [
        "2026-04-15 10:02:00,001 botocore.endpoint [DEBUG] Making request for "
        "OperationModel(name=GetObject) with params: {}",
        "2026-04-15 10:02:00,002 botocore.endpoint [DEBUG] Sending http request: "
        "<AWSPreparedRequest stream_output=True, method=GET, url=https://b.s3.amazonaws.com/k, "
        "headers={'X-Amz-Date': b'20260415T100200Z', 'Authorization': b'AWS4-HMAC-SHA256 "
        "Credential=ASIAQXAMPLE000000001/20260415/us-east-1/s3/aws4_request, Signature=ab'}>",
        "2026-04-15 10:02:00,090 urllib3.connectionpool [DEBUG] https://b.s3.amazonaws.com:443 "
        '"GET /k HTTP/1.1" 400 None',
        "2026-04-15 10:02:00,091 botocore.parsers [DEBUG] Response body:",
        "b'<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message>"
        "</Error>'",
    ]
    assert detect("\n".join(lines).encode()) == "sdk-debug"
    [use] = _all(sdk_debug.read_lines([line.encode() for line in lines], "f"))
    assert isinstance(use, Use)
    assert (use.error, use.key, use.service, use.operation) == (
        "ExpiredToken",
        "ASIAQXAMPLE000000001",
        "s3",
        "GetObject",
    )
    assert use.signed_at is not None and use.at.isoformat().startswith("2026-04-15T10:02:00")


@given(
    st.text(alphabet="0123456789/:+- JanFebDecapr٠x", min_size=20, max_size=28)
    | st.builds(
        lambda d, m, y, t, z: f"{d:02d}/{m}/{y:04d}:{t} {z}",
        st.integers(0, 40),
        st.sampled_from(["Jan", "feb", "Xyz", "Dec"]),
        st.integers(0, 9999),
        st.from_regex(r"\d\d:\d\d:\d\d", fullmatch=True),
        st.from_regex(r"[+-]\d{4}", fullmatch=True),
    )
)
def test_s3_time_fast_path_agrees_with_the_pattern(text: str) -> None:
    assert times.s3_time(text) == times.s3_time_by_pattern(text)


def test_one_record_of_an_odd_shape_is_reported_alone() -> None:
    """Records are decoded as a list; one that does not fit is reported by its index and the
    field that did not fit, and the records around it are still read."""

    def failing(when: str) -> dict[str, object]:
        return {
            "eventTime": when,
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "errorCode": "ExpiredToken",
            "userIdentity": {"accessKeyId": "ASIAQXAMPLE000000001", "arn": "arn:aws:sts::1:x"},
        }

    odd = {"eventTime": "2026-04-15T10:01:00Z", "userIdentity": {"sessionContext": 7}}
    doc = {"Records": [failing("2026-04-15T10:00:00Z"), odd, failing("2026-04-15T10:02:00Z")]}
    events = _all(cloudtrail.read_document(json.dumps(doc).encode(), "f"))
    [bad] = [e for e in events if isinstance(e, Unreadable)]
    assert bad.origin == "f#Records[1]"
    assert "$.userIdentity.sessionContext" in bad.message
    uses = [e for e in events if isinstance(e, Use)]
    assert [(u.origin, u.error, u.key) for u in uses] == [
        ("f#Records[0]", "ExpiredToken", "ASIAQXAMPLE000000001"),
        ("f#Records[2]", "ExpiredToken", "ASIAQXAMPLE000000001"),
    ]
