"""CA301–CA309 and the status of one URL, on boto3-signed URLs at a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from credaudit.analysis.budget import Budget
from credaudit.model import KeyKind
from credaudit.presign import inspect
from credaudit.presign.model import UrlResult
from tests.presign.helpers import LONG_KEY, TEMP_KEY, presign

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def codes(result: object) -> set[str]:
    return {f.code for f in result.findings}  # type: ignore[attr-defined]


def test_fields_of_a_temporary_sigv4_url() -> None:
    url = presign(at=T0, expires=3600, region="eu-west-1")
    session_end = T0 + timedelta(minutes=30)
    r = inspect(url, now=T0 + timedelta(minutes=5), sessions={TEMP_KEY: session_end})
    assert r.algorithm == "AWS4-HMAC-SHA256"
    assert r.access_key_id == "ASIA…VV7A"
    assert r.key_kind is KeyKind.TEMPORARY
    assert r.account_id == "609629065308"
    assert (r.region, r.service, r.host) == ("eu-west-1", "s3", "bkt.s3.eu-west-1.amazonaws.com")
    assert r.addressing_style == "virtual-host"
    assert r.signed_at == T0 and r.expires_at == T0 + timedelta(hours=1)
    assert r.session_expires_at == session_end == r.effective_expires_at
    assert r.remaining_seconds == 25 * 60
    assert r.status == "valid"
    assert codes(r) == {"CA301"}
    assert "TOKEN-xyz" not in (r.url or "") and "X-Amz-Security-Token=…" in (r.url or "")
    assert TEMP_KEY not in (r.url or "")
    assert TypeAdapter(UrlResult).dump_python(r, mode="json") == r.to_dict()


def test_path_style_is_recognised() -> None:
    r = inspect(presign(at=T0, style="path", region="us-west-2"), now=T0)
    assert r.addressing_style == "path" and r.host == "s3.us-west-2.amazonaws.com"


def test_unknown_session_is_ca302_and_known_longer_session_is_clean() -> None:
    url = presign(at=T0)
    assert codes(inspect(url, now=T0)) == {"CA302"}
    r = inspect(url, now=T0, sessions={TEMP_KEY: T0 + timedelta(hours=5)})
    assert codes(r) == set() and r.effective_expires_at == T0 + timedelta(hours=1)


def test_session_override_beats_lookup() -> None:
    url = presign(at=T0)
    r = inspect(
        url,
        now=T0,
        sessions={TEMP_KEY: T0 + timedelta(hours=5)},
        session_expires=T0 + timedelta(minutes=20),
    )
    assert "CA301" in codes(r) and r.effective_expires_at == T0 + timedelta(minutes=20)


def test_expired_nominally_and_by_session() -> None:
    url = presign(at=T0, expires=60)
    r = inspect(url, now=T0 + timedelta(seconds=61), sessions={TEMP_KEY: T0 + timedelta(days=1)})
    assert r.status == "expired" and "CA303" in codes(r) and r.remaining_seconds == -1
    r = inspect(
        presign(at=T0, expires=3600),
        now=T0 + timedelta(minutes=11),
        sessions={TEMP_KEY: T0 + timedelta(minutes=10)},
    )
    assert r.status == "expired" and {"CA303", "CA301"} <= codes(r)
    assert "session" in next(f.message for f in r.findings if f.code == "CA303")


def test_min_remaining_and_url_ttl_give_ca304() -> None:
    url = presign(at=T0, expires=3600)
    sessions = {TEMP_KEY: T0 + timedelta(days=1)}
    budget = Budget(min_remaining=timedelta(hours=2))
    r = inspect(url, now=T0, budget=budget, sessions=sessions)
    assert r.status == "expiring" and codes(r) == {"CA304"}
    r = inspect(
        url,
        now=T0,
        budget=Budget(min_remaining=timedelta(0), url_ttl=timedelta(hours=2)),
        sessions=sessions,
    )
    assert codes(r) == {"CA304"}
    r = inspect(url, now=T0, budget=Budget(min_remaining=timedelta(minutes=30)), sessions=sessions)
    assert codes(r) == set() and r.status == "valid"


@pytest.mark.parametrize(
    ("expires", "flagged"),
    [("0", True), ("1", False), ("604800", False), ("604801", True), ("12x", True), ("-5", True)],
)
def test_expires_range_is_ca305(expires: str, flagged: bool) -> None:
    url = presign(at=T0).replace("X-Amz-Expires=3600", f"X-Amz-Expires={expires}")
    r = inspect(url, now=T0)
    assert ("CA305" in codes(r)) is flagged
    assert (r.status == "invalid") is flagged


def test_future_dated_beyond_skew_is_ca306() -> None:
    url = presign(at=T0 + timedelta(minutes=10))
    assert "CA306" in codes(inspect(url, now=T0))
    assert "CA306" not in codes(
        inspect(url, now=T0, budget=Budget(skew_margin=timedelta(minutes=15)))
    )
    at_margin = Budget(skew_margin=timedelta(minutes=10))
    assert "CA306" not in codes(inspect(url, now=T0, budget=at_margin))
    ahead = inspect(url, now=T0 - timedelta(seconds=1), budget=at_margin).findings
    assert [f.message for f in ahead if f.code == "CA306"] == [
        "X-Amz-Date 2030-01-01T00:10:00Z is 10m ahead"
    ]


def test_the_query_ends_at_a_fragment_and_starts_at_the_first_question_mark() -> None:
    url = presign(at=T0)
    head, _, query = url.partition("?")
    assert inspect(f"{head}#part?{query}", now=T0).findings[0].message == (
        "URL has no query string: not a presigned URL"
    )
    # "://" inside the query (a redirect target, say) does not make the URL's scheme
    bare = head.removeprefix("https://")
    r = inspect(f"{bare}?{query}&next=https://example.com/", now=T0)
    assert r.host == "bkt.s3.amazonaws.com" and r.url is not None
    assert r.url.startswith("https://bkt.s3.amazonaws.com/") and codes(r) == {"CA302"}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda u: u.replace("X-Amz-Date=", "X-Amz-Datum="),
        lambda u: u.replace("X-Amz-Date=20300101T000000Z", "X-Amz-Date=2030-01-01"),
        lambda u: u + "&X-Amz-Expires=10",
        lambda u: u.replace("%2Fs3%2F", "%2F"),
        lambda u: u.replace("X-Amz-Signature=", "X-Amz-Signature=zz"),
        lambda u: u.split("?")[0],
        lambda u: u.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders="),
    ],
)
def test_malformed_is_ca307(mangle: object) -> None:
    url = mangle(presign(at=T0))  # type: ignore[operator]
    r = inspect(url, now=T0)
    assert "CA307" in codes(r) and r.status == "invalid"


def test_long_term_key_is_ca309_not_ca302() -> None:
    r = inspect(presign(at=T0, key=LONG_KEY, token=None), now=T0)
    assert codes(r) == {"CA309"} and r.key_kind is KeyKind.LONG_TERM


def test_signature_mismatch_is_ca308_and_invalid() -> None:
    url = presign(at=T0, secret="right")
    ok = inspect(url, now=T0, secret="right", sessions={TEMP_KEY: T0 + timedelta(days=1)})
    assert ok.signature_valid is True and ok.signed_method == "GET" and ok.status == "valid"
    bad = inspect(url, now=T0, secret="wrong", sessions={TEMP_KEY: T0 + timedelta(days=1)})
    assert bad.signature_valid is False and "CA308" in codes(bad) and bad.status == "invalid"


@pytest.mark.parametrize(
    "spelling",
    [str.upper, lambda s: s[:-1], lambda s: s + "0", lambda s: "é" * 64, lambda s: "\udcff" * 64],
    ids=["upper-case", "short", "long", "non-ascii", "lone-surrogates"],
)
def test_a_signature_spelled_otherwise_never_verifies(spelling: Callable[[str], str]) -> None:
    """Only the lower-case hex of the right digest matches: the right digest in upper case
    is a mismatch too (AWS compares the text), and text that is no hex at all is a mismatch,
    never an error."""
    url = presign(at=T0, secret="right")
    signature = url.split("X-Amz-Signature=")[1].split("&")[0]
    assert inspect(url, now=T0, secret="right").signature_valid is True
    changed = url.replace(signature, spelling(signature))
    assert inspect(changed, now=T0, secret="right").signature_valid is False


def test_secrets_by_key_id_pick_the_signing_keys_secret() -> None:
    """A mapping of secrets checks each URL (SigV4 and SigV2) with its own key's secret."""
    day = {TEMP_KEY: T0 + timedelta(days=1), LONG_KEY: T0 + timedelta(days=1)}
    v4 = presign(at=T0, secret="mine")
    v2 = presign(at=T0, key=LONG_KEY, token=None, version="s3", secret="theirs")
    secrets = {TEMP_KEY: "mine", LONG_KEY: "theirs"}
    assert [inspect(u, now=T0, secret=secrets, sessions=day).signature_valid for u in (v4, v2)] == [
        True,
        True,
    ]
    swapped = {TEMP_KEY: "theirs", LONG_KEY: "mine"}
    assert inspect(v4, now=T0, secret=swapped, sessions=day).signature_valid is False
    unknown = inspect(v4, now=T0, secret={LONG_KEY: "mine"}, sessions=day)
    assert unknown.signature_valid is None and "CA308" not in codes(unknown)
    assert unknown.signature_note == "no secret given for the key that signed this URL"


