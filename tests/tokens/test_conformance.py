"""The JWTs collected by others in ../shared/conformance/caches/web_identity_jwt/ decode with
the header and claims their ``.source.json`` files state (decoded by the collector, not by
credaudit), through the library and through ``credaudit token --file``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from credaudit.tokens import inspect
from credaudit.tokens.jwt_segments import decode

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / ".." / "shared" / "conformance" / "caches" / "web_identity_jwt"
FILES = sorted(CASES.glob("*.jwt")) if CASES.is_dir() else []
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _source(path: Path) -> dict[str, object]:
    doc = json.loads(path.with_name(path.name + ".source.json").read_text())
    decoded = doc["decoded_by_collector"]
    assert isinstance(decoded, dict)
    return decoded


def test_the_conformance_set_is_there() -> None:
    assert len(FILES) >= 9, CASES
    assert sum(1 for f in FILES if "header" in _source(f)) >= 6


@pytest.mark.parametrize("path", FILES, ids=[f.name[:60] for f in FILES])
def test_each_token_decodes_as_its_source_states(path: Path) -> None:
    expected = _source(path)
    token = path.read_text().strip()
    record = inspect(token, now=NOW)
    if "error" in expected:
        # The collector could not decode it; credaudit must not pretend it is a JWT.
        assert record.kind != "jwt" or "CA804" in [f.code for f in record.findings]
        assert record.expires_at is None
        return
    decoded = decode(token)
    assert not isinstance(decoded, str), decoded
    assert decoded.header == expected["header"]
    assert decoded.claims == expected["payload"]
    payload = expected["payload"]
    assert isinstance(payload, dict)
    assert record.kind == "jwt" and record.algorithm == expected["header"]["alg"]  # type: ignore[index]
    assert record.iss == payload.get("iss") and record.sub == payload.get("sub")
    aud = payload.get("aud")
    assert record.aud == ([aud] if isinstance(aud, str) else aud)
    assert record.expires_at is not None and record.expires_at.timestamp() == payload["exp"]
    if "iat" in payload:
        assert record.issued_at is not None and record.issued_at.timestamp() == payload["iat"]
    # Every one of them expired long before 2026-11-22.
    assert record.status == "expired" and "CA801" in [f.code for f in record.findings]


@pytest.mark.parametrize("path", FILES[:3] + FILES[-3:], ids=lambda p: p.name[:40])
def test_the_cli_reads_them_as_token_files(path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["token", "--file", str(path), "--format", "json", "--at", "2026-11-22T00:00:00Z"]
    )
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    (record,) = doc["tokens"]
    assert record["found_in"] == str(path)
    expected = _source(path)
    if "payload" in expected:
        exp = datetime.fromtimestamp(expected["payload"]["exp"], UTC)  # type: ignore[index]
        assert record["expires_at"] == exp.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert path.read_text().strip() not in result.stdout
