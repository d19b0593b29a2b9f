"""Differential: whatever boto3's own signer produces, credaudit verifies; any one-character
change to the signed part of the URL is rejected.

boto3 is the reference signer here.  Regions, services, both S3 addressing styles, SigV4 and
SigV2 (``s3``, botocore's and the AWS CLI v1's default for presigned S3 URLs), object and
bucket operations, sub-resources and ``response-*`` overrides, object keys with unicode and
reserved characters, with and without session tokens.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from functools import lru_cache
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credaudit.presign.parse import EKS_TOKEN_PREFIX, parse
from credaudit.presign.verify import verify

SECRET = "wJalr/K7MD+ENG=bPxRfi"
REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "sa-east-1"]


@lru_cache(maxsize=128)
def _client(service: str, region: str, style: str, token: str | None, version: str = "s3v4") -> Any:
    session = boto3.session.Session(
        aws_access_key_id="ASIAY34FZKBOKMUTVV7A" if token else "AKIAY34FZKBOKMUTVV7A",
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        region_name=region,
    )
    if service != "s3":
        return session.client(service)
    config = Config(signature_version=version, s3={"addressing_style": style})
    return session.client(service, config=config)


OBJECT_KEYS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
)
S3_METHODS = ["get_object", "put_object", "head_object", "delete_object"]
EXPECTED_METHOD = {
    "get_object": "GET",
    "put_object": "PUT",
    "head_object": "HEAD",
    "delete_object": "DELETE",
}
# Bucket operations (a path naming only the bucket) and sub-resources SigV2 signs.
S3_BUCKET_OPERATIONS = [
    ("list_objects_v2", {"Prefix": "p/ü x"}, "GET"),
    ("list_objects", {}, "GET"),
    ("get_bucket_acl", {}, "GET"),
]
OTHER = [
    ("sts", "get_caller_identity", {}),
    ("ec2", "describe_regions", {}),
    ("sns", "list_topics", {"NextToken": "a b/ç~*'()"}),
    # a path of its own, normalised (not S3), and a unicode query value with '&' in it
    (
        "polly",
        "synthesize_speech",
        {"Text": "héllo & wörld", "OutputFormat": "mp3", "VoiceId": "Joanna"},
    ),
]
# Auth tokens botocore writes as presigned URLs without a scheme (RDS IAM auth, Aurora DSQL).
TOKENS = ["rds", "dsql"]


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, str | None]:
    region = draw(st.sampled_from(REGIONS))
    token = draw(st.sampled_from([None, "FwoGZXIvYXdzE+/=tok", "IQoJb3JpZ2luX2VjEJr//////////wE="]))
    if draw(st.booleans()):
        style = draw(st.sampled_from(["virtual", "path"]))
        version = draw(st.sampled_from(["s3v4", "s3"]))
        bucket = draw(st.sampled_from(["bkt", "my.dotted.bucket", "a-b-c-123"]))
        client = _client("s3", region, style, token, version)
        expires = draw(st.integers(1, 604800))
        if draw(st.integers(0, 3)) == 0:
            operation, extra, expected = draw(st.sampled_from(S3_BUCKET_OPERATIONS))
            params = {"Bucket": bucket, **extra}
        else:
            operation = draw(st.sampled_from(S3_METHODS))
            expected = EXPECTED_METHOD[operation]
            params = {"Bucket": bucket, "Key": draw(OBJECT_KEYS)}
            if operation == "get_object" and draw(st.booleans()):
                params["ResponseContentDisposition"] = 'attachment; filename="a b;ü.txt"'
                params["VersionId"] = "3/L4kqtJl40Nr8X8gdRQBpUMLUo"
        url = client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)
        return url, expected
    if draw(st.integers(0, 3)) == 0:
        service = draw(st.sampled_from(TOKENS))
        client = _client(service, region, "virtual", token)
        if service == "rds":
            host = draw(st.sampled_from(["db.abc.rds.amazonaws.com", "10.0.0.7"]))
            return client.generate_db_auth_token(host, 5432, "admin ü"), "GET"
        return client.generate_db_connect_admin_auth_token("abc.dsql.on.aws"), "GET"
    service, operation, params = draw(st.sampled_from(OTHER))
    client = _client(service, region, "virtual", token)
    return client.generate_presigned_url(operation, Params=params, ExpiresIn=900), None


def _signed_spans(url: str) -> list[tuple[int, int]]:
    """Where a one-character change must break the signature.  SigV4 signs the host, the
    path and the whole query.  SigV2 signs neither the host (beyond a virtual-host bucket)
    nor the parameters that are not sub-resources: its spans are the path and the values
    of Expires, Signature, the token and the signed sub-resources."""
    start = url.index("://") + 3 if "://" in url else 0  # RDS / DSQL tokens: no scheme
    if "X-Amz-Signature=" in url or "X-Amz-Credential=" in url:
        return [(start, len(url))]
    path_start = url.index("/", start)
    query_start = url.index("?", path_start)
    spans = [(path_start + 1, query_start)] if query_start > path_start + 1 else []
    offset = query_start + 1
    for item in url[query_start + 1 :].split("&"):
        name, _, value = item.partition("=")
        if value and (
            name in ("Expires", "Signature", "x-amz-security-token", "versionId", "acl")
            or name.startswith("response-")
        ):
            spans.append((offset + len(name) + 1, offset + len(item)))
        offset += len(item) + 1
    return spans


def _mutations(url: str, data: st.DataObject) -> list[str]:
    """One-character changes anywhere the signature covers (not the unsigned scheme)."""
    spans = _signed_spans(url)
    out = []
    for _ in range(6):
        # Draws whose bounds do not depend on the URL: it is signed at the current second,
        # and a SigV2 URL's length moves with its signature's escapes, so bounds taken from
        # it would change between hypothesis's replays (a flaky strategy).
        first, end = spans[data.draw(st.integers(0, 63)) % len(spans)]
        i = first + data.draw(st.integers(0, 2**16)) % (end - first)
        original = url[i]
        # A fixed choice, then moved off the original.
        replacement = data.draw(st.sampled_from("0379xyz"))
        if replacement == original.lower():
            replacement = "w"
        out.append(url[:i] + replacement + url[i + 1 :])
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls(), st.data())
def test_boto3_urls_verify_and_mutations_fail(
    generated: tuple[str, str | None], data: st.DataObject
) -> None:
    url, method = generated
    parsed = parse(url)
    assert not parsed.problems, (url, parsed.problems)
    verdict = verify(parsed, SECRET)
    assert verdict.valid is True, (url, verdict)
    if method:
        assert verdict.method == method
    if parsed.has_token:
        assert verdict.token_signed is True
    assert verify(parsed, SECRET + "x").valid is False
    for mutated in _mutations(url, data):
        result = verify(parse(mutated), SECRET)
        # Rejected: a mismatch, or not checkable at all.  The one accepted shape is the
        # suite's post-sts-header-after: a non-S3 URL whose token is reported as unsigned.
        assert result.valid is not True or result.token_signed is False, (url, mutated, result)


def test_canonical_query_orders_keys_that_prefix_each_other_as_botocore() -> None:
    """Keys where one is the start of another ("a" and "a-b", "a.b", "a0", "a~") sort by key
    first, as botocore's canonical query does: the bytes sort must not let "=" decide."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from credaudit.presign.verify import canonical_query

    items = ["a~=1", "a0=2", "a.b=3", "a-b=4", "a=5", "a=", "A=6", "a%2A=7", "X-Amz-Signature=f"]
    signer = SigV4QueryAuth(Credentials("AKIDEXAMPLE", "secret"), "s3", "us-east-1")
    request = AWSRequest(method="GET", url="https://h.example/?" + "&".join(items[:-1]))
    ours = canonical_query("&".join(items)).decode()
    assert ours == signer.canonical_query_string(request)
    assert ours.startswith("A=6&a=&a=5&a%2A=7&a-b=4&a.b=3&a0=2&a~=1")


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("a=b%2fc&B=1", "B=1&a=b%2Fc"),  # lower-case escape: re-encoded upper
        ("k&a=1", "a=1&k="),  # a bare key signs as "k="
        ("a=x=y&b=2", "a=x%3Dy&b=2"),  # "=" inside a value
        ("a=%zz&b=%E1%88", "a=%25zz&b=%E1%88"),  # "%" that starts no escape
        ("a=%4", "a=%254"),  # an escape cut short at the end
        ("a=b+c&c=d%20e", "a=b%2Bc&c=d%20e"),  # "+" is a plus, not a space
        ("a=%C3%A9&b=é", "a=%C3%A9&b=%C3%A9"),  # raw non-ASCII
        ("a\0b=1&c=2", "a%00b=1&c=2"),  # NUL (the sort's stand-in for "=")
        ("x=1&X-Amz-Signature=ab&a=", "a=&x=1"),  # the signature is left out
        ("X-Amz-Signature", ""),  # ... even without "="
        ("a=1&a=0", "a=0&a=1"),  # one key twice: by value
        ("=&=", "=&="),
    ],
)
def test_canonical_query_re_encodes_what_is_not_aws_encoded(query: str, canonical: str) -> None:
    """The whole-query check lets through only an AWS-encoded query; every other shape is
    re-encoded item by item (the aws-c-auth suite's decode and encode)."""
    from credaudit.presign.verify import canonical_query

    assert canonical_query(query) == canonical.encode()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=2048))