def test_put_url_reports_put() -> None:
    url = presign(at=T0, client_method="put_object", secret="s")
    assert inspect(url, now=T0, secret="s").signed_method == "PUT"


def test_sigv2_url() -> None:
    url = presign(at=T0, version="s3", expires=600, secret="s")
    r = inspect(url, now=T0, secret="s", sessions={TEMP_KEY: T0 + timedelta(days=1)})
    assert r.algorithm == "AWS-HMAC-SHA1-QUERY"
    assert r.expires_at == T0 + timedelta(minutes=10)
    assert r.signature_valid is True and r.status == "expiring"  # 10 min < default 15 min
    assert "x-amz-security-token=…" in (r.url or "") and "Signature=…" in (r.url or "")


@pytest.mark.parametrize(
    ("expires", "until", "problem"),
    [
        ("253402300799", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), None),
        ("253402300800", None, "Expires is out of range"),  # past year 9999
        ("999999999999999", None, "Expires is out of range"),  # past timedelta's range
        ("1e9", None, "Expires is not an epoch integer"),
    ],
)
def test_sigv2_epoch_expiry_bounds(
    expires: str, until: datetime | None, problem: str | None
) -> None:
    url = presign(at=T0, version="s3", expires=600).replace(
        f"Expires={int((T0 + timedelta(minutes=10)).timestamp())}", f"Expires={expires}"
    )
    r = inspect(url, now=T0)
    assert r.expires_at == until
    messages = [f.message for f in r.findings if f.code == "CA305"]
    assert messages == ([problem] if problem else [])


