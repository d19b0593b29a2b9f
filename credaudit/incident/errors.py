"""What an error code (and its message) says: expiry, wrong credential source, or clock skew.

The table is reference/incident-log-facts.md §3.  A message is kept only in scrubbed form: S3
error bodies can carry the rejected token itself (``<Token-0>``), so anything token-shaped is cut
before a message is stored.
"""

from __future__ import annotations

import re

from credaudit.presign.parse import parse_amz_date

EXPIRY = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"})
WRONG_SOURCE = frozenset(
    {
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "InvalidIdentityToken",
        "UnrecognizedClientException",
        "InvalidToken",
    }
)
SKEW = frozenset({"RequestTimeTooSkewed", "RequestExpired", "RequestTimeTooSkewedException"})

_SIG_EXPIRED = re.compile(
    r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) "
    r"\((\d{8}T\d{6}Z) - 5 min\.\)"
)
_LONG = re.compile(r"[A-Za-z0-9+/=_%-]{40,}")
_TAG = re.compile(r"<(Token-\d+|RequestId|HostId)>.*?</\1>", re.DOTALL)
MAX_MESSAGE = 300


def scrub(message: str | None) -> str | None:
    """The message without anything that could be a token or a signature."""
    if not message:
        return None
    text = _TAG.sub("", message)
    text = _LONG.sub("…", text)
    return " ".join(text.split())[:MAX_MESSAGE] or None


def signature_expired_skew(message: str | None) -> int | None:
    """Server time − signing time from "Signature expired: X is now earlier than Y (Z - 5 min.)"."""
    if not message:
        return None
    m = _SIG_EXPIRED.search(message)
    if m is None:
        return None
    signed, server = parse_amz_date(m.group(1)), parse_amz_date(m.group(3))
    if signed is None or server is None:
        return None
    return int((server - signed).total_seconds())


def is_expiry(code: str | None, message: str | None = None) -> bool:
    if code in EXPIRY:
        return True
    return bool(message and code in (None, "AccessDenied") and "token has expired" in message)


def is_wrong_source(code: str | None, message: str | None = None) -> bool:
    if code in WRONG_SOURCE:
        return True
    return code == "SignatureDoesNotMatch" and signature_expired_skew(message) is None


def is_skew(code: str | None, message: str | None = None) -> bool:
    if code in SKEW:
        return True
    return code == "SignatureDoesNotMatch" and signature_expired_skew(message) is not None
