"""The ``Authorization`` header, judged by RFC 6750 §2.1 (and RFC 7235's ``token68``).

``credentials = "Bearer" 1*SP b64token``, where ``b64token`` is at least one of
``ALPHA DIGIT - . _ ~ + /`` followed by ``=`` padding only.  The scheme is case-insensitive;
a tab is not a separator; quotes, commas, spaces inside and a second word are not allowed.
Surrounding whitespace is HTTP's optional whitespace, trimmed by every server: it is noted, not
called malformed.  The verdict says *why* in words an operator can act on, and still hands the
credential on when one can be made out, so a token in a broken header is judged too.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TCHAR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CREDENTIAL_CHARS = re.compile(r"[A-Za-z0-9\-._~+/=]")

# Schemes that carry a credential credaudit can judge, by lower-case name.
BEARER, APIKEY = "bearer", "apikey"
_OTHER_TOKEN_SCHEMES = frozenset({"token", "jwt", "oauth"})


@dataclass(frozen=True, slots=True)
class HeaderVerdict:
    """What one ``Authorization`` field value holds.

    ``token`` is the credential to judge (None for ``Basic`` and for an empty header: a
    password is never a token); ``scheme`` is as written; ``valid`` is the RFC 6750 verdict
    (for ``ApiKey``: Elasticsearch's ``base64(id:api_key)`` form); ``reason`` says what is
    wrong or, for a valid header, what was tolerated (empty when nothing was).
    """

    scheme: str | None
    token: str | None
    valid: bool
    reason: str = ""

    @property
    def kind_hint(self) -> str | None:
        return "api-key" if self.scheme and self.scheme.lower() == APIKEY else None


def _first_bad(credential: str) -> str:
    for char in credential:
        if not _CREDENTIAL_CHARS.fullmatch(char):
            if char == '"':
                return "the token is quoted (RFC 6750 allows no quotes)"
            if char == ",":
                return "a comma in the token (RFC 6750 allows one credential, no parameters)"
            if char == "\t":
                return "a tab inside the token"
            if char == "%":
                return "a percent-encoded token (send it as is, not URL-encoded)"
            return f"character {char!r} is outside b64token"
    return "'=' inside the token: padding is only allowed at the end"


def _loose_token(credential: str) -> str | None:
    """The credential with quotes and separators stripped, so its content is judged too."""
    inner = credential.strip().strip("\"'").split(",")[0].strip().split()
    return inner[0].strip("\"'") if inner and inner[0].strip("\"'") else None


def parse_authorization(value: str) -> HeaderVerdict:
    """Judge one field value (what follows ``Authorization:``)."""
    trimmed = value.strip(" \t")
    note = "surrounding whitespace trimmed (HTTP optional whitespace)" if trimmed != value else ""
    if not trimmed:
        return HeaderVerdict(None, None, False, "empty Authorization header")
    match = _TCHAR.match(trimmed)
    scheme = match.group(0) if match else None
    rest = trimmed[match.end() :] if match else trimmed
    if scheme is None:
        return HeaderVerdict(None, _loose_token(trimmed), False, "no scheme: expected 'Bearer '")
    lower = scheme.lower()
    if not rest:
        if lower in (BEARER, APIKEY, "basic", *_OTHER_TOKEN_SCHEMES):
            return HeaderVerdict(scheme, None, False, f"no credential after {scheme}")
        if lower.startswith(BEARER) and B64TOKEN.fullmatch(scheme[6:]):
            return HeaderVerdict(
                scheme[:6], scheme[6:], False, "no space between Bearer and the token"
            )
        if B64TOKEN.fullmatch(trimmed):
            return HeaderVerdict(None, trimmed, False, "missing the 'Bearer ' scheme")
        return HeaderVerdict(None, _loose_token(trimmed), False, "not 'Bearer <token>'")
    sep_len = len(rest) - len(rest.lstrip(" \t"))
    if sep_len == 0:
        if lower.startswith(BEARER):
            return HeaderVerdict(
                scheme[:6],
                _loose_token((scheme[6:] + rest).lstrip(":")),
                False,
                "no space between Bearer and the token",
            )
        return HeaderVerdict(scheme, _loose_token(rest), False, f"{scheme!r} is not a scheme")
    if "\t" in rest[:sep_len]:
        return HeaderVerdict(
            scheme,
            _loose_token(rest),
            False,
            "a tab separates scheme and token (RFC 6750 needs spaces)",
        )
    credential = rest[sep_len:]
    if lower == "basic":
        return HeaderVerdict(scheme, None, False, "Basic credentials, not a Bearer token")
    if lower == APIKEY:
        return _apikey(scheme, credential, note)
    if lower != BEARER:
        why = (
            f"{scheme} scheme: RFC 6750 servers expect 'Bearer'"
            if lower in _OTHER_TOKEN_SCHEMES
            else f"unknown scheme {scheme!r}: expected 'Bearer'"
        )
        return HeaderVerdict(scheme, _loose_token(credential), False, why)
    words = credential.split()
    if len(words) > 1 or (words and credential != words[0]):
        if words and words[0].lower() == BEARER:
            return HeaderVerdict(
                scheme,
                _loose_token(" ".join(words[1:])) if len(words) > 1 else None,
                False,
                "the scheme is doubled ('Bearer Bearer …')",
            )
        return HeaderVerdict(
            scheme,
            _loose_token(credential),
            False,
            "a second word after the token (one credential only)"
            if " " in credential.strip()
            else _first_bad(credential),
        )
    if not B64TOKEN.fullmatch(credential):
        return HeaderVerdict(scheme, _loose_token(credential), False, _first_bad(credential))
    if scheme != "Bearer":
        note = "; ".join(n for n in (note, f"scheme written {scheme!r} (case-insensitive)") if n)
    spaces = sep_len
    if spaces > 1:
        note = "; ".join(n for n in (note, f"{spaces} spaces after the scheme (allowed)") if n)
    return HeaderVerdict(scheme, credential, True, note)


def _apikey(scheme: str, credential: str, note: str) -> HeaderVerdict:
    """Elasticsearch's ``ApiKey base64(id:api_key)``: valid when it decodes to ``id:key``."""
    words = credential.split()
    if len(words) != 1 or not B64TOKEN.fullmatch(words[0]):
        return HeaderVerdict(scheme, _loose_token(credential), False, _first_bad(credential))
    if api_key_id(words[0]) is None:
        return HeaderVerdict(
            scheme, words[0], False, "ApiKey credential is not base64 of 'id:api_key'"
        )
    return HeaderVerdict(scheme, words[0], True, note)


def api_key_id(encoded: str) -> str | None:
    """The API key's id from ``base64(id:api_key)`` (the id is not secret), or None."""
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    key_id, sep, secret = text.partition(":")
    if not sep or not key_id or not secret or not key_id.isprintable():
        return None
    return key_id
