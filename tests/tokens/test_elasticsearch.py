"""Elasticsearch: elasticsearch.yml's token service (CA810, CA811), get-token answers and the
refresh token's 24 h single-use rule (CA809), ApiKey headers and create-API-key answers
(CA808 for a key that never expires).

Elasticsearch cannot be installed from the registries reachable here, so every settings file
and API answer below is built from the documented values in
../shared/reference/bearer-token-facts.md §4 (Elastic's security settings, get-token and
create-API-key API pages) — not captured from a running node.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.analysis.budget import Budget
from credaudit.cli import cli
from credaudit.tokens import inspect
from credaudit.tokens.elasticsearch import audit_settings, es_time
from tests.tokens.helpers import NOW, T0, claims, hs256, rs256

AT = "2026-11-22T09:00:00Z"
# The get-token API page's example access token (opaque, padded base64) and refresh token.
ES_ACCESS = "dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBpdCBpcyBvbmx5IHRlc3QgZGF0YS4gZG8gbm90IHRyeSB0byByZWFkIHRva2VuIQ=="
ES_REFRESH = "vLBPvmAB6KvwvJZr27cS"


def _codes(audit: object) -> list[str]:
    return [f.code for f in audit.findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("yml", "enabled", "codes"),
    [
        ("xpack.security.http.ssl.enabled: true\n", True, []),
        ("xpack:\n  security:\n    http:\n      ssl:\n        enabled: true\n", True, []),
        (
            "xpack.security.http.ssl.enabled: true\nxpack.security.authc.token.enabled: false\n",
            False,
            ["CA811"],
        ),
        ("xpack.security.transport.ssl.enabled: true\n", False, ["CA811"]),
        ("", False, ["CA811"]),
        ("xpack.security.authc.token.enabled: true\n", True, ["CA811"]),
        (
            "xpack.security.enabled: false\nxpack.security.http.ssl.enabled: true\n",
            False,
            ["CA811"],
        ),
        (
            "xpack.security.http.ssl.enabled: 'true'\nxpack.security.authc:\n  token.enabled: true\n",
            True,
            [],
        ),
    ],
)
def test_token_service_state(yml: str, enabled: bool, codes: list[str]) -> None:
    audit = audit_settings(yml.encode(), "elasticsearch.yml", Budget())
    assert audit.view is not None
    assert audit.view.token_service_enabled is enabled
    assert _codes(audit) == codes


@pytest.mark.parametrize(
    ("timeout", "run_time", "codes", "seconds"),
    [
        (None, timedelta(0), [], 1200),  # the default 20m
        (None, timedelta(minutes=45), ["CA810"], 1200),
        ("1h", timedelta(minutes=45), [], 3600),
        ("2h", timedelta(0), ["CA810"], 7200),  # beyond 1h: the node refuses to start
        ("500ms", timedelta(0), ["CA810"], 0),  # below 1s
        ("30", timedelta(0), ["CA810"], None),  # no unit
        ("30m", timedelta(minutes=10), [], 1800),
    ],
)
def test_token_timeout(
    timeout: str | None, run_time: timedelta, codes: list[str], seconds: int | None
) -> None:
    yml = "xpack.security.http.ssl.enabled: true\n"
    if timeout is not None:
        yml += f'xpack.security.authc.token.timeout: "{timeout}"\n'
    audit = audit_settings(yml.encode(), "es.yml", Budget(run_time=run_time))
    assert _codes(audit) == codes
    assert audit.view is not None and audit.view.timeout_seconds == seconds
    if codes and timeout in ("2h", "500ms"):
        assert "refuses to start" in audit.findings[0].message


def test_es_time_units() -> None:
    assert es_time("20m") == timedelta(minutes=20)
    assert es_time("1h") == timedelta(hours=1)
    assert es_time("1500ms") == timedelta(seconds=1.5)
    assert es_time("20") is None and es_time(True) is None


def test_settings_alone_need_no_token(tmp_path: Path) -> None:
    yml = tmp_path / "elasticsearch.yml"
    yml.write_text("xpack.security.authc.token.enabled: false\n")
    result = CliRunner().invoke(
        cli, ["token", "--elasticsearch-config", str(yml), "--format", "json"]
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["tokens"] == [] and doc["token_services"][0]["token_service_enabled"] is False
    assert [f["code"] for f in doc["findings"]] == ["CA811"]
    table = CliRunner().invoke(cli, ["token", "--elasticsearch-config", str(yml)])
    assert "Elasticsearch token service" in table.stdout and "off" in table.stdout


def test_broken_yaml_is_one_line_and_exit_2(tmp_path: Path) -> None:
    yml = tmp_path / "elasticsearch.yml"
    yml.write_text("xpack: [1, 2\n")
    result = CliRunner().invoke(cli, ["token", "--elasticsearch-config", str(yml)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "not valid YAML" in result.stderr


def _answer(**extra: object) -> str:
    doc: dict[str, object] = {
        "access_token": ES_ACCESS,
        "type": "Bearer",
        "expires_in": 1200,
        "authentication": {"username": "test_admin", "authentication_type": "token"},
    }
    doc.update(extra)
    return json.dumps({k: v for k, v in doc.items() if v is not None})


def _write(tmp_path: Path, text: str, age: timedelta) -> Path:
    path = tmp_path / "token.json"
    path.write_text(text + "\n")
    when = T0 - age.total_seconds()
    os.utime(path, (when, when))
    return path


def test_get_token_answer_dated_by_the_files_mtime(tmp_path: Path) -> None:
    path = _write(tmp_path, _answer(refresh_token=ES_REFRESH), timedelta(minutes=5))
    result = CliRunner().invoke(cli, ["token", "--at", AT, "--from", str(path), "--format", "json"])
    record = json.loads(result.stdout)["tokens"][0]
    assert record["kind"] == "elasticsearch"
    assert record["issued_at"] == "2026-11-22T08:55:00Z"
    assert record["expires_at"] == "2026-11-22T09:15:00Z" and record["remaining_seconds"] == 900
    assert record["refresh_expires_at"] == "2026-11-23T08:55:00Z"
    assert record["findings"] == []
    assert ES_ACCESS not in result.stdout and ES_REFRESH not in result.stdout


def test_a_refresh_token_older_than_24h_is_ca809(tmp_path: Path) -> None:
    path = _write(tmp_path, _answer(refresh_token=ES_REFRESH), timedelta(hours=25))
    result = CliRunner().invoke(cli, ["token", "--at", AT, "--from", str(path), "--format", "json"])
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert sorted(codes) == ["CA801", "CA809"]


def test_work_longer_than_the_refresh_window_is_ca809(tmp_path: Path) -> None:
    path = _write(tmp_path, _answer(refresh_token=ES_REFRESH), timedelta(minutes=1))
    result = CliRunner().invoke(
        cli, ["token", "--at", AT, "--from", str(path), "--run-time", "30h", "--format", "json"]
    )
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["CA809"]
    short = CliRunner().invoke(
        cli, ["token", "--at", AT, "--from", str(path), "--run-time", "2h", "--format", "json"]
    )
    assert json.loads(short.stdout)["findings"] == []  # the refresh token covers it


def test_an_answer_without_a_refresh_token_for_a_longer_run_is_ca802_and_ca809(
    tmp_path: Path,
) -> None:
    """client_credentials gives no refresh token (reference §4): the 20 min access token dies
    41 min before a 1 h run ends (CA802), and nothing came with it to renew it (CA809:
    "missing where the work outlives the access token")."""
    path = _write(tmp_path, _answer(), timedelta(0))
    result = CliRunner().invoke(
        cli, ["token", "--at", AT, "--from", str(path), "--run-time", "1h", "--format", "json"]
    )
    findings = {f["code"]: f["message"] for f in json.loads(result.stdout)["findings"]}
    assert sorted(findings) == ["CA802", "CA809"]
    assert findings["CA802"] == (
        "expires in 20m, but the work needs 1h01m (run + dwell + retries + skew)"
    )
    assert findings["CA809"] == (
        "the answer carries no refresh token, and the work runs 41m past the access token's "
        "exp (2026-11-22T09:20:00Z): only a new grant renews it"
    )


def test_without_a_refresh_token_a_run_the_token_covers_is_clean(tmp_path: Path) -> None:
    path = _write(tmp_path, _answer(), timedelta(0))
    result = CliRunner().invoke(
        cli, ["token", "--at", AT, "--from", str(path), "--run-time", "10m", "--format", "json"]
    )
    assert json.loads(result.stdout)["findings"] == []


def test_a_bare_token_cannot_say_whether_a_refresh_token_exists_so_only_ca802() -> None:
    """A token alone (not an API answer) says nothing about refresh tokens: CA802 only."""
    token = rs256(claims(exp=T0 + 600))
    result = CliRunner().invoke(
        cli, ["token", token, "--at", AT, "--run-time", "1h", "--format", "json"]
    )
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["CA802"]


def test_an_oauth_answer_with_a_refresh_token_is_not_ca802(tmp_path: Path) -> None:
    answer = {"access_token": hs256(claims(exp=T0 + 600)), "refresh_token": "r", "expires_in": 600}
    path = _write(tmp_path, json.dumps(answer), timedelta(0))
    result = CliRunner().invoke(
        cli, ["token", "--at", AT, "--from", str(path), "--run-time", "1h", "--format", "json"]
    )
    assert json.loads(result.stdout)["findings"] == []


def test_issued_at_overrides_the_mtime(tmp_path: Path) -> None:
    path = _write(tmp_path, _answer(), timedelta(0))
    result = CliRunner().invoke(
        cli, ["token", "--at", AT, "--from", str(path), "--issued-at", "-30m", "--format", "json"]
    )
    record = json.loads(result.stdout)["tokens"][0]
    assert record["status"] == "expired" and record["issued_at"] == "2026-11-22T08:30:00Z"


def test_service_account_tokens_are_recognised() -> None:
    token = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTo3TFdaSDZ"
    record = inspect(f"Authorization: Bearer {token}", now=NOW)
    assert record.kind == "elasticsearch" and record.status == "unknown"


def test_apikey_header_and_create_api_key_answers() -> None:
    encoded = base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()
    header = inspect(f"Authorization: ApiKey {encoded}", now=NOW)
    assert header.kind == "api-key" and header.header_valid is True
    assert header.key_id == "VuaCfGcBCdbkQm-e5aOx" and header.findings == []
    created = {
        "id": "VuaCfGcBCdbkQm-e5aOx",
        "name": "my-api-key",
        "api_key": "ui2lp2axTNmsyakw9tvNnw",
        "encoded": encoded,
    }
    never = inspect(json.dumps(created), now=NOW)
    assert never.kind == "api-key" and [f.code for f in never.findings] == ["CA808"]
    assert "never expire" in never.findings[0].message
    expiring = inspect(json.dumps({**created, "expiration": (T0 + 86400) * 1000}), now=NOW)
    assert expiring.findings == [] and expiring.expires_at is not None
    assert expiring.remaining_seconds == 86400
    gone = inspect(
        json.dumps({**created, "expiration": (T0 - 60) * 1000 - 1}), now=NOW, budget=Budget()
    )
    assert [f.code for f in gone.findings] == ["CA801"]


def test_get_api_key_info_answers() -> None:
    info = {
        "api_keys": [
            {
                "id": "k1",
                "name": "a",
                "creation": (T0 - 3600) * 1000,
                "expiration": None,
                "invalidated": False,
                "username": "u",
                "realm": "native1",
            },
            {
                "id": "k2",
                "name": "b",
                "creation": (T0 - 3600) * 1000,
                "expiration": (T0 + 600) * 1000,
                "invalidated": True,
            },
        ]
    }
    from credaudit.tokens import inspect_stream

    records = list(inspect_stream([json.dumps(info)], now=NOW))
    assert [r.key_id for r in records] == ["k1", "k2"]
    assert [f.code for f in records[0].findings] == ["CA808"]
    assert [f.code for f in records[1].findings] == ["CA801"] and records[1].status == "invalid"


def test_a_pretty_printed_answer_file_is_read_whole(tmp_path: Path) -> None:
    """``curl …?pretty`` or ``jq .`` writes the answer on many lines: --file reads it whole,
    every key of a get-API-key answer becomes a record, and the mtime dates expires_in."""
    info = tmp_path / "api-keys.json"
    info.write_text(
        json.dumps(
            {
                "api_keys": [
                    {"id": "k1", "name": "a", "creation": (T0 - 60) * 1000, "invalidated": False},
                    {
                        "id": "k2",
                        "name": "b",
                        "creation": (T0 - 60) * 1000,
                        "expiration": (T0 + 600) * 1000,
                        "invalidated": False,
                    },
                ]
            },
            indent=2,
        )
    )
    answer = _write(tmp_path, json.dumps(json.loads(_answer()), indent=2), timedelta(minutes=5))
    result = CliRunner().invoke(
        cli, ["token", "--at", AT, "--file", str(info), "--file", str(answer), "--format", "json"]
    )
    tokens = json.loads(result.stdout)["tokens"]
    assert [t["key_id"] for t in tokens[:2]] == ["k1", "k2"]
    assert [[f["code"] for f in t["findings"]] for t in tokens[:2]] == [["CA808"], []]
    assert (
        tokens[2]["kind"] == "elasticsearch" and tokens[2]["expires_at"] == "2026-11-22T09:15:00Z"
    )
