"""Every cache/token document collected from other SDKs' tests goes through our sources.

Each file is put where its source reads it and must yield an observation or a CA702, never an
exception.  Expiry is checked against an independent oracle, not hard-coded: botocore's own
timestamp parsing (dateutil) for caches, botocore's ProcessProvider itself for
credential_process output, and a plain base64url decode for JWTs.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from credaudit.model import Observation
from credaudit.report.json import to_json
from credaudit.sources import cli_cache, process, sso_cache, web_identity
from tests.helpers_home import make_home

CACHES = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "caches"
SECRET_FIELDS = ("SecretAccessKey", "SessionToken", "accessToken", "refreshToken", "clientSecret")


def _files(folder: str) -> list[Path]:
    directory = CACHES / folder
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.iterdir() if p.is_file() and not p.name.endswith(".source.json")
    )


def _ids(path: Path) -> str:
    return path.name


def _require_data() -> None:
    if not CACHES.is_dir():
        pytest.skip(f"shared conformance data not present at {CACHES}")


def test_data_is_present() -> None:
    """A missing folder must not make this module pass vacuously."""
    _require_data()
    for folder in (
        "cli_cache",
        "sso_token_cache",
        "sso_get_role_credentials",
        "web_identity_jwt",
        "credential_process",
    ):
        assert _files(folder), folder


def _dateutil(value: object) -> datetime | None:
    """botocore's own reading of a cache timestamp (``credentials._parse_if_needed``)."""
    from botocore.credentials import _parse_if_needed

    if not isinstance(value, str):
        return None
    try:
        parsed: datetime = _parse_if_needed(value)
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except ValueError:
        return None


def _no_secrets(obs: Observation, doc: Any) -> None:
    dumped = to_json(obs) + repr(obs)
    values: list[str] = []
    if isinstance(doc, dict):
        creds = doc.get("Credentials")
        for mapping in (doc, creds if isinstance(creds, dict) else {}):
            values += [mapping[k] for k in SECRET_FIELDS if isinstance(mapping.get(k), str)]
    for value in values:
        if len(value) >= 8:
            assert value not in dumped


def _expect_one(observations: list[Observation]) -> Observation:
    assert len(observations) == 1
    return observations[0]


@pytest.mark.parametrize("path", _files("cli_cache"), ids=_ids)
def test_cli_cache(tmp_path: Path, path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f".aws/cli/cache/{path.stem}.json", path.read_bytes())
    obs = _expect_one(cli_cache.collect(fake.target))
    doc = _json(path)
    creds = doc.get("Credentials") if isinstance(doc, dict) else None
    expected = _dateutil(creds.get("Expiration")) if isinstance(creds, dict) else None
    if expected is None:
        assert [p.code for p in obs.problems][:1] == ["CA702"]
    else:
        assert obs.expires_at == expected
        assert obs.problems == ()
        assert obs.access_key_masked is not None
    _no_secrets(obs, doc)


def test_sso_role_cache_key_matches_botocore_fixture() -> None:
    _require_data()
    [path] = [
        p for p in _files("cli_cache") if p.name.startswith("botocore__SSOCredentialFetcher__")
    ]
    sidecar = json.loads(Path(f"{path}.source.json").read_text())
    assert "test-role" in sidecar["expected_result_in_source"]
    key = cli_cache.sso_role_cache_key(
        "1234567890",
        "test-role",
        session_name=None,
        start_url="https://d-92671207e4.awsapps.com/start",
    )
    assert path.stem.endswith(key)


def test_sso_token_cache_key_table() -> None:
    _require_data()
    table = json.loads(
        (
            CACHES / "sso_token_cache" / "smithy-rs__sso_cache_rs__cache_filename_table.json"
        ).read_text()
    )
    assert table
    for row in table:
        name = Path(row["expected_path"]).stem
        assert sso_cache.sso_token_cache_key(row["session_name_or_start_url"]) == name


