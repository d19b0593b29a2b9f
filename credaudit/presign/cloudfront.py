"""Check a CloudFront signed URL's signature with the key group's public key.

A CloudFront signed URL is not signed with AWS credentials but with the private key of a key
in the distribution's trusted key group: RSA PKCS #1 v1.5 over the policy, SHA-1 unless the
URL says ``Hash-Algorithm=SHA256`` (CloudFront Developer Guide, "Create a signed URL using a
canned policy" / "… a custom policy").  A custom policy travels in the URL (``Policy``,
base64 with ``-_~`` for ``+=/``); a canned one is rebuilt from the URL itself, as botocore's
``CloudFrontSigner.build_policy`` writes it: the URL without the CloudFront parameters as the
``Resource``, ``Expires`` as ``DateLessThan``, compact JSON.

The key is parsed once per key (``load_public_key``), not once per URL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from credaudit.errors import InputError
from credaudit.presign.parse import CLOUDFRONT_SHA256, ParsedUrl, cloudfront_base64
from credaudit.presign.verify import Verdict

# The parameters CloudFront reads and removes before it matches the Resource.
CLOUDFRONT_PARAMS = frozenset({"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"})


def load_public_key(pem: bytes, label: str) -> Any:
    """An RSA public key from PEM (a public key or a certificate); errors name ``label``."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from credaudit import pem as pem_reader

    key = pem_reader.load_public_key(pem, label)
    if not isinstance(key, rsa.RSAPublicKey):
        raise InputError(f"{label}: CloudFront keys are RSA; this one is not")
    return key


def signed_policy(parsed: ParsedUrl) -> bytes | None:
    """The bytes the signature covers: the custom policy, or the canned one rebuilt."""
    params = parsed.params
    if "Policy" in params:
        return cloudfront_base64(params["Policy"])
    expires = params.get("Expires")
    if expires is None or not expires.isdigit():
        return None
    base = parsed.url.strip().partition("#")[0].partition("?")[0]
    kept = [
        item for item in parsed.query.split("&") if item.partition("=")[0] not in CLOUDFRONT_PARAMS
    ]
    resource = f"{base}?{'&'.join(kept)}" if kept else base
    policy = {
        "Statement": [
            {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": int(expires)}}}
        ]
    }
    return json.dumps(policy, separators=(",", ":")).encode("utf-8")


@lru_cache(maxsize=2)
def _hash(sha256: bool) -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256() if sha256 else hashes.SHA1()  # noqa: S303 (CloudFront's default)


def verify_cloudfront(parsed: ParsedUrl, keys: Sequence[Any]) -> Verdict:
    """Whether one of ``keys`` made the URL's signature (null when it cannot be checked)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    policy = signed_policy(parsed)
    signature = cloudfront_base64(parsed.params.get("Signature", ""))
    if policy is None or not signature:
        return Verdict(None, reason="the URL's policy or signature does not decode")
    digest = _hash(parsed.algorithm == CLOUDFRONT_SHA256)
    for key in keys:
        try:
            key.verify(signature, policy, padding.PKCS1v15(), digest)
        except InvalidSignature:
            continue
        return Verdict(True)
    return Verdict(False, reason=f"no given public key ({len(keys)}) made this signature")
