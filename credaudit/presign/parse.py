"""Parse a presigned URL (SigV4, SigV4A, SigV2) into plain data, without raising.

This is the public reader of presigned URLs: ``credaudit url`` calls it per line, and the
incident readers call it on URLs found in logs.  ``parse(url) -> ParsedUrl`` is stable;
problems are ``(code, message)`` pairs on the result (CA307 malformed, CA305 bad expiry), so
one bad line never stops a stream.

Real traffic never repeats a query (each URL has its own date, key and signature), so the one
path is simply cheap: one pass over the query's ``&``-separated items reads the parameters and
writes the echo with secrets hidden, nothing is percent-decoded but the credential scope, and
the expiry is arithmetic.  What does repeat is cached: per signing key, what the algorithm and
credential say; per endpoint (a bucket's host, or a region's), the host checks and whether it
names S3 and which bucket.

The raw query is kept for signature verification; the session token in it is a secret, so
it and the raw URL are excluded from ``repr`` and never rendered — the report shows
``elided`` only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote

from credaudit.eks import EKS_TOKEN_LIFETIME, EKS_TOKEN_PREFIX
from credaudit.keys import mask_key

SIGV4 = "AWS4-HMAC-SHA256"
SIGV4A = "AWS4-ECDSA-P256-SHA256"
SIGV2 = "AWS-HMAC-SHA1-QUERY"  # SigV2 query auth has no algorithm parameter: our label
# CloudFront signed URLs (Expires or Policy, Signature, Key-Pair-Id): RSA, SHA-1 unless
# Hash-Algorithm=SHA256 (CloudFront DG, "Create a signed URL using a canned policy").  Labels.
CLOUDFRONT = "CLOUDFRONT-RSA-SHA1"
CLOUDFRONT_SHA256 = "CLOUDFRONT-RSA-SHA256"
CLOUDFRONT_ALGORITHMS = (CLOUDFRONT, CLOUDFRONT_SHA256)
AddressingStyle = Literal["virtual-host", "path"]  # how an S3 URL names its bucket

MAX_EXPIRES = 604800  # S3: "X-Amz-Expires … must be less than a week (604800 seconds)"


# Query parameters whose values are secrets or signatures: elided when the URL is echoed.
ELIDED_PARAMS = frozenset(
    {"x-amz-signature", "signature", "x-amz-security-token", "x-amz-s3session-token"}
)
TOKEN_PARAMS = ("X-Amz-Security-Token", "x-amz-security-token", "X-Amz-S3session-Token")
S3_SERVICES = frozenset({"s3", "s3-object-lambda", "s3express", "s3-outposts"})

_V4_REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_V2_REQUIRED = ("AWSAccessKeyId", "Expires", "Signature")
_WATCHED = frozenset(
    (*_V4_REQUIRED, *_V2_REQUIRED, "X-Amz-Region-Set", "X-Amz-Content-Sha256", *TOKEN_PARAMS)
)
_HEX_DIGITS = b"0123456789abcdef"
_VIRTUAL_HOST = re.compile(r"(?P<bucket>.+?)\.(?:s3|s3-[a-z0-9-]+|s3-accesspoint|s3express)[.-]")
_S3_HOST = re.compile(r"(?:^|\.)s3(?:[.-][a-z0-9.-]*)?\.amazonaws\.com(?:\.cn)?(?::\d+)?$")
_HOST = re.compile(r"[^\s/?#@\[\]]+|\[[0-9A-Fa-f:.]+\]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
HOST_ONLY = ("host",)

# Names whose values are elided (secrets, signatures) or masked (key ids) when echoed, in
# any spelling; _HIDE_EXACT holds the spellings SDKs write.
_ELIDE, _MASK = 1, 2
_ACTIONS_ANY_CASE = {
    **dict.fromkeys(ELIDED_PARAMS, _ELIDE),
    **dict.fromkeys(("awsaccesskeyid", "x-amz-credential"), _MASK),
}
_HIDE_EXACT = {
    name: _ACTIONS_ANY_CASE[name.lower()]
    for name in sorted(_WATCHED)
    if name.lower() in _ACTIONS_ANY_CASE
}
_SENSITIVE_START = frozenset("xXsSaA%")  # other spellings of sensitive names start so


@dataclass(eq=False, init=False)
class ParsedUrl:
    """What one presigned URL says about itself.  No secret is printed from here.

    Only ``parse`` builds one: it takes the URL, and every field but the two containers is
    its class default until ``parse`` sets it.  A generated ``__init__`` would store all 25
    defaults per URL for ``parse`` to overwrite most of them (0.2 µs of the 10 a URL costs).
    """

    url: str = field(repr=False)
    scheme: str = ""
    host: str = ""
    path: str = ""
    # The query as written (the token in it): for the verifier.
    query: str = field(default="", repr=False)
    # Every parameter, raw as written (the last of a repeated name; a watched name written
    # in another spelling is also filed under its own).
    params: dict[str, str] = field(default_factory=dict, repr=False)
    algorithm: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    credential_date: str | None = None
    region: str | None = None
    service: str | None = None
    region_set: str | None = None
    signed_at: datetime | None = None
    amz_date: str | None = None
    expires_seconds: int | None = None
    expires_at: datetime | None = None
    expires_raw: str | None = field(default=None, repr=False)
    signed_headers: tuple[str, ...] = ()
    signature: str | None = field(default=None, repr=False)
    token_param: str | None = None
    addressing_style: AddressingStyle | None = None
    bucket: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    # The URL as it may be echoed: signature and token values elided, key ids masked.
    elided: str | None = None
    # S3 semantics (verbatim path, unsigned payload): by scope service, SigV2, or host.
    is_s3: bool = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.params = {}
        self.problems = []

    @property
    def has_token(self) -> bool:
        return self.token_param is not None


def _decode(value: str) -> str:
    """``unquote(value)``.  The commonest escaped values are base64 (SigV2 and CloudFront
    signatures), whose only escapes are ``%2F``, ``%2B`` and ``%3D``: replaced, at a tenth of
    ``unquote``'s cost.  When no ``%`` is left every escape was one of those, so the result
    is ``unquote``'s (the replacements write no ``%``); otherwise ``unquote`` decodes."""
    if "%" not in value:
        return value
    text = value.replace("%2F", "/").replace("%2B", "+").replace("%3D", "=")
    return text if "%" not in text else unquote(value)


