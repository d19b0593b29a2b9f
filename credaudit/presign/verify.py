"""Recompute a presigned URL's signature from a secret key (SigV4 and SigV2).

A URL does not say which HTTP method it was signed for, nor the values of the headers it
signed, nor the body.  So the verifier tries the methods presigned URLs are used with, takes
header values from the caller, and says "not verifiable" (``None``) rather than "mismatch"
when a signed header's value is missing: a false CA308 would send people hunting a tampered
URL that is fine.

Canonicalisation follows botocore ``auth.py`` (``SigV4QueryAuth``, ``S3SigV4QueryAuth``,
``HmacV1QueryAuth``) and the aws-c-auth signing suite: S3 paths verbatim, other services'
paths dot-segment-normalised and encoded once more (the suite's ``normalize`` flag); query
keys and values re-encoded with ``quote(safe='-_.~')`` and sorted (a query SDK-written, thus
already so encoded, is recognised by one C pass and only sorted); payload hash
``UNSIGNED-PAYLOAD`` for S3 and the empty body's SHA-256 elsewhere (or ``X-Amz-Content-Sha256``
when the URL states one).  Only what a signing key shares is cached: per (secret, date,
region, service), the HMAC of the derived key as its two keyed SHA-256 states — deriving one
costs four HMACs, and setting a key up costs as much as the signature itself.
Everything of the URL itself is computed afresh: real URLs never repeat a query.

The secret is only ever a function argument and a key of the private cache; it is never
stored on a result or put into a message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from urllib.parse import quote, unquote

from credaudit.presign.parse import (
    CLOUDFRONT_ALGORITHMS,
    HOST_ONLY,
    SIGV2,
    SIGV4,
    SIGV4A,
    TOKEN_PARAMS,
    ParsedUrl,
)

METHODS = ("GET", "PUT", "HEAD", "DELETE", "POST")
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SAFE = re.compile(r"[A-Za-z0-9\-_.~%]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-F]{2})")
_BAD_ESCAPE_BYTES = re.compile(rb"%(?![0-9A-F]{2})")
# What an AWS-encoded key or value may hold (bytes.translate deletes them in C: the fastest
# test for ~1.5 KB with a session token in it).
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%"
_SAFE_PATH = re.compile(r"[A-Za-z0-9\-_.~%/]*")
_SPACES = re.compile(r"\s+")
_KEY_CACHE_LIMIT = 4096
# HMAC-SHA256 keyed with one signing key, as its inner and outer SHA-256 states (RFC 2104).
_Keyed = tuple["hashlib._Hash", "hashlib._Hash"]
_signer_cache: dict[tuple[str, str, str, str], tuple[_Keyed, bytes]] = {}
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
# The canonical query leaves the signature out (and, in one suite shape, the token): by key,
# and as item prefixes while "=" stands aside as NUL.
_SKIP = frozenset({"X-Amz-Signature"})
_SKIP_WITH_TOKEN = _SKIP | frozenset(TOKEN_PARAMS)
# Once sorted with "=" as NUL, the items of a name run from "name\0" to before "name\1".
_SKIP_RANGES = {
    skip: tuple((f"{name}\0".encode(), f"{name}\1".encode()) for name in skip)
    for skip in (_SKIP, _SKIP_WITH_TOKEN)
}

# botocore auth.py HmacV1Auth.QSAOfInterest: sub-resources that SigV2 signs.
_V2_SUBRESOURCES = frozenset(
    [
        "accelerate",
        "acl",
        "cors",
        "defaultObjectAcl",
        "location",
        "logging",
        "partNumber",
        "policy",
        "requestPayment",
        "torrent",
        "versioning",
        "versionId",
        "versions",
        "website",
        "uploads",
        "uploadId",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "delete",
        "lifecycle",
        "tagging",
        "restore",
        "storageClass",
        "notification",
        "replication",
        "analytics",
        "metrics",
        "inventory",
        "select",
        "select-type",
        "object-lock",
    ]
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a signature check.  ``valid`` is None when it could not be checked."""

    valid: bool | None
    method: str | None = None
    reason: str = ""
    token_signed: bool | None = None


def _is_canonical(part: str) -> bool:
    """Already AWS-encoded: only unreserved characters and upper-case %XX escapes."""
    return _SAFE.fullmatch(part) is not None and (
        "%" not in part or _BAD_ESCAPE.search(part) is None
    )


