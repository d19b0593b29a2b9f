"""What an access key id tells without calling AWS: its kind, its account, a masked form.

Shared by the sources (credentials they read) and presign (keys found in URLs), so it lives
at the package top rather than under ``presign/`` as DESIGN.md first placed it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from credaudit.model import KeyKind

_ACCOUNT_MASK = 0x7FFFFFFFFF80
# A "new generation" id encodes the account: its 5th character is Q-Z or 2-7 (bit 20 set).
_NEW_GENERATION_FIFTH = frozenset("QRSTUVWXYZ234567")


def key_kind(access_key_id: str | None) -> KeyKind:
    if not access_key_id:
        return KeyKind.NONE
    if access_key_id.startswith("ASIA"):
        return KeyKind.TEMPORARY
    if access_key_id.startswith("AKIA"):
        return KeyKind.LONG_TERM
    return KeyKind.OTHER


def account_from_key(access_key_id: str | None) -> str | None:
    """Decode the 12-digit account from a new-generation key id (reference §6), else None."""
    if not access_key_id or len(access_key_id) < 20 or not access_key_id[:4].isalpha():
        return None
    if access_key_id[4] not in _NEW_GENERATION_FIFTH:
        return None
    try:
        decoded = base64.b32decode(access_key_id[4:20].upper() + "=" * 0)
    except (binascii.Error, ValueError):
        return None
    value = int.from_bytes(decoded[:6], "big")
    return f"{(value & _ACCOUNT_MASK) >> 7:012d}"


def mask_key(access_key_id: str | None) -> str | None:
    """``ASIAY34FZKBOKMUTVV7A`` → ``ASIA…VV7A``; short or odd values keep only their length."""
    if access_key_id is None:
        return None
    if len(access_key_id) >= 12:
        return f"{access_key_id[:4]}…{access_key_id[-4:]}"
    return "…" * min(len(access_key_id), 3) or ""


def fingerprint(secret: str | None) -> str | None:
    """A short, non-reversible handle for a token, to correlate without storing it."""
    if not secret:
        return None
    return "sha256:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:12]
