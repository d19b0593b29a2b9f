"""Lifetime, header and expectation findings of ``credaudit.tokens.inspect`` (CA801-CA808)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from credaudit.analysis.budget import Budget
from credaudit.tokens import Expectations, inspect
from tests.tokens.helpers import NOW, T0, claims, hs256, rs256, unsigned


def codes(record: object) -> list[str]:
    return [f.code for f in record.findings]  # type: ignore[attr-defined]


def test_a_healthy_token_has_its_times_and_claims_and_no_findings() -> None:
    record = inspect(rs256(), now=NOW)
    assert record.kind == "jwt" and record.algorithm == "RS256" and record.key_id == "key-0"
    assert record.expires_at is not None and record.expires_at.timestamp() == T0 + 540
    assert record.issued_at is not None and record.issued_at.timestamp() == T0 - 60
    assert (record.lifetime_seconds, record.remaining_seconds) == (600, 540)
    assert (record.iss, record.sub, record.aud) == (
        "https://issuer.example",
        "svc-orders",
        ["urn:api"],
    )
    assert (record.scope, record.client_id) == ("read write", "orders")
    assert record.status == "valid" and codes(record) == []
    assert record.signature_valid is None and "not checked" in (record.signature_note or "")


def test_expired_beyond_the_skew_margin_is_ca801() -> None:
    record = inspect(rs256(claims(exp=T0 - 61)), now=NOW)
    assert record.status == "expired" and codes(record) == ["CA801"]
    assert record.remaining_seconds == -61


def test_exp_equal_to_now_is_expired_as_the_rfc_says() -> None:
    record = inspect(rs256(claims(exp=T0)), now=NOW, budget=Budget())
    assert record.status == "expired" and codes(record) == ["CA801"]


def test_expired_within_the_skew_margin_is_ca802_not_ca801() -> None:
    record = inspect(rs256(claims(exp=T0 - 30)), now=NOW)
    assert record.status == "expired" and codes(record) == ["CA802"]
    assert "within the skew margin" in record.findings[0].message


def test_a_token_that_dies_before_the_work_ends_is_ca802() -> None:
    budget = Budget(run_time=timedelta(minutes=5), skew_margin=timedelta(seconds=60))
    record = inspect(rs256(claims(iat=T0, exp=T0 + 60)), now=NOW, budget=budget)
    assert codes(record) == ["CA802"] and record.status == "expiring"
    assert "6m" in record.findings[0].message
    enough = inspect(rs256(claims(iat=T0, exp=T0 + 400)), now=NOW, budget=budget)
    assert codes(enough) == []


def test_future_nbf_is_not_yet_valid_ca803() -> None:
    record = inspect(rs256(claims(nbf=T0 + 300)), now=NOW)
    assert record.status == "not-yet-valid" and codes(record) == ["CA803"]
    inside = inspect(rs256(claims(nbf=T0 + 30)), now=NOW)
    assert inside.status == "not-yet-valid" and codes(inside) == []


def test_future_iat_is_clock_skew_not_an_invalid_token() -> None:
    record = inspect(rs256(claims(iat=T0 + 300, exp=T0 + 900)), now=NOW)
    assert codes(record) == ["CA803"] and record.status == "valid"
    assert "skew" in record.findings[0].message


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0", "2 dot-separated"),
        ("eyJhbGciOiJIUzI1NiJ9.e30.c2ln.eHh4", "4 dot-separated"),
        ("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "claims segment is not JSON"),
        ("eyJhbGciOiJIUzI1NiJ9.WzFd.c2ln", "not an object"),
        ("eyJub3QganNvbg.e30.c2ln", "header segment is not JSON"),
        ("eyJhbGciOiJIUzI1NiJ9.e30+.c2ln", "not base64url"),
        ("eyJhbGciOiJIUzI1NiJ9..c2ln", "claims segment is empty"),
    ],
)
def test_broken_jwts_are_ca804(token: str, why: str) -> None:
    record = inspect(token, now=NOW)
    assert record.kind == "jwt" and record.status == "invalid"
    assert "CA804" in codes(record)
    assert why in record.findings[0].message


def test_a_non_numeric_exp_is_ca804() -> None:
    record = inspect(rs256(claims(exp="tomorrow")), now=NOW)
    assert "CA804" in codes(record) and record.status == "invalid"


def test_a_bare_token_with_quotes_is_ca804() -> None:
    record = inspect('"abcdef"', now=NOW)
    assert record.kind == "opaque" and codes(record) == ["CA804"]


def test_an_opaque_token_has_no_known_expiry() -> None:
    record = inspect("2YotnFZFEjr1zCsicMWpAA", now=NOW)
    assert record.kind == "opaque" and record.status == "unknown" and codes(record) == []
    assert record.expires_at is None and record.signature_valid is None


def test_a_bad_header_is_ca805_and_its_token_is_still_judged() -> None:
    record = inspect(f"Authorization: Bearer Bearer {rs256(claims(exp=T0 - 3600))}", now=NOW)
    assert record.header_valid is False
    assert sorted(codes(record)) == ["CA801", "CA805"]
    assert record.expires_at is not None


def test_a_good_header_is_header_valid_true() -> None:
    record = inspect(f"Authorization: Bearer {rs256()}", now=NOW)
    assert record.header_valid is True and codes(record) == []
    assert inspect(rs256(), now=NOW).header_valid is None


def test_alg_none_is_ca806_even_without_keys() -> None:
    record = inspect(unsigned(), now=NOW)
    assert record.signature_valid is False and codes(record) == ["CA806"]
    assert record.status == "invalid"


@pytest.mark.parametrize(
    ("expect", "fragment"),
    [
        (Expectations(audience=("urn:other",)), "aud"),
        (Expectations(issuer="https://evil.example"), "iss"),
        (Expectations(scopes=("admin",)), "scope lacks admin"),
        (Expectations(typ="at+jwt"), "typ"),
    ],
)
def test_expectations_that_fail_are_ca807(expect: Expectations, fragment: str) -> None:
    record = inspect(rs256(), now=NOW, expect=expect)
    assert codes(record) == ["CA807"] and fragment in record.findings[0].message
    assert record.status == "invalid"


def test_expectations_that_hold_give_nothing() -> None:
    token = rs256(typ="at+jwt")
    expect = Expectations(
        audience=("urn:x", "urn:api"),
        issuer="https://issuer.example",
        scopes=("read",),
        typ="application/at+jwt",
    )
    assert codes(inspect(token, now=NOW, expect=expect)) == []


def test_an_audience_array_is_read_whole() -> None:
    token = rs256(claims(aud=["urn:a", "urn:api"]))
    record = inspect(token, now=NOW, expect=Expectations(audience=("urn:api",)))
    assert record.aud == ["urn:a", "urn:api"] and codes(record) == []


def test_no_exp_is_ca808() -> None:
    record = inspect(hs256(claims(exp=None)), now=NOW)
    assert codes(record) == ["CA808"] and "no exp" in record.findings[0].message


def test_a_lifetime_over_the_policy_is_ca808() -> None:
    token = rs256(claims(iat=T0, exp=T0 + 7200))
    assert codes(inspect(token, now=NOW)) == ["CA808"]
    assert codes(inspect(token, now=NOW, max_lifetime=timedelta(hours=3))) == []


def test_the_record_never_holds_the_token() -> None:
    token = rs256()
    record = inspect(f"Authorization: Bearer {token}", now=NOW)
    assert token not in repr(record) and token not in str(record.to_dict())
    assert record.fingerprint and record.fingerprint.startswith("sha256:")
    assert record.masked == f"{token[:4]}…{token[-4:]} ({len(token)} chars)"


def _eks_token(signed_at: datetime) -> str:
    """An EKS token as botocore's signer makes it for ``aws eks get-token``."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        "GET",
        "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={"x-k8s-aws-id": "blue"},
    )
    signer = SigV4QueryAuth(Credentials("ASIAY34FZKBOKMUTVV7A", "s", "tok"), "sts", "us-east-1", 60)
    naive = signed_at.replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
        signer.add_auth(request)
    url = request.url
    assert url is not None
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def test_an_eks_token_is_dated_by_the_url_it_holds() -> None:
    signed = datetime.fromtimestamp(T0 - 600, UTC)
    record = inspect(_eks_token(signed), now=NOW)
    assert record.kind == "opaque" and record.issued_at == signed
    assert record.expires_at == signed + timedelta(minutes=15)
    assert (record.lifetime_seconds, record.remaining_seconds) == (900, 300)
    assert record.status == "valid" and any("EKS token" in n for n in record.notes)
    late = inspect(_eks_token(signed - timedelta(minutes=10)), now=NOW)
    assert late.status == "expired" and codes(late) == ["CA801"]
    broken = inspect("k8s-aws-v1.aGVsbG8", now=NOW)
    assert broken.status == "invalid" and codes(broken) == ["CA804"]