def _encode(part: str) -> str:
    """AWS URI-encoding of a query key or value as written in the URL (decode, re-encode)."""
    return part if _is_canonical(part) else quote(unquote(part), safe="-_.~")


def canonical_query(query: str, *, skip_token: bool = False) -> bytes:
    """The canonical query string of a raw query (items sorted by key, then value), as the
    UTF-8 bytes that are hashed.

    SDKs write every item AWS-encoded already: the query as written is checked once, whole,
    in C, and its items are then sorted as they are, with ``=`` standing aside as NUL while
    they sort (so a key sorts before a longer key it starts, ``a`` before ``a-b``, as in
    botocore's (key, value) order); the skipped names' items, adjacent once sorted, are cut
    out by bisection.  Only a query that fails the check is re-encoded item by item."""
    skipped = _SKIP_WITH_TOKEN if skip_token else _SKIP
    if query.isascii():
        raw = query.encode()
        # Without its keys and values, an encoded query is "=&=&…=": one "=" an item (none
        # in a value, no bare key) and nothing else (no NUL either).
        rest = raw.translate(None, _UNRESERVED)
        if rest == b"=&" * (len(rest) >> 1) + b"=" and _BAD_ESCAPE_BYTES.search(raw) is None:
            parts = raw.replace(b"=", b"\0").split(b"&")
            parts.sort()
            for first, after in _SKIP_RANGES[skipped]:
                start = bisect_left(parts, first)
                del parts[start : bisect_left(parts, after, start)]
            return b"&".join(parts).replace(b"\0", b"=")
    pairs = sorted(
        (_encode(key), _encode(value))
        for key, _, value in map(str.partition, query.split("&"), repeat("="))
        if key not in skipped
    )
    return "&".join([f"{key}={value}" for key, value in pairs]).encode("utf-8", "surrogateescape")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 plus collapsed slashes, as botocore ``utils.remove_dot_segments``."""
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if segment and segment != ".":
            if segment == "..":
                if output:
                    output.pop()
            else:
                output.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and output else ""
    return first + "/".join(output) + last


def canonical_path(path: str, *, normalize: bool) -> str:
    """S3 (``normalize=False``): verbatim; others: normalised and encoded once more."""
    if normalize:
        return quote(_remove_dot_segments(path), safe="/~")
    if _SAFE_PATH.fullmatch(path) and ("%" not in path or _BAD_ESCAPE.search(path) is None):
        return path
    return quote(path, safe="/~%")


def _canonical_headers(
    names: Sequence[str], host: str, headers: Mapping[str, str]
) -> tuple[str, list[str]]:
    lines = []
    missing = []
    for name in names:
        if name == "host":
            value: str | None = headers.get("host", host)
        else:
            value = headers.get(name)
        if value is None:
            missing.append(name)
            continue
        lines.append(f"{name}:{_SPACES.sub(' ', value.strip())}\n")
    return "".join(lines), missing


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: four HMACs over the credential scope."""
    key = hmac.digest(("AWS4" + secret).encode("utf-8"), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode("utf-8"), "sha256")
    return key


def keyed(key: bytes) -> _Keyed:
    """HMAC-SHA256 keyed with ``key`` (at most one 64-byte block: a SigV4 signing key is 32
    bytes), as the two SHA-256 states RFC 2104 starts from."""
    if len(key) > 64:
        raise ValueError("keys longer than the SHA-256 block are hashed first: not needed here")
    block = key.ljust(64, b"\0")
    return hashlib.sha256(block.translate(_IPAD)), hashlib.sha256(block.translate(_OPAD))


def hmac_hex(state: _Keyed, message: bytes) -> str:
    """``hmac.new(key, message, sha256).hexdigest()`` from ``keyed(key)``: two C ``copy()``
    calls where ``hmac.HMAC.copy`` builds a Python object each time (0.66 against 1.10 µs a
    signature here; a test holds the two equal)."""
    inner, outer = state[0].copy(), state[1].copy()
    inner.update(message)
    outer.update(inner.digest())
    return outer.hexdigest()


def _signer(secret: str, date: str, region: str, service: str) -> tuple[_Keyed, bytes]:
    """The signing key's HMAC states, and the string to sign's scope line, once per
    (secret, date, region, service): deriving the key costs four HMACs."""
    cache_key = (secret, date, region, service)
    signer = _signer_cache.get(cache_key)
    if signer is None:
        mac = keyed(signing_key(secret, date, region, service))
        scope = f"{date}/{region}/{service}/aws4_request\n".encode()
        if len(_signer_cache) >= _KEY_CACHE_LIMIT:
            _signer_cache.clear()
        signer = _signer_cache[cache_key] = (mac, scope)
    return signer