def test_keyed_hmac_is_the_standard_librarys(key: bytes, message: bytes) -> None:
    """The verifier's HMAC-SHA256 from two copied hash states equals ``hmac.digest``, for
    every key up to one block (a SigV4 signing key is 32 bytes) and any message."""
    import hashlib
    import hmac

    from credaudit.presign.verify import hmac_hex, keyed

    state = keyed(key)
    assert hmac_hex(state, message) == hmac.digest(key, message, hashlib.sha256).hex()
    assert hmac_hex(state, message) == hmac_hex(state, message)  # the states are not spent


def test_keyed_refuses_keys_longer_than_a_block() -> None:
    from credaudit.presign.verify import keyed

    with pytest.raises(ValueError, match="hashed first"):
        keyed(b"k" * 65)


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_bucket_listing_verifies_with_the_slash_s3_signs(style: str) -> None:
    """Found by the differential test: a path-style ListObjects URL names ``/bkt`` and is
    signed over ``/bkt/`` (botocore's authPath); the path as written does not verify."""
    client = _client("s3", "us-east-1", style, "FwoGZXIvYXdzE+/=tok", "s3")
    url = client.generate_presigned_url("list_objects_v2", Params={"Bucket": "bkt"})
    parsed = parse(url)
    verdict = verify(parsed, SECRET)
    assert (verdict.valid, verdict.method, verdict.token_signed) == (True, "GET", True), url
    assert verify(parse(url.replace("bkt", "bku", 1)), SECRET).valid is False


