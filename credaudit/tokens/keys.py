"""The keys signatures are checked with: only what the operator named (RFC 8725).

Each key is pinned to exactly one algorithm when it is loaded — a JWK's ``alg``, else what
PyJWT derives from its ``kty``/``crv``; a PEM public key by its type; an HMAC secret to the
HS family — so a token cannot choose how it is checked: ``alg: none`` is never valid, an
RSA or EC key is never an HMAC secret, and the token's own ``jku``, ``x5u`` and ``kid`` are
never fetched nor used as a path (``kid`` only selects among the keys already loaded).

The prepared key objects are built once per run and reused for every token: that is what
repeats in production (one issuer, a handful of keys), unlike the tokens themselves.  So is
each key's check: for RS256/384/512, ``cryptography``'s ``verify`` bound to the key with its
PKCS #1 v1.5 padding and hash made once (what PyJWT's ``RSAAlgorithm.verify`` makes anew for
every token); for the other algorithms, PyJWT's own ``verify``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credaudit.errors import InputError
from credaudit.tokens.jwt_segments import DecodedJwt

_HMAC = ("HS256", "HS384", "HS512")
_UNTRUSTED_HEADERS = ("jku", "x5u", "jwk", "x5c")
_UNTRUSTED = frozenset(_UNTRUSTED_HEADERS)


# (signing input, signature) -> whether the signature verifies
Check = Callable[[bytes, bytes], bool]


@dataclass(frozen=True, slots=True)
class PinnedKey:
    kid: str | None
    algorithm: str  # the one algorithm this key verifies
    check: Check  # built once per key (see _check)
    asymmetric: bool


def _pinned(
    kid: str | None, algorithm: str, verifier: Any, key: Any, asymmetric: bool
) -> PinnedKey:
    return PinnedKey(kid, algorithm, _check(algorithm, verifier, key), asymmetric)


_RSA_PKCS1 = {"RS256": "SHA256", "RS384": "SHA384", "RS512": "SHA512"}


def _check(algorithm: str, verifier: Any, key: Any) -> Check:
    """The key's check, with everything that does not depend on the token made once."""
    if algorithm in _RSA_PKCS1:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        if isinstance(key, rsa.RSAPublicKey):
            pkcs1, digest = padding.PKCS1v15(), getattr(hashes, _RSA_PKCS1[algorithm])()
            verify = key.verify

            def rsa_check(message: bytes, signature: bytes) -> bool:
                try:
                    verify(signature, message, pkcs1, digest)
                except InvalidSignature:
                    return False
                return True

            return rsa_check

    def check(message: bytes, signature: bytes) -> bool:
        return bool(verifier.verify(message, key, signature))

    return check


class KeySet:
    """The operator's keys, each pinned to one algorithm, indexed by algorithm."""

    def __init__(self, keys: list[PinnedKey], label: str) -> None:
        self.keys = keys
        self.label = label
        self.by_alg: dict[str, list[PinnedKey]] = {}
        for key in keys:
            self.by_alg.setdefault(key.algorithm, []).append(key)
        self.has_asymmetric = any(k.asymmetric for k in keys)
        # (alg, kid) -> the keys a token with that kid may be checked with: those with that
        # kid, and those without one, in the operator's order.
        self.by_kid: dict[tuple[str, str], list[PinnedKey]] = {}
        for alg, pinned in self.by_alg.items():
            for kid in {k.kid for k in pinned if k.kid is not None}:
                self.by_kid[alg, kid] = [k for k in pinned if k.kid in (kid, None)]

    def __add__(self, other: KeySet) -> KeySet:
        return KeySet(self.keys + other.keys, f"{self.label}, {other.label}")

    def verify(self, decoded: DecodedJwt) -> tuple[bool, str]:
        """(valid, why): a verdict for a token whose alg is not none (the caller checks)."""
        alg = decoded.header.get("alg")
        pinned = self.by_alg.get(alg) if isinstance(alg, str) else None
        if not pinned:
            if isinstance(alg, str) and alg.upper().startswith("HS") and self.has_asymmetric:
                return False, (
                    f"alg {alg} asks for an HMAC check, but the operator's keys are public "
                    "keys: a public key is never used as an HMAC secret (RFC 8725 §3.1)"
                )
            return False, (
                f"no key the operator named is pinned to alg {_shown(alg)} "
                f"(keys allow {', '.join(sorted(self.by_alg)) or 'nothing'})"
            )
        kid = decoded.header.get("kid")
        if isinstance(kid, str):
            matching = self.by_kid.get((str(alg), kid)) or [k for k in pinned if k.kid is None]
            if not matching:
                return False, (
                    f"kid {_shown(kid)} is not among the operator's keys (a kid only selects "
                    "among them: never a path, a URL or a query)"
                )
            pinned = matching
        for key in pinned:
            try:
                if key.check(decoded.signing_input, decoded.signature):
                    which = f" kid {key.kid}" if key.kid else ""
                    return True, f"verified with {self.label}{which} ({key.algorithm})"
            except Exception:  # noqa: S112 - a key that cannot check it: try the next
                continue
        return False, f"the signature does not verify with {len(pinned)} {alg} key(s) named"