@lru_cache(maxsize=64)
def _matched(method: str, token_signed: bool | None, token_added: bool) -> Verdict:
    """The verdict of a match: a handful of distinct values, built once each."""
    reason = "session token was added after signing" if token_added else ""
    return Verdict(True, method=method, token_signed=token_signed, reason=reason)


def _lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if not headers:
        return {}
    return {k.strip().lower(): v for k, v in (headers or {}).items()}


def verify(
    parsed: ParsedUrl,
    secret: str,
    *,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    normalize: bool | None = None,
    payload_hash: str | None = None,
) -> Verdict:
    """Check ``parsed``'s signature with ``secret``; see the module docstring for the rules."""
    if parsed.algorithm == SIGV4A:
        return Verdict(None, reason="SigV4A (ECDSA) cannot be verified with a secret key")
    if parsed.signature is None or parsed.access_key_id is None:
        return Verdict(None, reason="the URL carries no signature or key to check")
    if parsed.algorithm == SIGV2:
        return _verify_v2(parsed, secret, method=method, headers=headers)
    if parsed.algorithm != SIGV4:
        if parsed.algorithm in CLOUDFRONT_ALGORITHMS:
            reason = "a CloudFront signature (RSA) needs the public key (--public-key)"
            return Verdict(None, reason=reason)
        return Verdict(None, reason="unknown signing algorithm")
    return _verify_v4(
        parsed,
        secret,
        method=method,
        headers=headers,
        normalize=normalize,
        payload_hash=payload_hash,
    )


def _verify_v4(
    parsed: ParsedUrl,
    secret: str,
    *,
    method: str | None,
    headers: Mapping[str, str] | None,
    normalize: bool | None,
    payload_hash: str | None,
) -> Verdict:
    date, region, service = parsed.credential_date, parsed.region, parsed.service
    if not (parsed.amz_date and date and region and service):
        return Verdict(None, reason="the URL's credential scope or date is unreadable")
    lowered = _lower_headers(headers)
    if parsed.signed_headers == HOST_ONLY and "host" not in lowered:
        header_block = f"host:{parsed.host}\n"
    else:
        header_block, missing = _canonical_headers(parsed.signed_headers, parsed.host, lowered)
        if missing:
            return Verdict(
                None,
                reason="signed header value(s) not supplied: "
                + ", ".join(missing)
                + " (use --header NAME:VALUE)",
            )
    methods = (method.upper(),) if method else METHODS
    payloads: tuple[str, ...]
    if payload_hash is not None:
        payloads = (payload_hash,)
    else:
        stated = parsed.params.get("X-Amz-Content-Sha256")
        if stated:
            payloads = (unquote(stated),)
        elif "x-amz-content-sha256" in lowered:
            payloads = (lowered["x-amz-content-sha256"],)
        elif parsed.is_s3:
            payloads = (UNSIGNED_PAYLOAD, EMPTY_SHA256)
        else:
            # Services sign the empty body's hash; a client configured with the S3 signer
            # (signature_version="s3v4") signs UNSIGNED-PAYLOAD instead.
            payloads = (EMPTY_SHA256, UNSIGNED_PAYLOAD)
    path = canonical_path(
        parsed.path, normalize=not parsed.is_s3 if normalize is None else normalize
    )
    signer, scope = _signer(secret, date, region, service)
    to_sign = f"{SIGV4}\n{parsed.amz_date}\n".encode() + scope
    # The canonical request around its query, as bytes: the query is the only long part.
    head = f"\n{path}\n".encode("utf-8", "surrogateescape")
    headers_tail = f"\n{header_block}\n{';'.join(parsed.signed_headers)}\n"
    # The token is signed, except in the suite's post-sts-header-after shape (non-S3 only:
    # S3 signs every query parameter, so an unsigned token there is just a mismatch).
    for skip_token in (False, True) if parsed.has_token and not parsed.is_s3 else (False,):
        query = canonical_query(parsed.query, skip_token=skip_token)
        for payload in payloads:
            # Everything after the method: hashed once per try, never rebuilt.
            rest = head + query + (headers_tail + payload).encode("utf-8", "surrogateescape")
            for candidate in methods:
                request = hashlib.sha256(candidate.encode())
                request.update(rest)  # not concatenated: that would copy the query again
                digest = request.hexdigest().encode()
                if _same(hmac_hex(signer, to_sign + digest), parsed.signature):  # lower hex
                    token_signed = (not skip_token) if parsed.has_token else None
                    return _matched(candidate, token_signed, skip_token)
    return Verdict(False, reason=f"signature does not match ({'/'.join(methods)})")


