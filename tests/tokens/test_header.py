"""RFC 6750 §2.1 verdicts on Authorization header values: ``"Bearer" 1*SP b64token``.

Each row is one header value as a client sends it, the verdict, and the credential credaudit
still makes out (None for Basic credentials and for empty values: a password is not a token).
"""

from __future__ import annotations

import pytest

from credaudit.tokens.header import api_key_id, parse_authorization

T = "mF_9.B5f-4.1JqM"  # RFC 6750 §2.1's own example token
J = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"

# (value, valid, token made out, a word the reason must contain)
TABLE: list[tuple[str, bool, str | None, str]] = [
    (f"Bearer {T}", True, T, ""),
    (f"bearer {T}", True, T, "case-insensitive"),
    (f"BEARER {T}", True, T, "case-insensitive"),
    (f"BeArEr {T}", True, T, "case-insensitive"),
    (f"Bearer  {T}", True, T, "2 spaces"),
    (f"Bearer     {T}", True, T, "5 spaces"),
    (f" Bearer {T} ", True, T, "optional whitespace"),
    (f"Bearer {T}=", True, f"{T}=", ""),
    (f"Bearer {T}==", True, f"{T}==", ""),
    ("Bearer abc+/~._-", True, "abc+/~._-", ""),
    (f"Bearer {J}", True, J, ""),
    ("Bearer =abc", False, "=abc", "'=' inside"),
    ("Bearer ab=c", False, "ab=c", "'=' inside"),
    ("Bearer ==", False, "==", "'=' inside"),
    (f'Bearer "{T}"', False, T, "quoted"),
    (f"Bearer {T},realm=x", False, T, "comma"),
    (f"Bearer\t{T}", False, T, "tab"),
    (f"Bearer \t{T}", False, T, "tab"),
    (f"Bearer {T}\tmore", False, T, "tab"),
    (f"Bearer {T} extra", False, T, "second word"),
    (f"Bearer Bearer {T}", False, T, "doubled"),
    (f"Bearer bearer {T}", False, T, "doubled"),
    (f"Bearer{T}", False, T[0:], "no space"),
    ("Bearer", False, None, "no credential"),
    ("Bearer ", False, None, "no credential"),
    ("", False, None, "empty"),
    ("   ", False, None, "empty"),
    ("Basic dXNlcjpwYXNz", False, None, "Basic"),
    (f"Token {T}", False, T, "Token scheme"),
    (f"JWT {J}", False, J, "JWT scheme"),
    (f"{J}", False, J, "missing the 'Bearer ' scheme"),
    (f"Bearer {T}%3D", False, f"{T}%3D", "percent"),
    (f"Bearer {T};", False, f"{T};", "outside b64token"),
    (f"Negotiate {T}", False, T, "unknown scheme"),
    ("Bearer é", False, "é", "outside b64token"),
    (f"Bearer: {T}", False, T, "no space"),
]


@pytest.mark.parametrize(("value", "valid", "token", "reason"), TABLE)
def test_rfc6750_verdicts(value: str, valid: bool, token: str | None, reason: str) -> None:
    verdict = parse_authorization(value)
    assert verdict.valid is valid, (value, verdict)
    assert verdict.token == token, (value, verdict)
    assert reason.lower() in verdict.reason.lower(), (value, verdict.reason)
    if not valid:
        assert verdict.reason, value


def test_the_table_is_at_least_thirty_rows() -> None:
    assert len(TABLE) >= 30
    assert sum(1 for row in TABLE if row[1]) >= 10
    assert sum(1 for row in TABLE if not row[1]) >= 20


def test_the_reason_never_quotes_the_token() -> None:
    for value, _valid, token, _why in TABLE:
        reason = parse_authorization(value).reason
        if token and len(token) > 6:
            assert token not in reason, value


def test_apikey_header_is_judged_as_elasticsearch_form() -> None:
    import base64

    encoded = base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()
    good = parse_authorization(f"ApiKey {encoded}")
    assert good.valid and good.kind_hint == "api-key" and good.token == encoded
    assert api_key_id(encoded) == "VuaCfGcBCdbkQm-e5aOx"
    bad = parse_authorization("ApiKey bm90LWEtcGFpcg==")  # "not-a-pair": no colon
    assert not bad.valid and "id:api_key" in bad.reason