def _is_int(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 15


def parse_amz_date(text: str) -> datetime | None:
    """``20261122T032300Z`` → aware datetime, or None when it is not that shape.

    The calendar is checked by ``fromisoformat``, in C: a tenth of the cost of building the
    instant by hand.  It also takes other ISO forms, which the shape check here refuses:
    every form of that length but this one has a ``-`` or ``:``, or (a week date,
    ``2026W471T…``) a ``W`` after the year.  Letters and separators in the other places
    are refused by ``fromisoformat`` itself (a test tries every one- and two-letter
    substitution); checking characters rather than slicing costs half as much."""
    if not (
        len(text) == 16
        and text[8] == "T"
        and text[15] == "Z"
        and text[4] != "W"
        and text.isalnum()
        and text.isascii()
    ):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# The per-endpoint and per-signing-key caches take values up to this long: real hosts (253
# characters at most) and credential scopes are far shorter, and a hostile line of 64 KiB
# must not be kept 1,024 times.  A longer value is worked out uncached.
CACHED_UP_TO = 300


@lru_cache(maxsize=1024)
def _endpoint(scheme: str, netloc: str) -> tuple[str, str, bool, str | None] | str:
    """(scheme, host as compared, whether it names S3, the bucket of a virtual-host name) of
    a URL's scheme and host[:port], or the problem with them.

    One entry per endpoint (a bucket's host, or a region's for path style), which every URL
    to that bucket or region shares; the URL's own parts are never cached."""
    if netloc.startswith("["):
        close = netloc.find("]")
        host, port = netloc[: close + 1], netloc[close + 1 :]
        port = port[1:] if port.startswith(":") else port if close >= 0 else "x"
    else:
        host, _, port = netloc.partition(":")
    if not host or _HOST.fullmatch(host) is None:
        return "URL has no valid host"
    host = host.lower()
    scheme = scheme.lower()
    if port:
        if not (port.isascii() and port.isdigit() and int(port) <= 65535):
            return "URL has an invalid port"
        if not ((port == "443" and scheme == "https") or (port == "80" and scheme == "http")):
            host = f"{host}:{port}"
    virtual = _VIRTUAL_HOST.match(host.partition(":")[0])
    bucket = None if virtual is None else virtual.group("bucket")
    return scheme, host, _S3_HOST.search(host) is not None, bucket


@lru_cache(maxsize=1024)
def _masked_item(key: str, value: str) -> str:
    """A key-id item as echoed (``X-Amz-Credential=ASIA…VV7A/…``): once per key."""
    akid, slash, scope = _decode(value).partition("/")
    return f"{key}={mask_key(akid)}{slash}{scope}"


def _masked(key: str, value: str) -> str:
    return (_masked_item if len(value) <= CACHED_UP_TO else _masked_item.__wrapped__)(key, value)


# The echo of the sensitive items as SDKs spell them: the elided ones as a constant, the
# key ids (None here) masked through _masked_item.
_ECHO_EXACT: dict[str, str | None] = {
    name: f"{name}=…" if action == _ELIDE else None for name, action in _HIDE_EXACT.items()
}


def _other_spelling(key: str, value: str, item: str) -> str:
    """The echo of an item whose name is not as SDKs write it: hidden when the name, decoded
    and in any case, is a sensitive one."""
    action = _ACTIONS_ANY_CASE.get(_decode(key).lower())
    if action is None:
        return item
    return _masked(key, value) if action == _MASK else f"{key}=…"


def parse(url: str) -> ParsedUrl:
    """Parse one URL; never raises.  Problems are (code, message) pairs on the result."""
    result = ParsedUrl(url)
    text = url.strip()
    # The query is cut first, so its bulk (the session token) is copied once.
    head, mark, query = text.partition("?")
    scheme, sep, rest = head.partition("://")
    if not sep:
        if text.startswith(EKS_TOKEN_PREFIX):
            return _eks_token(result, text[len(EKS_TOKEN_PREFIX) :])
        if not mark:  # not a URL: nothing of it is echoed (it may be some token)
            result.problems.append(
                ("CA307", "not a URL (no scheme, no query)" if text else "empty URL")
            )
            return result
        scheme, rest = "https", head  # RDS / DSQL auth tokens are URLs without a scheme
    if "#" in rest:  # a "?" after the "#" is the fragment's
        rest, fragment, _ = rest.partition("#")
        query = ""
    else:
        query, fragment, _ = query.partition("#")
    netloc, _, path = rest.partition("/")
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]  # userinfo is never echoed
    endpoint = (_endpoint if len(netloc) <= CACHED_UP_TO else _endpoint.__wrapped__)(scheme, netloc)
    if isinstance(endpoint, str):
        result.problems.append(("CA307", endpoint if text else "empty URL"))
        return result
    result.scheme, result.host, s3_host, virtual_bucket = endpoint
    result.path = path = f"/{path}"
    if not query:
        result.problems.append(("CA307", "URL has no query string: not a presigned URL"))
        return result

    # One pass over the items: the watched parameters, and the echo with sensitive values
    # hidden (SDK spellings by name; any other spelling of those names, decoded, too).
    result.query = query
    items = query.split("&")
    params = result.params
    echo, others = [], []
    for item in items:
        key, _, value = item.partition("=")
        params[key] = value
        if key in _ECHO_EXACT:
            echo.append(_ECHO_EXACT[key] or _masked(key, value))
        elif key not in _WATCHED and key[:1] in _SENSITIVE_START:
            others.append(key)
            echo.append(_other_spelling(key, value, item))
        else:
            echo.append(item)
    if len(params) < len(items):
        _repeated(result, items)
    for key in others:  # an encoded spelling of a watched name is read as that name
        name = _decode(key)
        if name != key and name in _WATCHED:
            if name in params:
                result.problems.append(("CA307", f"query parameter {name} appears more than once"))
            params[name] = params[key]
    result.elided = f"{endpoint[0]}://{netloc}{path}?{'&'.join(echo)}{'#…' if fragment else ''}"

    for name in TOKEN_PARAMS:
        if name in params:
            result.token_param = name
            break
    if "X-Amz-Algorithm" in params or "X-Amz-Credential" in params:
        _parse_v4(result, params)
    elif "Key-Pair-Id" in params:
        _parse_cloudfront(result, params)
    elif "AWSAccessKeyId" in params or "Signature" in params or "Expires" in params:
        _parse_v2(result, params)
    else:
        result.problems.append(
            ("CA307", "no X-Amz-Algorithm or AWSAccessKeyId parameter: not a presigned URL")
        )
    # Virtual-host or path style, for S3 URLs (the signature depends on it).
    if s3_host or result.algorithm == SIGV2 or result.service in S3_SERVICES:
        result.is_s3 = True
        if virtual_bucket is not None:
            result.addressing_style, result.bucket = "virtual-host", virtual_bucket
        else:
            result.addressing_style = "path"
            result.bucket = _decode(path.split("/", 2)[1]) or None  # path starts with "/"
    return result


