"""The SSO token cache source: token/registration/other, refreshability as botocore decides it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.utils import SSOTokenLoader
from hypothesis import example, given
from hypothesis import strategies as st

from credaudit.durations import parse_instant
from credaudit.report.json import to_json
from credaudit.sources import sso_cache
from tests.helpers_home import NOW, make_home

CACHE = ".aws/sso/cache"
REFRESH_CASES = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "conformance"
    / "caches"
    / "test_case_tables"
    / "botocore__test_tokens__sso_provider_refresh_cases.json"
)
ACCESS = "aoaAAAAAGexampleaccesstoken"
REFRESH = "aorvJYubGpU6iexamplerefresh"
CLIENT_SECRET = "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0examplesecret"


@given(st.text())
@example("https://d-92671207e4.awsapps.com/start")
@example("my-sso-session-ü")
def test_token_key_matches_botocore(name: str) -> None:
    loader = SSOTokenLoader()
    assert sso_cache.sso_token_cache_key(name) == loader._generate_cache_key(name, None)
    assert sso_cache.sso_token_cache_key(name) == loader._generate_cache_key("ignored", name)


def _full_token(**overrides: Any) -> dict[str, Any]:
    token = {
        "startUrl": "https://d-123.awsapps.com/start",
        "region": "us-west-2",
        "accessToken": ACCESS,
        "expiresAt": "2030-01-01T13:00:00Z",
        "clientId": "clientid",
        "clientSecret": CLIENT_SECRET,
        "registrationExpiresAt": "2030-03-01T00:00:00Z",
        "refreshToken": REFRESH,
    }
    token.update(overrides)
    return {k: v for k, v in token.items() if v is not None}


def test_full_token_is_refreshable(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    path = fake.write(f"{CACHE}/abc.json", _full_token())
    [obs] = sso_cache.collect(fake.target)
    assert obs.source == "sso-token"
    assert obs.origin == str(path)
    assert obs.file_mode == 0o600
    assert obs.expires_at == datetime(2030, 1, 1, 13, tzinfo=UTC)
    assert obs.refreshable is True
    assert obs.details == {
        "cache_key": "abc",
        "start_url": "https://d-123.awsapps.com/start",
        "region": "us-west-2",
        "refresh_token_present": True,
        "client_secret_present": True,
        "client_id_present": True,
        "registration_expires_at": "2030-03-01T00:00:00Z",
    }
    dumped = to_json(obs) + repr(obs)
    for secret in (ACCESS, REFRESH, CLIENT_SECRET):
        assert secret not in dumped


@pytest.mark.parametrize(
    "overrides",
    [
        {"refreshToken": None},
        {"clientSecret": None},
        {"clientId": None},
        {"registrationExpiresAt": None},
        {"registrationExpiresAt": "2029-12-31T00:00:00Z"},  # registration expired before now
        {"refreshToken": ""},
    ],
)
def test_not_refreshable(tmp_path: Path, overrides: dict[str, Any]) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/abc.json", _full_token(**overrides))
    [obs] = sso_cache.collect(fake.target)
    assert obs.refreshable is False
    assert obs.problems == ()


def test_registration_expiry_is_judged_at_target_clock(tmp_path: Path) -> None:
    fake = make_home(tmp_path, now=datetime(2030, 3, 2, tzinfo=UTC))
    fake.write(f"{CACHE}/abc.json", _full_token())
    [obs] = sso_cache.collect(fake.target)
    assert obs.refreshable is False


def test_client_registration_file(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    body = {"clientId": "cid", "clientSecret": CLIENT_SECRET, "expiresAt": "2030-02-01T00:00:00Z"}
    fake.write(f"{CACHE}/reg.json", body)
    [obs] = sso_cache.collect(fake.target)
    assert obs.source == "sso-registration"
    assert obs.expires_at == datetime(2030, 2, 1, tzinfo=UTC)
    assert CLIENT_SECRET not in to_json(obs)


def test_other_json_is_not_a_problem(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/other.json", {"something": "else"})
    [obs] = sso_cache.collect(fake.target)
    assert obs.source == "sso-cache-other"
    assert obs.problems == ()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"expiresAt": "2030-01-01T13:00:00Z"}, "accessToken is missing or empty"),
        ({"accessToken": ""}, "accessToken is missing or empty"),
        ({"accessToken": ACCESS}, "expiresAt is missing"),
        ({"accessToken": ACCESS, "expiresAt": "notatimestamp"}, "expiresAt is not a timestamp"),
        ({"accessToken": ACCESS, "expiresAt": ["x"]}, "expiresAt is not a timestamp"),
    ],
)
def test_broken_token(tmp_path: Path, body: dict[str, Any], reason: str) -> None:
    fake = make_home(tmp_path)
    path = fake.write(f"{CACHE}/t.json", body)
    [obs] = sso_cache.collect(fake.target)
    assert obs.source == "sso-token"
    assert f"{path}: {reason}" in [p.message for p in obs.problems]
    assert ACCESS not in to_json(obs)


def test_utc_suffix_and_mode(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(
        f"{CACHE}/t.json", {"accessToken": ACCESS, "expiresAt": "2030-01-01T14:00:00UTC"}, 0o644
    )
    [obs] = sso_cache.collect(fake.target)
    assert obs.expires_at == datetime(2030, 1, 1, 14, tzinfo=UTC)
    assert obs.file_mode == 0o644


def _refresh_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(REFRESH_CASES.read_text())
    return cases


@pytest.mark.skipif(not REFRESH_CASES.exists(), reason="shared conformance data not present")
@pytest.mark.parametrize(
    "case", _refresh_cases() if REFRESH_CASES.exists() else [], ids=lambda c: c["documentation"]
)
def test_botocore_refresh_table(tmp_path: Path, case: dict[str, Any]) -> None:
    """botocore's own SSO refresh cases: what we say about the token matches what it did."""
    now = parse_instant(case["currentTime"])
    fake = make_home(tmp_path, now=now)
    fake.write(f"{CACHE}/case.json", case["cachedToken"])
    [obs] = sso_cache.collect(fake.target)
    if "refreshResponse" in case:
        # botocore refreshed it: we must call it refreshable
        assert obs.refreshable is True
    elif "expectedToken" in case:
        # served from cache as is: our expiry equals botocore's
        assert obs.problems == ()
        assert obs.expires_at == parse_instant(case["expectedToken"]["expiration"])
    else:
        # botocore raised: broken file, or expired and not refreshable
        assert obs.refreshable is False
        assert obs.problems or (obs.expires_at is not None and obs.expires_at <= now)


def test_missing_dir(tmp_path: Path) -> None:
    assert sso_cache.collect(make_home(tmp_path).target) == []


def test_far_past_registration(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    past = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.write(f"{CACHE}/t.json", _full_token(registrationExpiresAt=past))
    [obs] = sso_cache.collect(fake.target)
    assert obs.refreshable is False
    assert obs.details["registration_expires_at"] == past