def _same(computed: str, stated: str | None) -> bool:
    """Constant-time comparison that tolerates any text in the URL (compare_digest refuses
    non-ASCII str)."""
    return hmac.compare_digest(computed.encode(), (stated or "").encode("utf-8", "surrogateescape"))


def _v2_resources(parsed: ParsedUrl) -> list[str]:
    """Candidate CanonicalizedResource paths: with the bucket (virtual host) and as written.

    A path naming only a bucket (``/bkt``, a ListObjects URL in path style) is signed as
    ``/bkt/``: S3 computes it so, and botocore's ``authPath`` adds the slash
    (handlers.py, "the auth_path must be terminated with a '/'")."""
    candidates = []
    host = parsed.host.split(":", 1)[0]
    path = parsed.path
    if parsed.addressing_style == "virtual-host" and parsed.bucket:
        candidates.append(f"/{parsed.bucket}{path}")
    first = host.split(".", 1)[0]
    if "." in host and not host.replace(".", "").isdigit() and not host.startswith("s3"):
        candidates.append(f"/{first}{path}")
    if len(path) > 1 and "/" not in path[1:]:
        candidates.append(f"{path}/")
    candidates.append(path)
    return list(dict.fromkeys(candidates))  # each once, in order


# An x-amz-* value of a SigV2 URL is, in practice, the session token, which every URL of that
# session repeats (about 1 KB, its percent-decoding the costliest step of a SigV2 check).
# Bounded: at most 1,024 values of up to 4 KiB (a session token with tags fits).
_AMZ_CACHED_UP_TO = 4096
_amz_value = lru_cache(maxsize=1024)(unquote)


def _verify_v2(
    parsed: ParsedUrl,
    secret: str,
    *,
    method: str | None,
    headers: Mapping[str, str] | None,
) -> Verdict:
    expires = parsed.expires_raw
    if expires is None:
        return Verdict(None, reason="the URL has no Expires")
    lowered = _lower_headers(headers)
    standard = {"content-md5": "", "content-type": ""}
    amz: dict[str, str] = {}
    subresources: list[tuple[str, str | None]] = []
    # Only the values the string to sign holds are decoded (not the key id, the signature nor
    # Expires); the session token's, the longest, once per session.
    for raw_key, _, raw_value in map(str.partition, parsed.query.split("&"), repeat("=")):
        key = unquote(raw_key)
        lk = key.lower()
        if lk in standard:
            standard[lk] = unquote(raw_value).strip()
        elif lk.startswith("x-amz-"):
            decode = _amz_value if len(raw_value) <= _AMZ_CACHED_UP_TO else unquote
            amz[lk] = decode(raw_value).strip()
        if key in _V2_SUBRESOURCES:
            subresources.append((key, unquote(raw_value) if raw_value else None))
    for name, current in list(standard.items()):
        if not current and name in lowered:
            standard[name] = lowered[name].strip()
    for name, value in lowered.items():
        if name.startswith("x-amz-") and name not in amz:
            amz[name] = value.strip()
    amz_block = "".join(f"{k}:{amz[k]}\n" for k in sorted(amz))
    subresources.sort(key=lambda kv: kv[0])
    sub = "&".join(k if v is None else f"{k}={v}" for k, v in subresources)
    methods = (method.upper(),) if method else METHODS
    secret_bytes = secret.encode("utf-8")
    for resource in _v2_resources(parsed):
        full = resource + ("?" + sub if sub else "")
        for candidate in methods:
            to_sign = (
                f"{candidate}\n{standard['content-md5']}\n{standard['content-type']}\n"
                f"{expires}\n{amz_block}{full}"
            )
            digest = base64.b64encode(
                hmac.digest(secret_bytes, to_sign.encode("utf-8", "surrogateescape"), "sha1")
            ).decode()
            if _same(digest, parsed.signature):
                # The token, an x-amz-* parameter, is in the string to sign (amz_block).
                return _matched(candidate, True if parsed.has_token else None, False)
    return Verdict(False, reason="signature does not match (" + "/".join(methods) + ")")
