"""A compact JWS cut into its parts: header, claims, signing input and signature.

The segments are decoded with PyJWT's own ``base64url_decode`` and checked strictly first
(base64url characters only, no padding, JSON objects), because ``jwt.decode`` with
verification off neither says which segment is broken nor hands back the header and the
signing input the verifier needs — it would decode the same bytes twice.  Nothing here
trusts the header: it is data to report, and the verifier pins algorithms by the key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jwt.utils import base64url_decode

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_SEGMENT_NAMES = ("header", "claims", "signature")


@dataclass(frozen=True, slots=True)
class DecodedJwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


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
        raw = base64url_decode(segment)
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return f"the {name} segment is not JSON"
    if not isinstance(value, dict):
        return f"the {name} segment is JSON but not an object"
    return value


def decode(token: str) -> DecodedJwt | str:
    """The decoded JWS, or why it is not one (the reason never quotes the token)."""
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
    try:
        signature = base64url_decode(sig)
    except ValueError:
        return "the signature segment is not base64url"
    return DecodedJwt(header, claims, f"{head}.{body}".encode("ascii"), signature)