def _eks_token(result: ParsedUrl, encoded: str) -> ParsedUrl:
    """An EKS token: the URL it holds, parsed, echoed with the prefix, and judged by the
    authenticator's 15 minutes after X-Amz-Date rather than by its X-Amz-Expires."""
    try:
        inner = base64.b64decode(encoded + "=" * (-len(encoded) % 4), b"-_", validate=True)
        url = inner.decode("utf-8")
    except (binascii.Error, ValueError):
        url = ""
    if "://" not in url:
        result.problems.append(("CA307", f"{EKS_TOKEN_PREFIX} token does not decode to a URL"))
        return result
    parsed = parse(url)
    parsed.url = result.url
    if parsed.elided is not None:
        parsed.elided = EKS_TOKEN_PREFIX + parsed.elided
    if parsed.service is not None and parsed.service != "sts":
        parsed.problems.append(
            ("CA307", f"{EKS_TOKEN_PREFIX} token signs {parsed.service[:40]!r}, not sts")
        )
    if parsed.signed_at is not None:
        parsed.expires_at = parsed.signed_at + EKS_TOKEN_LIFETIME
    return parsed


def _repeated(result: ParsedUrl, items: list[str]) -> None:
    """A watched parameter written twice is ambiguous (which one does S3 read?)."""
    seen: set[str] = set()
    for item in items:
        key = item.partition("=")[0]
        if key in seen and key in _WATCHED:
            result.problems.append(("CA307", f"query parameter {key} appears more than once"))
        seen.add(key)