@pytest.mark.parametrize("path", _files("sso_token_cache"), ids=_ids)
def test_sso_token_cache(tmp_path: Path, path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f".aws/sso/cache/{path.stem}.json", path.read_bytes())
    obs = _expect_one(sso_cache.collect(fake.target))
    doc = _json(path)
    if not isinstance(doc, dict):
        assert obs.problems[0].code == "CA702"
        return
    # SSOTokenLoader refuses a token without accessToken or expiresAt; then dateutil parses it
    loads = "accessToken" in doc and "expiresAt" in doc
    expected = _dateutil(doc.get("expiresAt")) if loads else None
    assert obs.source == "sso-token"
    if expected is None:
        assert "CA702" in [p.code for p in obs.problems]
    else:
        assert obs.expires_at == expected
        if doc["accessToken"]:
            assert obs.problems == ()
    _no_secrets(obs, doc)


@pytest.mark.parametrize("path", _files("sso_get_role_credentials"), ids=_ids)
def test_sso_get_role_credentials_is_not_a_cache_entry(tmp_path: Path, path: Path) -> None:
    """The raw portal response is never what the CLI caches: reading it is a CA702, not a crash."""
    fake = make_home(tmp_path)
    fake.write(f".aws/cli/cache/{path.stem}.json", path.read_bytes())
    obs = _expect_one(cli_cache.collect(fake.target))
    assert obs.problems[0].code == "CA702"
    assert obs.expires_at is None
    role_creds = (_json(path) or {}).get("roleCredentials", {})
    for field in ("secretAccessKey", "sessionToken"):
        if isinstance(role_creds.get(field), str):
            assert role_creds[field] not in to_json(obs)


def _jwt_payload(raw: bytes) -> dict[str, Any] | None:
    parts = raw.decode("utf-8", "replace").strip().split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


@pytest.mark.parametrize("path", _files("web_identity_jwt"), ids=_ids)
def test_web_identity_jwt(tmp_path: Path, path: Path) -> None:
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(path)})
    obs = _expect_one(web_identity.collect(fake.target))
    raw = path.read_bytes()
    payload = _jwt_payload(raw)
    if payload is None or not isinstance(payload.get("exp"), int | float):
        assert "CA702" in [p.code for p in obs.problems]
    else:
        assert obs.expires_at == datetime.fromtimestamp(payload["exp"], UTC)
        if isinstance(payload.get("iat"), int | float):
            assert obs.issued_at == datetime.fromtimestamp(payload["iat"], UTC)
    assert raw.decode("utf-8", "replace").strip() not in to_json(obs)


def _botocore_process(path: Path) -> tuple[datetime | None, bool]:
    """(expiry, loaded) as botocore's own ProcessProvider reads this output via ``cat``."""
    from botocore.credentials import ProcessProvider

    cat = shutil.which("cat")
    assert cat is not None
    config = {"profiles": {"p": {"credential_process": f"{cat} {path}"}}}
    provider = ProcessProvider("p", load_config=lambda: config)
    try:
        creds = provider.load()
    except Exception:
        return None, False
    expiry = getattr(creds, "_expiry_time", None)
    return expiry, True


@pytest.mark.parametrize("path", _files("credential_process"), ids=_ids)
def test_credential_process_output(tmp_path: Path, path: Path) -> None:
    expected_expiry, botocore_loads = _botocore_process(path)
    parsed = process.parse_process_output(path.read_bytes())
    assert (parsed.error is None) == botocore_loads
    assert parsed.expires_at == expected_expiry
    # and through collect(), running the same ``cat`` for real
    cat = shutil.which("cat")
    fake = make_home(tmp_path, run_process=True)
    fake.write(".aws/config", f"[profile p]\ncredential_process = {cat} {path}\n")
    obs = _expect_one(process.collect(fake.target))
    assert obs.expires_at == expected_expiry
    assert (obs.problems == ()) == botocore_loads
    assert obs.refreshable == (expected_expiry is not None)
    _no_secrets(obs, _json(path))
