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
from json.encoder import encode_basestring
from urllib.parse import unquote

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
_WATCHED = frozenset(
    (*_V4_REQUIRED, *_V2_REQUIRED, "X-Amz-Region-Set", "X-Amz-Content-Sha256", *TOKEN_PARAMS)
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
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
    # The URL as it may be echoed: signature and token values elided, key ids masked.
    elided: str | None = None
    # S3 semantics (verbatim path, unsigned payload): by scope service, SigV2, or host.
    is_s3: bool = False
    # The query's "key=value" items as written (the token among them): for the verifier.
    items: list[str] = field(default_factory=list, repr=False)
    # Set by the fast path: identifies everything but the path and the signature value, so
    # ``analyze`` can reuse its verdict for the next URL that shares it (None: not cached).
    shape: tuple[object, ...] | None = field(default=None, repr=False)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every query pair as written (raw, undecoded): for the verifier only."""
        return [(k, v) for k, _, v in (item.partition("=") for item in self.items)]

    @property
    def has_token(self) -> bool:
        return self.token_param is not None


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


_HOST = re.compile(r"[^\s/?#@\[\]]+|\[[0-9A-Fa-f:.]+\]")
_SENSITIVE_START = frozenset("xXsSaA%")
_MASKED_PARAMS = frozenset({"awsaccesskeyid", "x-amz-credential"})
_WATCH, _ELIDE, _MASK = 1, 2, 4
_ACTIONS_ANY_CASE = {
    **{name: _ELIDE for name in ELIDED_PARAMS},
    **{name: _MASK for name in _MASKED_PARAMS},
}
# Exact spellings as SDKs write them: one dict lookup per query pair on the hot path.
_ACTIONS = {name: _WATCH | _ACTIONS_ANY_CASE.get(name.lower(), 0) for name in _WATCHED}


def _split(result: ParsedUrl, text: str) -> tuple[str, str, bool] | None:
    """Scheme, host, path and query by hand: ``urlsplit`` costs more than the rest of parse.

    Returns (origin as echoed, query, had fragment) or None after recording a problem.
    """
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "https", text  # RDS / DSQL auth tokens are URLs without a scheme
    rest, hash_sep, _fragment = rest.partition("#")
    before, _, query = rest.partition("?")
    slash = before.find("/")
    netloc, path = (before, "/") if slash < 0 else (before[:slash], before[slash:])
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]  # userinfo is never echoed
    if netloc.startswith("["):
        close = netloc.find("]")
        host, port = netloc[: close + 1], netloc[close + 1 :]
        port = port[1:] if port.startswith(":") else port if close >= 0 else "x"
    else:
        host, _, port = netloc.partition(":")
    if not host or _HOST.fullmatch(host) is None:
        result.problems.append(("CA307", "URL has no valid host"))
        return None
    host = host.lower()
    scheme = scheme.lower()
    if port:
        if not (port.isascii() and port.isdigit() and int(port) <= 65535):
            result.problems.append(("CA307", "URL has an invalid port"))
            return None
        if not ((port == "443" and scheme == "https") or (port == "80" and scheme == "http")):
            host = f"{host}:{port}"
    result.scheme = scheme
    result.host = host
    result.path = path
    result.query = query
    return f"{scheme}://{netloc}{path}", query, bool(hash_sep)


def parse(url: str) -> ParsedUrl:
    """Parse one URL; never raises.  Problems are (code, message) pairs on the result."""
    fast = _parse_fast(url)
    return fast if fast is not None else _parse_full(url)


def _parse_full(url: str) -> ParsedUrl:
    """The general parser: any text, any parameter order.  ``_parse_fast`` defers to it."""
    result = ParsedUrl(url=url)
    text = url.strip()
    if not text:
        result.problems.append(("CA307", "empty URL"))
        return result
    split = _split(result, text)
    if split is None:
        return result
    origin, query, fragment = split
    if not query:
        result.problems.append(("CA307", "URL has no query string: not a presigned URL"))
        return result

    params = result.params
    duplicated: list[str] = []
    # Echo spans: (start, end, replacement) in query coordinates; few per URL.
    spans: list[tuple[int, int, str]] = []
    pos = 0
    items = result.items = query.split("&")
    for item in items:
        key, _, value = item.partition("=")
        action = _ACTIONS.get(key, 0)
        if not action and key[:1] in _SENSITIVE_START:
            # Odd spellings: percent-encoded or differently-cased sensitive names.
            key = unquote(key) if "%" in key else key
            action = _ACTIONS_ANY_CASE.get(key.lower(), 0) | (_WATCH if key in _WATCHED else 0)
        if action:
            if action & _ELIDE:
                spans.append((pos + len(item) - len(value), pos + len(item), "…"))
            elif action & _MASK:
                spans.append(
                    (pos + len(item) - len(value), pos + len(item), _mask_credential(value))
                )
            if action & _WATCH:
                if key in params:
                    duplicated.append(key)
                params[key] = value
        pos += len(item) + 1
    pieces = [origin, "?"]
    last = 0
    for start, end, replacement in spans:
        if start <= end:
            pieces += (query[last:start], replacement)
            last = end
    pieces.append(query[last:])
    if fragment:
        pieces.append("#…")
    result.elided = "".join(pieces)
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


@lru_cache(maxsize=4096)
def _mask_credential(value: str) -> str:
    akid, slash, scope = _decode(value).partition("/")
    return f"{mask_key(akid)}{slash}{scope}"


@lru_cache(maxsize=4096)
def _credential(
    raw: str, sigv4a: bool
) -> tuple[str | None, str | None, str | None, str | None, bool]:
    """(key, date, region, service, well-formed) from X-Amz-Credential; cached per scope."""
    parts = _decode(raw).split("/")
    want = 4 if sigv4a else 5
    ok = len(parts) == want and parts[-1] == "aws4_request" and bool(parts[0])
    akid = parts[0] or None
    if len(parts) != want:
        return akid, None, None, None, ok
    if sigv4a:
        return akid, parts[1], None, parts[2], ok
    return akid, parts[1], parts[2], parts[3], ok


def _v4_into(result: ParsedUrl, params: dict[str, str]) -> None:
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
        sigv4a = algorithm == SIGV4A
        akid, date, region, service, ok = _credential(credential, sigv4a)
        if not ok:
            result.problems.append(
                (
                    "CA307",
                    "X-Amz-Credential is not <key>/<date>/"
                    + ("" if sigv4a else "<region>/")
                    + "<service>/aws4_request",
                )
            )
        result.access_key_id = akid
        result.credential_date = date
        result.region = region
        result.service = service
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


_V4_FIELDS = (
    "algorithm",
    "access_key_id",
    "credential_date",
    "region",
    "service",
    "region_set",
    "signed_at",
    "amz_date",
    "expires_seconds",
    "expires_at",
    "expires_raw",
    "signed_headers",
)
# The cache key: every SigV4 parameter but the signature, whose presence alone matters here
# (the order _parse_v4 builds it in).
_V4_KEYS_SIG = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Region-Set",
    "X-Amz-Signature",
)


@lru_cache(maxsize=4096)
def _v4_fields(
    values: tuple[str | None, ...],
) -> tuple[tuple[object, ...], tuple[tuple[str, str], ...]]:
    """Everything SigV4 query parameters say except the signature, cached: URLs issued in
    bulk share algorithm, credential scope, date, expiry and signed headers."""
    scratch = ParsedUrl(url="")
    _v4_into(scratch, {k: v for k, v in zip(_V4_KEYS_SIG, values, strict=True) if v is not None})
    return tuple(getattr(scratch, f) for f in _V4_FIELDS), tuple(scratch.problems)


def _parse_v4(result: ParsedUrl, params: dict[str, str]) -> None:
    get = params.get
    fields, problems = _v4_fields(
        (
            get("X-Amz-Algorithm"),
            get("X-Amz-Credential"),
            get("X-Amz-Date"),
            get("X-Amz-Expires"),
            get("X-Amz-SignedHeaders"),
            get("X-Amz-Region-Set"),
            "" if "X-Amz-Signature" in params else None,
        )
    )
    (
        result.algorithm,
        result.access_key_id,
        result.credential_date,
        result.region,
        result.service,
        result.region_set,
        result.signed_at,
        result.amz_date,
        result.expires_seconds,
        result.expires_at,
        result.expires_raw,
        result.signed_headers,
    ) = fields  # type: ignore[assignment]
    if problems:
        result.problems.extend(problems)
    algorithm = result.algorithm
    signature = params.get("X-Amz-Signature")
    if signature is not None:
        if algorithm == SIGV4 and _HEX64.fullmatch(signature) is None:
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


@lru_cache(maxsize=4096)
def _host_style(host: str, service: str | None, algorithm: str | None) -> tuple[bool, str | None]:
    """(S3 semantics?, virtual-host bucket or None): cached per host and scope."""
    is_s3 = service in S3_SERVICES or algorithm == SIGV2 or _S3_HOST.search(host) is not None
    if not is_s3:
        return False, None
    match = _VIRTUAL_HOST.match(host.split(":", 1)[0])
    return True, (match.group("bucket") if match is not None else None)


def _addressing(result: ParsedUrl) -> None:
    """Virtual-host or path style, for S3 URLs (the signature depends on it)."""
    is_s3, bucket = _host_style(result.host, result.service, result.algorithm)
    result.is_s3 = is_s3
    if not is_s3:
        return
    if bucket is not None:
        result.addressing_style = "virtual-host"
        result.bucket = bucket
        return
    result.addressing_style = "path"
    segment = result.path.lstrip("/").split("/", 1)[0]
    result.bucket = _decode(segment) or None


# --- The fast path -------------------------------------------------------------------------
#
# URLs issued in bulk differ only in their path and their signature: the query before
# ``X-Amz-Signature`` (algorithm, scope, date, expiry, signed headers, session token) repeats
# for every URL signed in the same second with the same session.  So the query head is parsed
# once by ``_parse_full`` (on a stand-in URL whose signature is a placeholder) and kept as a
# template; a URL that shares it costs a few string slices and one dict lookup.  Anything
# unusual — a fragment, userinfo, the signature not last, a host the full parser rejects —
# goes to ``_parse_full``, and a property test holds the two paths equal.

_SIG_SEP = "&X-Amz-Signature="
_PLACEHOLDER = "0" * 64
# Small on purpose: the working set of bulk input is the last few seconds' heads (~1 KB of
# token each), and templates are also kept alive by the verdict caches that key on them.
_CACHE_LIMIT = 256


class _Template:
    """What a query head says, parsed once: copied field by field into each URL's result."""

    __slots__ = ("elided", "elided_json", "fields", "items", "params", "problems", "sigv4", "v4")

    def __init__(self, head: str) -> None:
        stand_in = _parse_full(f"https://h/?{head}{_SIG_SEP}{_PLACEHOLDER}")
        self.fields = (
            stand_in.algorithm,
            stand_in.access_key_id,
            stand_in.credential_date,
            stand_in.region,
            stand_in.service,
            stand_in.region_set,
            stand_in.signed_at,
            stand_in.amz_date,
            stand_in.expires_seconds,
            stand_in.expires_at,
            stand_in.expires_raw,
            stand_in.signed_headers,
            stand_in.token_param,
        )
        self.items = stand_in.items[:-1]
        self.params = stand_in.params
        self.sigv4 = stand_in.algorithm == SIGV4
        # Only the SigV4/SigV4A branch reads X-Amz-Signature as the signature; SigV2 and
        # junk queries take the full path.
        self.v4 = "X-Amz-Algorithm" in self.params or "X-Amz-Credential" in self.params
        self.elided = (stand_in.elided or "")[len("https://h/?") :]
        # The same as a JSON string body, UTF-8: JSON escapes character by character, so a
        # line's URL is its own escaped origin and path followed by these bytes.
        self.elided_json = encode_basestring(self.elided)[1:-1].encode("utf-8", "surrogatepass")
        # The stand-in's problems never depend on its host or its (well-formed) signature.
        self.problems = tuple(stand_in.problems)


_templates: dict[str, _Template] = {}
# "scheme://netloc" → (scheme, host) as _split would record them, or None (not for the fast path).
_origins: dict[str, tuple[str, str] | None] = {}


def _origin(prefix: str) -> tuple[str, str] | None:
    known = _origins.get(prefix, False)
    if known is not False:
        return known  # type: ignore[return-value]
    probe = ParsedUrl(url=prefix)
    answer: tuple[str, str] | None = None
    scheme = prefix.partition("://")[0]
    if "@" not in prefix and scheme in ("https", "http") and _split(probe, prefix) is not None:
        answer = (probe.scheme, probe.host)
    if len(_origins) >= _CACHE_LIMIT:
        _origins.clear()
    _origins[prefix] = answer
    return answer


def _locate(text: str) -> tuple[_Template, str, str, int, int, int] | None:
    """(template, scheme, host, "?" index, "&X-Amz-Signature=" index, path index) when the
    stripped ``text`` suits the fast path, else None."""
    q = text.find("?")
    s = text.rfind(_SIG_SEP)
    if q < 0 or s < q or "#" in text or text.find("&", s + 1) >= 0:
        return None
    slash = text.find("/", text.find("://") + 3)
    if slash < 0 or slash > q:
        return None
    origin = _origin(text[:slash])
    if origin is None:
        return None
    head = text[q + 1 : s]
    template = _templates.get(head)
    if template is None:
        if len(_templates) >= _CACHE_LIMIT:
            _templates.clear()
        template = _templates[head] = _Template(head)
    if not template.v4:
        return None
    return template, origin[0], origin[1], q, s, slash


def fast_shape(text: str) -> tuple[tuple[_Template, str, bool], int] | None:
    """(shape, index of "?") of a stripped URL without building a ParsedUrl, or None when
    it needs the full parser.  The shape is (template, host, signature malformed): what a
    renderer keys reused verdicts on.  ``_locate`` inlined: this runs once per bulk line."""
    q = text.find("?")
    s = text.rfind(_SIG_SEP)
    if q < 0 or s < q or "#" in text:
        return None
    slash = text.find("/", text.find("://") + 3)
    if slash < 0 or slash > q:
        return None
    origin = _origins.get(text[:slash]) or _origin(text[:slash])
    if origin is None:
        return None
    template = _templates.get(text[q + 1 : s])
    if template is None or not template.v4:
        return None if template is not None else _slow_shape(text)
    if template.sigv4 and _HEX64.fullmatch(text, s + len(_SIG_SEP)) is not None:
        return (template, origin[1], False), q  # a well-formed signature has no "&"
    if text.find("&", s + 1) >= 0:
        return None
    malformed = template.sigv4 and _HEX64.fullmatch(text, s + len(_SIG_SEP)) is None
    return (template, origin[1], malformed), q


def _slow_shape(text: str) -> tuple[tuple[_Template, str, bool], int] | None:
    """``fast_shape`` for the first URL of a query head: goes through ``_locate``."""
    located = _locate(text)
    if located is None:
        return None
    template, _, host, q, s, _ = located
    malformed = template.sigv4 and _HEX64.fullmatch(text, s + len(_SIG_SEP)) is None
    return (template, host, malformed), q


def _parse_fast(url: str) -> ParsedUrl | None:
    text = url.strip()
    located = _locate(text)
    if located is None:
        return None
    template, scheme, host, q, s, slash = located
    signature = text[s + len(_SIG_SEP) :]
    result = ParsedUrl(url, scheme, host, text[slash:q], text[q + 1 :])
    (
        result.algorithm,
        result.access_key_id,
        result.credential_date,
        result.region,
        result.service,
        result.region_set,
        result.signed_at,
        result.amz_date,
        result.expires_seconds,
        result.expires_at,
        result.expires_raw,
        result.signed_headers,
        result.token_param,
    ) = template.fields
    params = result.params = template.params.copy()
    params["X-Amz-Signature"] = signature
    result.signature = signature
    result.items = [*template.items, text[s + 1 :]]
    result.elided = f"{text[:q]}?{template.elided}"
    bad_signature = template.sigv4 and _HEX64.fullmatch(signature) is None
    if template.problems:
        result.problems.extend(template.problems)
    if bad_signature:
        result.problems.append(("CA307", "X-Amz-Signature is not 64 lowercase hex digits"))
    _addressing(result)
    result.shape = (template, host, bad_signature)
    return result