@lru_cache(maxsize=1024)
def _scope(
    algorithm_raw: str | None, credential: str | None, region_set: bool
) -> tuple[str, tuple[str | None, ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """What a SigV4 URL's algorithm and credential say, once per signing key: the algorithm,
    (key id, date, region, service), and the problems with the algorithm and the credential."""
    algorithm = _decode(algorithm_raw or "")
    algorithm_problems: tuple[tuple[str, str], ...] = ()
    if algorithm and algorithm not in (SIGV4, SIGV4A):
        algorithm_problems = (("CA307", f"unknown X-Amz-Algorithm {algorithm[:40]!r}"),)
        algorithm = SIGV4A if region_set else SIGV4
    elif not algorithm:
        algorithm = SIGV4A if region_set else SIGV4
    sigv4a = algorithm == SIGV4A
    fields: tuple[str | None, ...] = (None, None, None, None)
    credential_problems: tuple[tuple[str, str], ...] = ()
    if credential is not None:
        parts = _decode(credential).split("/")
        want = 4 if sigv4a else 5
        if not (len(parts) == want and parts[-1] == "aws4_request" and parts[0]):
            region_part = "" if sigv4a else "<region>/"
            message = f"X-Amz-Credential is not <key>/<date>/{region_part}<service>/aws4_request"
            credential_problems = (("CA307", message),)
        if len(parts) == want:
            region = None if sigv4a else parts[2]
            fields = (parts[0] or None, parts[1], region, parts[-2])
        else:
            fields = (parts[0] or None, None, None, None)
    return algorithm, fields, algorithm_problems, credential_problems


def _parse_v4(result: ParsedUrl, params: dict[str, str]) -> None:
    problems = result.problems
    algorithm_raw, credential, amz_date, expires, signed, signature = map(params.get, _V4_REQUIRED)
    region_set = "X-Amz-Region-Set" in params
    short = len(credential or "") + len(algorithm_raw or "") <= CACHED_UP_TO
    algorithm, fields, algorithm_problems, credential_problems = (
        _scope if short else _scope.__wrapped__
    )(algorithm_raw, credential, region_set)
    result.algorithm = algorithm
    result.access_key_id, result.credential_date, result.region, result.service = fields
    if algorithm_problems:
        problems.extend(algorithm_problems)
    sigv4a = algorithm == SIGV4A
    if (  # ``None in (…)`` compares each str with None the long way: twice the cost
        algorithm_raw is None
        or credential is None
        or amz_date is None
        or expires is None
        or signed is None
        or signature is None
        or (sigv4a and not region_set)
    ):
        missing = [p for p in _V4_REQUIRED if p not in params]
        if sigv4a and not region_set:
            missing.append("X-Amz-Region-Set")
        problems.append(("CA307", "missing required parameter " + ", ".join(missing)))
    if credential_problems:
        problems.extend(credential_problems)
    if sigv4a and region_set:
        result.region = result.region_set = _decode(params["X-Amz-Region-Set"])

    if amz_date is not None:
        signed_at = parse_amz_date(amz_date)
        if signed_at is None:
            problems.append(("CA307", "X-Amz-Date is not YYYYMMDDTHHMMSSZ"))
        else:
            result.signed_at = signed_at
            result.amz_date = amz_date
            if result.credential_date and result.credential_date != amz_date[:8]:
                problems.append(("CA307", "X-Amz-Credential date differs from the X-Amz-Date day"))

    result.expires_raw = expires
    if expires is not None:
        if not _is_int(expires):
            problems.append(("CA305", "X-Amz-Expires is not an integer"))
        else:
            seconds = result.expires_seconds = int(expires)
            if not 1 <= seconds <= MAX_EXPIRES:
                problems.append(("CA305", f"X-Amz-Expires={seconds} is outside 1..{MAX_EXPIRES}"))
            if result.signed_at is not None:
                result.expires_at = result.signed_at + _SECOND * seconds  # timedelta(): ×1.3

    if signed == "host":
        result.signed_headers = HOST_ONLY
    elif signed is not None:
        names = result.signed_headers = tuple(_decode(signed).lower().split(";"))
        if "host" not in names or "" in names:
            problems.append(("CA307", "X-Amz-SignedHeaders does not include host"))

    result.signature = signature
    if signature is not None and algorithm == SIGV4 and not is_hex_digest(signature):
        problems.append(("CA307", "X-Amz-Signature is not 64 lowercase hex digits"))


def is_hex_digest(text: str) -> bool:
    """64 lowercase hex digits (``bytes.translate`` deletes them in C: a third of the cost
    of ``str.strip`` with the digits or a regex)."""
    return len(text) == 64 and text.isascii() and not text.encode().translate(None, _HEX_DIGITS)


def _parse_cloudfront(result: ParsedUrl, params: dict[str, str]) -> None:
    """A CloudFront signed URL: signed by a key group's RSA key, not by AWS credentials, so
    no session ends it.  It lives until its canned policy's ``Expires`` or its custom
    policy's ``DateLessThan``; the signature needs the public key, not a secret."""
    sha256 = params.get("Hash-Algorithm") == "SHA256"
    result.algorithm = CLOUDFRONT_SHA256 if sha256 else CLOUDFRONT
    result.service = "cloudfront"
    result.access_key_id = _decode(params["Key-Pair-Id"]) or None
    signature = params.get("Signature")
    result.signature = None if signature is None else _decode(signature)
    expires = result.expires_raw = params.get("Expires")
    policy = params.get("Policy")
    if signature is None or (expires is None and policy is None):
        result.problems.append(
            ("CA307", "a CloudFront signed URL needs Signature and Expires or Policy")
        )
    if policy is not None:
        until = _policy_expiry(policy)
        if isinstance(until, str):
            result.problems.append(("CA307", f"CloudFront Policy {until}"))
            return
        expires = result.expires_raw = str(until)
    if expires is not None:
        _epoch_expiry(result, expires, "Expires")


def cloudfront_base64(value: str) -> bytes | None:
    """A CloudFront ``Policy`` or ``Signature`` value as bytes: base64 with ``-_~`` written
    for ``+=/``, percent-decoded first; None when it is not that."""
    try:
        return base64.b64decode(_decode(value).translate(_CLOUDFRONT_ALPHABET), validate=True)
    except (binascii.Error, ValueError):
        return None


_CLOUDFRONT_ALPHABET = str.maketrans("-_~", "+=/")


def _policy_expiry(policy: str) -> int | str:
    """DateLessThan of a custom policy, or what is wrong with it."""
    raw = cloudfront_base64(policy)
    try:
        if raw is None:
            raise ValueError
        statement = json.loads(raw)["Statement"][0]
        until = statement["Condition"]["DateLessThan"]["AWS:EpochTime"]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return "is not base64 JSON with Statement[0].Condition.DateLessThan"
    if not isinstance(until, int) or isinstance(until, bool):
        return "DateLessThan is not an epoch integer"
    return until


def _epoch_expiry(result: ParsedUrl, expires: str, name: str) -> None:
    """``expires_at`` from an epoch-seconds parameter (SigV2, CloudFront), or its problem."""
    if not _is_int(expires):
        result.problems.append(("CA305", f"{name} is not an epoch integer"))
        return
    try:
        result.expires_at = _EPOCH + _SECOND * int(expires)  # timedelta(seconds=): ×2
    except OverflowError:
        result.problems.append(("CA305", f"{name} is out of range"))


def _parse_v2(result: ParsedUrl, params: dict[str, str]) -> None:
    result.algorithm = SIGV2
    result.service = "s3"
    missing = [p for p in _V2_REQUIRED if p not in params]
    if missing:
        result.problems.append(("CA307", "missing required parameter " + ", ".join(missing)))
    key = params.get("AWSAccessKeyId")
    if key:
        result.access_key_id = _decode(key)
    elif key is not None:
        result.problems.append(("CA307", "AWSAccessKeyId is empty"))
    expires = result.expires_raw = params.get("Expires")
    if expires is not None:
        _epoch_expiry(result, expires, "Expires")
    signature = params.get("Signature")
    if signature is not None:
        result.signature = _decode(signature)