def _eks_token(url: str) -> str:
    return EKS_TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def test_eks_token_as_botocore_signs_it() -> None:
    """An EKS token as the AWS CLI builds one (awscli/customizations/eks/get_token.py): an
    STS GetCallerIdentity URL presigned for 60 s with the cluster name as a signed header,
    base64url without padding.  It lives 15 minutes from X-Amz-Date, not 60 s."""
    sts = _client("sts", "us-west-2", "virtual", "FwoGZXIvYXdzE+/=tok")
    request = {
        "method": "GET",
        "url": "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        "body": {},
        "headers": {"x-k8s-aws-id": "blue"},
        "context": {},
    }
    url = sts._request_signer.generate_presigned_url(
        request, region_name="us-west-2", expires_in=60, operation_name=""
    )
    parsed = parse(_eks_token(url))
    assert not parsed.problems and parsed.service == "sts"
    assert parsed.signed_at is not None and parsed.expires_seconds == 60
    assert parsed.expires_at == parsed.signed_at + timedelta(minutes=15)
    assert verify(parsed, SECRET, headers={"x-k8s-aws-id": "blue"}).valid is True
    assert verify(parsed, SECRET, headers={"x-k8s-aws-id": "blua"}).valid is False

    s3 = _client("s3", "us-west-2", "virtual", None)
    wrapped = parse(
        _eks_token(s3.generate_presigned_url("get_object", {"Bucket": "b", "Key": "k"}))
    )
    assert ("CA307", "k8s-aws-v1. token signs 's3', not sts") in wrapped.problems
