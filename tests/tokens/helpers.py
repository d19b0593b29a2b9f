"""Tokens for the tests, signed by PyJWT with keys made here (never a token from elsewhere)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

NOW = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())
HMAC_SECRET = "test-hmac-secret-of-thirty-two-bytes!"


@cache
def rsa_key(n: int = 0) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(n: int = 0) -> bytes:
    return (
        rsa_key(n)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def jwks(*numbers: int) -> dict[str, Any]:
    keys = []
    for n in numbers or (0,):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(n).public_key()))
        jwk.update(kid=f"key-{n}", alg="RS256", use="sig")
        keys.append(jwk)
    return {"keys": keys}


def claims(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "https://issuer.example",
        "sub": "svc-orders",
        "aud": "urn:api",
        "client_id": "orders",
        "scope": "read write",
        "iat": T0 - 60,
        "exp": T0 + 540,
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def rs256(payload: dict[str, Any] | None = None, n: int = 0, **headers: Any) -> str:
    headers.setdefault("kid", f"key-{n}")
    headers = {k: v for k, v in headers.items() if v is not None}
    return jwt.encode(payload or claims(), rsa_key(n), algorithm="RS256", headers=headers)


def hs256(payload: dict[str, Any] | None = None, secret: str = HMAC_SECRET) -> str:
    return jwt.encode(payload or claims(), secret, algorithm="HS256")


def b64url(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unsigned(payload: dict[str, Any] | None = None, alg: str = "none") -> str:
    return f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url(payload or claims())}."
