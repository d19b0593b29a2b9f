"""A compact JWS cut into its parts: header, claims, signing input and signature.

Hand-cut rather than ``jwt.decode(..., options={"verify_signature": False})``, for three
reasons: PyJWT's decode neither says which segment is broken nor hands back the header and
the signing input the verifier needs (it would decode the same bytes twice), it checks the
characters less strictly (``urlsafe_b64decode`` skips what is not base64), and ``import jwt``
costs 60-90 ms (it imports cryptography) that decoding alone — ``scan``'s web-identity
tokens, ``credaudit token`` without keys — should not pay.  The decoding is PyJWT's
``base64url_decode`` (restore the padding, ``urlsafe_b64decode``) after a strict character
check; the JSON is read by orjson straight from the bytes, and what orjson refuses but
``json`` reads (NaN, integers beyond 64 bits, lone surrogate escapes) by ``json``, so the
verdicts stay ``json``'s.  Nothing here trusts the header: it is data to report; the
verifier pins algorithms by the key.
"""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# What a compact JWS is made of: deleting these from a token leaves nothing (one C pass).
_JWS_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
_DECODE = json.JSONDecoder().decode


_URLSAFE = bytes.maketrans(b"-_", b"+/")


_PADDING = (b"", b"", b"==", b"=")  # by length % 4 (1 is impossible, checked before)

# Decoded header segments, by their encoded bytes.  A header belongs to the signing key, not
# to the token: every token one key signs carries the same segment (alg, kid, typ), so it is
# decoded once per key, as presign keeps a signing key's facts — each token's claims are
# still decoded.  Bounded (a stream of made-up headers decodes each one beyond the bound),
# and the dicts are shared: nothing may change a DecodedJwt's header.
_HEADERS: dict[bytes, dict[str, Any]] = {}
_HEADERS_MAX = 256  # distinct headers: an issuer's keys, typs and algorithms
_HEADER_MAX = 512  # bytes: a header with an x5c chain or a jwk is not kept


def base64url_decode(segment: bytes) -> bytes:
    """PyJWT's ``jwt.utils.base64url_decode`` (``urlsafe_b64decode`` after restoring the
    padding) without its wrappers' conversions, for a segment already checked to be
    base64url."""
    return binascii.a2b_base64(segment.translate(_URLSAFE) + _PADDING[len(segment) % 4])


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a microsecond per token
class DecodedJwt:
    header: dict[str, Any]  # read-only: shared by the tokens one key signed (``_HEADERS``)
    claims: dict[str, Any]
    encoded: bytes  # the whole compact token, as bytes
    signed_length: int  # the encoded header and claims with their dot: what was signed
    signature_segment: bytes

    @property
    def signing_input(self) -> bytes:
        """Cut only when a verifier asks: most runs never check signatures."""
        return self.encoded[: self.signed_length]

    @property
    def signature(self) -> bytes:
        """Decoded only when a verifier asks: most runs never check signatures."""
        return base64url_decode(self.signature_segment)


def looks_like_jwt(token: str) -> bool:
    """A JWS (``eyJ…`` or three segments) or a JWE (five): judged as a JWT, not opaque."""
    return token.startswith("eyJ") or token.count(".") == 2


def _json_object(segment: str, name: str) -> dict[str, Any] | str:
    if not segment:
        return f"the {name} segment is empty"
    if not _B64URL.fullmatch(segment):
        return f"the {name} segment is not base64url (characters outside A-Z a-z 0-9 - _)"
    if len(segment) % 4 == 1:
        return f"the {name} segment has an impossible base64url length"
    try:
        raw = base64url_decode(segment.encode("ascii"))
    except binascii.Error:
        return f"the {name} segment is not JSON"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            value = _DECODE(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return f"the {name} segment is not JSON"
    if not isinstance(value, dict):
        return f"the {name} segment is JSON but not an object"
    return value


def decode(token: str) -> DecodedJwt | str:
    """The decoded JWS, or why it is not one (the reason never quotes the token).

    A well-formed token takes one pass over its characters and one orjson read of its
    claims (and of its header, the first time that key's header is seen); anything else
    goes the segment-by-segment way that names what is wrong."""
    raw = token.encode("utf-8", "surrogatepass")
    parts = raw.split(b".")  # three parts: two dots (no separate count pass)
    if len(parts) == 3 and not raw.translate(None, _JWS_BYTES):
        head, body, sig = parts
        if head and body and len(head) % 4 != 1 and len(body) % 4 != 1 and len(sig) % 4 != 1:
            try:
                header = _HEADERS.get(head)
                if header is None:
                    header = orjson.loads(base64url_decode(head))
                    if (
                        type(header) is dict
                        and len(head) <= _HEADER_MAX
                        and len(_HEADERS) < _HEADERS_MAX
                    ):
                        _HEADERS[head] = header
                claims = orjson.loads(base64url_decode(body))
            except orjson.JSONDecodeError:
                pass  # perhaps JSON that only ``json`` reads: the careful way decides
            else:
                if isinstance(header, dict) and isinstance(claims, dict):
                    return DecodedJwt(header, claims, raw, len(head) + 1 + len(body), sig)
    return _decode_segments(token)


def _decode_segments(token: str) -> DecodedJwt | str:
    parts = token.split(".")
    if len(parts) == 5:
        return "a JWE (five segments): encrypted, its claims cannot be read without the key"
    if len(parts) != 3:
        return f"{len(parts)} dot-separated segments where a JWT has 3"
    head, body, sig = parts
    header = _json_object(head, "header")
    if isinstance(header, str):
        return header
    claims = _json_object(body, "claims")
    if isinstance(claims, str):
        return claims
    if not _B64URL.fullmatch(sig) or len(sig) % 4 == 1:
        return "the signature segment is not base64url"
    return DecodedJwt(
        header, claims, token.encode("ascii"), len(head) + 1 + len(body), sig.encode("ascii")
    )