def test_sigv4a_url_is_parsed_with_region_set() -> None:
    url = (
        "https://mrap.accesspoint.s3-global.amazonaws.com/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"
        f"&X-Amz-Credential={TEMP_KEY}%2F20300101%2Fs3%2Faws4_request&X-Amz-Date=20300101T000000Z"
        "&X-Amz-Expires=600&X-Amz-Region-Set=us-east-1%2Cus-west-2&X-Amz-SignedHeaders=host"
        "&X-Amz-Security-Token=TOK&X-Amz-Signature=3045022100ab"
    )
    r = inspect(url, now=T0, secret="x", session_expires=T0 + timedelta(hours=1))
    assert r.algorithm == "AWS4-ECDSA-P256-SHA256"
    assert r.region == "us-east-1,us-west-2" and r.service == "s3"
    assert r.signature_valid is None and "SigV4A" in (r.signature_note or "")
    assert "CA307" not in codes(r)


def test_session_index_keeps_the_earliest_expiry_and_skips_keyless() -> None:
    from credaudit.model import Observation
    from credaudit.presign.sessions import session_index

    early, late = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    index = session_index(
        [
            Observation(source="env", origin="env", access_key_id=TEMP_KEY, expires_at=late),
            Observation(source="cli-cache", origin="f", access_key_id=TEMP_KEY, expires_at=early),
            Observation(source="profiles", origin="p", access_key_id=LONG_KEY),
            Observation(source="sso", origin="s", expires_at=early),
        ]
    )
    assert index == {TEMP_KEY: early}


def test_find_sessions_survives_a_source_that_fails_to_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path, PurePosixPath

    import credaudit.sources as sources
    from credaudit.clock import Clock
    from credaudit.presign.sessions import find_sessions
    from credaudit.target import Target

    def broken(name: str) -> object:
        if name == "env":
            raise ImportError("mid-edit")
        return None

    monkeypatch.setattr(sources, "_collector", broken)
    target = Target(
        root=Path("/nonexistent"), home=PurePosixPath("/h"), env={}, clock=Clock(T0), network=False
    )
    assert find_sessions(target) == {}


def test_retries_past_the_session_are_ca202() -> None:
    url = presign(at=T0, expires=6 * 3600)
    sessions = {TEMP_KEY: T0 + timedelta(hours=1)}  # the session dies long before the URL says
    quiet = Budget(min_remaining=timedelta(0))
    assert "CA202" not in codes(inspect(url, now=T0, budget=quiet, sessions=sessions))
    # first use after 20 min, retries for 30 min more: 50 min < 60 min left, still fine
    fits = Budget(
        min_remaining=timedelta(0),
        queue_dwell=timedelta(minutes=20),
        retry_budget=timedelta(minutes=30),
    )
    assert "CA202" not in codes(inspect(url, now=T0, budget=fits, sessions=sessions))
    # one second more than the session has left
    over = Budget(
        min_remaining=timedelta(0),
        queue_dwell=timedelta(minutes=20),
        retry_budget=timedelta(minutes=40),
        skew_margin=timedelta(seconds=1),
    )
    r = inspect(url, now=T0, budget=over, sessions=sessions)
    assert codes(r) == {"CA301", "CA202"}
    [finding] = [f for f in r.findings if f.code == "CA202"]
    assert "its session ends at 2030-01-01T01:00:00Z, in 1h" in finding.message
    assert "queue dwell 20m + retries 40m" in finding.message
    assert r.status == "valid"  # the first use still works; only the late retries fail


def test_retries_past_the_urls_own_expiry_are_ca202_too() -> None:
    url = presign(at=T0, expires=600)
    budget = Budget(min_remaining=timedelta(0), retry_budget=timedelta(minutes=15))
    r = inspect(url, now=T0, budget=budget, sessions={TEMP_KEY: T0 + timedelta(hours=8)})
    assert codes(r) == {"CA202"}
    assert "it expires at 2030-01-01T00:10:00Z" in r.findings[0].message
    # an expired URL is CA303, not a retry problem
    late = inspect(url, now=T0 + timedelta(hours=1), budget=budget, sessions={})
    assert "CA202" not in codes(late) and "CA303" in codes(late)
