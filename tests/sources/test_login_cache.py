"""The ``aws login`` token cache source, checked against botocore's own login test table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.utils import generate_login_cache_key
from hypothesis import example, given
from hypothesis import strategies as st

from credaudit.keys import fingerprint
from credaudit.model import KeyKind
from credaudit.report.json import to_json
from credaudit.sources import login_cache
from tests.helpers_home import make_home

CASES = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "conformance"
    / "caches"
    / "test_case_tables"
    / "botocore__login-provider-test-cases.json"
)
SESSION = "arn:aws:sts::012345678910:assumed-role/Admin/admin"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "AQoEXAMPLEH4aoAH0gNCAPyJxz4BlCFFxWNE1OPTgk5"
REFRESH = "refresh-token-secret-value"


@given(st.text())
@example(SESSION)
def test_key_matches_botocore(name: str) -> None:
    assert login_cache.login_cache_key(name) == generate_login_cache_key(name)


def _doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "accessToken": {
            "accessKeyId": "ASIAY34FZKBOKMUTVV7A",
            "secretAccessKey": SECRET,
            "sessionToken": TOKEN,
            "accountId": "012345678901",
            "expiresAt": "2030-01-01T12:15:00Z",
        },
        "tokenType": "aws_sigv4",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": REFRESH,
        "idToken": "x.y.z",
        "dpopKey": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
    }
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


def test_full_entry(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    key = login_cache.login_cache_key(SESSION)
    path = fake.write(f".aws/login/cache/{key}.json", _doc())
    [obs] = login_cache.collect(fake.target)
    assert obs.source == "login-token"
    assert obs.origin == str(path)
    assert obs.file_mode == 0o600
    assert obs.details == {"cache_key": key, "refresh_token_present": True}
    assert obs.expires_at == datetime(2030, 1, 1, 12, 15, tzinfo=UTC)
    assert obs.refreshable is True
    assert obs.account_id == "012345678901"
    assert obs.key_kind is KeyKind.TEMPORARY
    assert obs.session_token_fingerprint == fingerprint(TOKEN)
    assert obs.has_secret is True
    dumped = to_json(obs) + repr(obs)
    for secret in (SECRET, TOKEN, REFRESH, "BEGIN PRIVATE KEY", "ASIAY34FZKBOKMUTVV7A"):
        assert secret not in dumped


@pytest.mark.parametrize("missing", ["refreshToken", "dpopKey", "clientId"])
def test_missing_refresh_material(tmp_path: Path, missing: str) -> None:
    fake = make_home(tmp_path)
    fake.write(".aws/login/cache/k.json", _doc(**{missing: None}))
    [obs] = login_cache.collect(fake.target)
    assert obs.refreshable is False
    assert any(f"missing required fields: {missing}" in p.message for p in obs.problems)


def test_directory_from_env_with_variable(tmp_path: Path) -> None:
    fake = make_home(
        tmp_path, env={"AWS_LOGIN_CACHE_DIRECTORY": "$BASE/login", "BASE": str(tmp_path)}
    )
    fake.write("unused.json", _doc())
    (tmp_path / "login").mkdir()
    (tmp_path / "login" / "k.json").write_text(json.dumps(_doc()))
    [obs] = login_cache.collect(fake.target)
    assert obs.origin == str(tmp_path / "login" / "k.json")


def test_directory_env_with_tilde(tmp_path: Path) -> None:
    fake = make_home(tmp_path, env={"AWS_LOGIN_CACHE_DIRECTORY": "~/elsewhere"})
    fake.write("elsewhere/k.json", _doc())
    fake.write(".aws/login/cache/ignored.json", _doc())
    [obs] = login_cache.collect(fake.target)
    assert obs.details["cache_key"] == "k"


def test_access_token_not_an_object(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(".aws/login/cache/k.json", _doc(accessToken="oops"))
    [obs] = login_cache.collect(fake.target)
    assert any("accessToken is not an object" in p.message for p in obs.problems)
    assert "oops" not in to_json(obs)


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CASES.read_text()) if CASES.exists() else []
    return cases


@pytest.mark.skipif(not CASES.exists(), reason="shared conformance data not present")
@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["documentation"])
def test_botocore_login_table(tmp_path: Path, case: dict[str, Any]) -> None:
    """Cases botocore fails to load without a refresh are CA702; cases it loads match."""
    fake = make_home(tmp_path)
    for name, body in case["cacheContents"].items():
        fake.write(f".aws/login/cache/{name}", body)
    observations = login_cache.collect(fake.target)
    assert len(observations) == len(case["cacheContents"])
    if not observations:
        return
    [obs] = observations
    assert obs.details["cache_key"] == login_cache.login_cache_key(SESSION)
    first = case["outcomes"][0]
    if first["result"] == "credentials" and "mockApiCalls" not in case:
        assert obs.problems == ()
        assert obs.expires_at == datetime.fromisoformat(first["expiresAt"])
        assert obs.account_id == first["accountId"]
    elif "mockApiCalls" not in case:
        assert obs.problems, "botocore rejected this entry; we must say why"