def ignored_headers(header: dict[str, Any]) -> list[str]:
    """Header parameters that name keys and that credaudit never follows (RFC 8725 §3.10)."""
    if _UNTRUSTED.isdisjoint(header):  # the common case, in one C call
        return []
    return [name for name in _UNTRUSTED_HEADERS if name in header]


def _shown(value: object) -> str:
    """A header value safe to echo: short and printable (it is attacker-controlled)."""
    text = value if isinstance(value, str) else json.dumps(value)[:40]
    text = "".join(c if c.isprintable() else "?" for c in text)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def from_jwks(data: bytes | str, label: str) -> KeySet:
    """A JWKS document (``{"keys": [...]}``) or a single JWK; unusable keys are skipped."""
    from jwt import PyJWK
    from jwt.exceptions import PyJWTError

    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise InputError(f'{label}: not JSON (expected a JWKS: {{"keys": [...]}})') from None
    entries = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else [doc]
    if not isinstance(entries, list):
        raise InputError(f'{label}: "keys" is not a list')
    keys: list[PinnedKey] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use") == "enc":
            continue
        try:
            jwk = PyJWK(entry)
        except (PyJWTError, ValueError, TypeError, KeyError, NotImplementedError):
            continue  # PyJWT's messages quote the JWK, and an oct JWK is a secret
        if jwk.algorithm_name.lower() == "none":
            continue
        keys.append(
            _pinned(
                entry.get("kid") if isinstance(entry.get("kid"), str) else None,
                jwk.algorithm_name,
                jwk.Algorithm,
                jwk.key,
                asymmetric=entry.get("kty") != "oct",
            )
        )
    if not keys:
        raise InputError(f"{label}: no usable signing key in the JWKS")
    return KeySet(keys, f"{label} ({len(keys)} key{'s' if len(keys) != 1 else ''})")


def from_public_key(pem: bytes, label: str) -> KeySet:
    """A PEM public key (or certificate), pinned by its type: RSA → RS256, EC by its curve,
    Ed25519 → EdDSA."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import get_default_algorithms

    from credaudit.pem import load_public_key

    public = load_public_key(pem, label)
    if isinstance(public, rsa.RSAPublicKey):
        alg = "RS256"
    elif isinstance(public, ec.EllipticCurvePublicKey):
        curves = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
        alg = curves.get(public.curve.name, "")
    elif isinstance(public, ed25519.Ed25519PublicKey):
        alg = "EdDSA"
    else:
        alg = ""
    if not alg:
        raise InputError(f"{label}: unsupported key type for JWT signatures")
    verifier = get_default_algorithms()[alg]
    return KeySet([_pinned(None, alg, verifier, public, True)], f"{label} ({alg})")


def from_secret(secret: str, label: str) -> KeySet:
    """An HMAC secret, for HS256/HS384/HS512 only; a PEM key is refused as a secret."""
    from jwt.algorithms import get_default_algorithms
    from jwt.exceptions import InvalidKeyError

    algorithms = get_default_algorithms()
    keys: list[PinnedKey] = []
    for alg in _HMAC:
        verifier = algorithms[alg]
        try:
            prepared = verifier.prepare_key(secret)
        except InvalidKeyError:
            raise InputError(
                f"{label}: the value is a public key or certificate, not an HMAC secret"
            ) from None
        keys.append(_pinned(None, alg, verifier, prepared, False))
    return KeySet(keys, f"{label} (HMAC)")
