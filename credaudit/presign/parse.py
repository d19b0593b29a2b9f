"""Parse a presigned URL (SigV4, SigV4A, SigV2) into plain data, fast and without raising.

Bulk checks run this on millions of lines, so the hot path avoids pydantic and ``parse_qs``
(which would percent-decode the ~1 KB session token on every URL): the query is split on
``&`` and ``=`` and only the few values credaudit reads are decoded.  Anything wrong with
the URL becomes a ``(code, message)`` problem on the result (CA307 malformed, CA305 bad
expiry) instead of an exception, so one bad line never stops a stream.

The raw query pairs are kept for signature verification; the session token among them is
a secret, so the pairs and the raw URL are excluded from ``repr`` and never rendered — the
report shows ``elided_url`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from credaudit.keys import mask_key

SIGV4 = "AWS4-HMAC-SHA256"
SIGV4A = "AWS4-ECDSA-P256-SHA256"
SIGV2 = "AWS-HMAC-SHA1-QUERY"  # SigV2 query auth has no algorithm parameter: our label

MAX_EXPIRES = 604800  # S3: "X-Amz-Expires … must be less than a week (604800 seconds)"

# Query parameters whose values are secrets or signatures: elided when the URL is echoed.
ELIDED_PARAMS = frozenset(
    {
        "x-amz-signature",
        "signature",
        "x-amz-security-token",
        "x-amz-s3session-token",
    }
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
_WATCHED = frozenset((*_V4_REQUIRED, *_V2_REQUIRED, "X-Amz-Region-Set", *TOKEN_PARAMS))
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+?)\.(?:s3|s3-[a-z0-9-]+|s3-accesspoint|s3express)[.-]")
_S3_HOST = re.compile(r"(?:^|\.)s3(?:[.-][a-z0-9.-]*)?\.amazonaws\.com(?:\.cn)?(?::\d+)?$")


@dataclass(slots=True, eq=False)
class ParsedUrl:
    """What one presigned URL says about itself.  No secret is printed from here."""

    url: str = field(repr=False)
    scheme: str = ""
    host: str = ""
    path: str = ""
    query: str = field(default="", repr=False)
    # Every query pair as written (raw, undecoded): for the verifier only.
    pairs: list[tuple[str, str]] = field(default_factory=list, repr=False)
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
    addressing_style: str | None = None
    bucket: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_token(self) -> bool:
        return self.token_param is not None

    @property
    def is_s3(self) -> bool:
        """S3 semantics (verbatim path, unsigned payload): by scope service, or by host."""
        return (
            self.service in S3_SERVICES
            or self.algorithm == SIGV2
            or _S3_HOST.search(self.host) is not None
        )


@lru_cache(maxsize=4096)
def parse_amz_date(text: str) -> datetime | None:
    """``20261122T032300Z`` → aware datetime; cached because bulk URLs share dates."""
    if _AMZ_DATE.fullmatch(text) is None:
        return None
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[9:11]),
            int(text[11:13]),
            int(text[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)
def _epoch(seconds: int) -> datetime | None:
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _decode(value: str) -> str:
    return unquote(value) if "%" in value else value


def _is_int(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 15


def parse(url: str) -> ParsedUrl:
    """Parse one URL; never raises.  Problems are (code, message) pairs on the result."""
    result = ParsedUrl(url=url)
    text = url.strip()
    if not text:
        result.problems.append(("CA307", "empty URL"))
        return result
    if "://" not in text[:16]:
        text = "https://" + text  # RDS / DSQL auth tokens are presigned URLs without a scheme
    try:
        split = urlsplit(text)
        host = (split.hostname or "").lower()
        port = split.port
    except ValueError as exc:
        result.problems.append(("CA307", f"not a URL: {exc}"))
        return result
    result.scheme = split.scheme
    if port is not None and not (
        (port == 443 and split.scheme == "https") or (port == 80 and split.scheme == "http")
    ):
        host = f"{host}:{port}"
    result.host = host
    result.path = split.path or "/"
    result.query = split.query
    if not host:
        result.problems.append(("CA307", "URL has no host"))
        return result
    if not split.query:
        result.problems.append(("CA307", "URL has no query string: not a presigned URL"))
        return result

    pairs = result.pairs
    params = result.params
    duplicated: list[str] = []
    for item in split.query.split("&"):
        key, _, value = item.partition("=")
        pairs.append((key, value))
        if "%" in key:
            key = unquote(key)
        if key in _WATCHED:
            if key in params:
                duplicated.append(key)
            params[key] = value
    for key in duplicated:
        result.problems.append(("CA307", f"query parameter {key} appears more than once"))

    token_param = next((p for p in TOKEN_PARAMS if p in params), None)
    result.token_param = token_param

    if "X-Amz-Algorithm" in params or "X-Amz-Credential" in params:
        _parse_v4(result, params)
    elif "AWSAccessKeyId" in params or "Signature" in params or "Expires" in params:
        _parse_v2(result, params)
    else:
        result.problems.append(
            ("CA307", "no X-Amz-Algorithm or AWSAccessKeyId parameter: not a presigned URL")
        )
    _addressing(result)
    return result


def _parse_v4(result: ParsedUrl, params: dict[str, str]) -> None:
    missing = [p for p in _V4_REQUIRED if p not in params]
    algorithm = _decode(params.get("X-Amz-Algorithm", ""))
    if algorithm and algorithm not in (SIGV4, SIGV4A):
        result.problems.append(("CA307", f"unknown X-Amz-Algorithm {algorithm[:40]!r}"))
        algorithm = SIGV4 if "X-Amz-Region-Set" not in params else SIGV4A
    elif not algorithm:
        algorithm = SIGV4A if "X-Amz-Region-Set" in params else SIGV4
    result.algorithm = algorithm
    if algorithm == SIGV4A and "X-Amz-Region-Set" not in params:
        missing.append("X-Amz-Region-Set")
    if missing:
        result.problems.append(("CA307", "missing required parameter " + ", ".join(missing)))

    credential = params.get("X-Amz-Credential")
    if credential is not None:
        parts = _decode(credential).split("/")
        want = 4 if algorithm == SIGV4A else 5
        if len(parts) != want or parts[-1] != "aws4_request" or not parts[0]:
            result.problems.append(
                (
                    "CA307",
                    f"X-Amz-Credential is not <key>/<date>/{'' if want == 4 else '<region>/'}"
                    "<service>/aws4_request",
                )
            )
        if parts and parts[0]:
            result.access_key_id = parts[0]
        if len(parts) == want:
            result.credential_date = parts[1]
            if algorithm == SIGV4A:
                result.service = parts[2]
            else:
                result.region, result.service = parts[2], parts[3]
    if algorithm == SIGV4A and "X-Amz-Region-Set" in params:
        result.region_set = _decode(params["X-Amz-Region-Set"])
        result.region = result.region_set

    amz_date = params.get("X-Amz-Date")
    if amz_date is not None:
        signed_at = parse_amz_date(amz_date)
        if signed_at is None:
            result.problems.append(("CA307", "X-Amz-Date is not YYYYMMDDTHHMMSSZ"))
        else:
            result.signed_at = signed_at
            result.amz_date = amz_date
            if result.credential_date and result.credential_date != amz_date[:8]:
                result.problems.append(
                    ("CA307", "X-Amz-Credential date differs from the X-Amz-Date day")
                )

    expires = params.get("X-Amz-Expires")
    if expires is not None:
        result.expires_raw = expires
        if not _is_int(expires):
            result.problems.append(("CA305", "X-Amz-Expires is not an integer"))
        else:
            seconds = int(expires)
            result.expires_seconds = seconds
            if not 1 <= seconds <= MAX_EXPIRES:
                result.problems.append(
                    ("CA305", f"X-Amz-Expires={seconds} is outside 1..{MAX_EXPIRES}")
                )
            if result.signed_at is not None:
                result.expires_at = result.signed_at + timedelta(seconds=seconds)

    signed = params.get("X-Amz-SignedHeaders")
    if signed is not None:
        names = tuple(_decode(signed).lower().split(";"))
        if "host" not in names or any(not n for n in names):
            result.problems.append(("CA307", "X-Amz-SignedHeaders does not include host"))
        result.signed_headers = names
    signature = params.get("X-Amz-Signature")
    if signature is not None:
        if algorithm == SIGV4 and (
            len(signature) != 64 or not all(c in "0123456789abcdef" for c in signature)
        ):
            result.problems.append(("CA307", "X-Amz-Signature is not 64 lowercase hex digits"))
        result.signature = signature


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
    expires = params.get("Expires")
    if expires is not None:
        result.expires_raw = expires
        if not _is_int(expires):
            result.problems.append(("CA305", "Expires is not an epoch integer"))
        else:
            result.expires_at = _epoch(int(expires))
            if result.expires_at is None:
                result.problems.append(("CA305", "Expires is out of range"))
    signature = params.get("Signature")
    if signature is not None:
        result.signature = _decode(signature)


def _addressing(result: ParsedUrl) -> None:
    """Virtual-host or path style, for S3 URLs (the signature depends on it)."""
    if not result.is_s3:
        return
    host = result.host.split(":", 1)[0]
    match = _VIRTUAL_HOST.match(host)
    if match is not None:
        result.addressing_style = "virtual-host"
        result.bucket = match.group("bucket")
        return
    result.addressing_style = "path"
    segment = result.path.lstrip("/").split("/", 1)[0]
    result.bucket = _decode(segment) or None


def elide(url: str, pairs: list[tuple[str, str]] | None = None) -> str:
    """The URL with signature and token values replaced by ``…``, safe to print."""
    base, sep, query = url.partition("?")
    if not sep:
        return url
    query, hash_sep, _fragment = query.partition("#")
    out = []
    for item in query.split("&"):
        key, _eq, _value = item.partition("=")
        name = unquote(key).lower() if "%" in key else key.lower()
        if name in ELIDED_PARAMS:
            out.append(f"{key}=…")
        elif name == "awsaccesskeyid":
            out.append(f"{key}={mask_key(_decode(_value))}")
        elif name == "x-amz-credential":
            akid, slash, scope = _decode(_value).partition("/")
            out.append(f"{key}={mask_key(akid)}{slash}{scope}")
        else:
            out.append(item)
    # A fragment is never sent, and anything may hide in it: it is never echoed.
    return base + "?" + "&".join(out) + ("#…" if hash_sep else "")
