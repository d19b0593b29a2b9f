"""HAR files, raw HTTP requests and curl lines: every Authorization header and access_token
parameter is found, named by where it was, and judged; plus every output format."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from credaudit.cli import cli
from credaudit.tokens.readers import Candidate, read_curl, read_har, read_request
from tests.peers.peer_util import find_binary, require_peer
from tests.tokens.helpers import T0, claims, hs256, rs256

AT = "2026-11-22T09:00:00Z"


def _har(tokens: list[str]) -> bytes:
    entries = [
        {
            "request": {
                "method": "GET",
                "url": "https://api.example/a",
                "headers": [
                    {"name": "Host", "value": "api.example"},
                    {"name": "authorization", "value": f"Bearer {tokens[0]}"},
                ],
                "queryString": [],
            },
            "response": {"status": 200},
        },
        {
            "request": {
                "method": "GET",
                "url": f"https://api.example/b?access_token={tokens[1]}",
                "headers": [],
                "queryString": [{"name": "access_token", "value": tokens[1]}],
            }
        },
        {"request": {"method": "GET", "url": "https://api.example/c", "headers": []}},
        {
            "request": {
                "method": "GET",
                "url": f"https://api.example/d?x=1&access_token={tokens[2]}",
                "headers": [{"name": "Authorization", "value": f"Token {tokens[2]}"}],
            }
        },
    ]
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "Chromium"}, "entries": entries}}
    ).encode()


def test_har_headers_and_query_tokens() -> None:
    tokens = [rs256(), hs256(), rs256(claims(exp=T0 - 7200))]
    found = read_har(_har(tokens), "session.har")
    assert [c.found_in for c in found] == [
        "session.har entry 1 Authorization",
        "session.har entry 2 query access_token",
        "session.har entry 4 Authorization",
        "session.har entry 4 query access_token",
    ]
    assert [c.token for c in found] == [tokens[0], tokens[1], tokens[2], tokens[2]]
    assert found[2].header is not None and not found[2].header.valid
    assert "discouraged" in found[1].notes[0]


def test_har_through_the_cli(tmp_path: Path) -> None:
    tokens = [rs256(), hs256(), rs256(claims(exp=T0 - 7200))]
    har = tmp_path / "session.har"
    har.write_bytes(_har(tokens))
    result = CliRunner().invoke(cli, ["token", "--at", AT, "--har", str(har), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert len(doc["tokens"]) == 4 and doc["tokens"][0]["line"] == 1
    assert {f["code"] for f in doc["findings"]} == {"CA801", "CA805"}
    for token in tokens:
        assert token not in result.stdout


def test_not_a_har_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.har"
    bad.write_text("{}")
    result = CliRunner().invoke(cli, ["token", "--har", str(bad), rs256()])
    assert result.exit_code == 2 and "no log.entries" in result.stderr


def test_raw_request_headers_query_and_form_body() -> None:
    a, b, c = rs256(), hs256(), rs256(claims(sub="x"))
    raw = (
        f"POST /v1/orders?access_token={a} HTTP/1.1\r\nHost: api.example\r\n"
        f"Authorization:   Bearer {b}\r\n"
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
        f"\r\naccess_token={c}&n=1"
    ).encode()
    found = read_request(raw, "req.http")
    assert [(x.found_in, x.token) for x in found] == [
        ("req.http query access_token", a),
        ("req.http:3 Authorization", b),
        ("req.http body access_token", c),
    ]
    assert found[1].header is not None and found[1].header.valid
    assert read_request(b"garbage", "g")[0].problem == "not an HTTP request (no request line)"
    assert read_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "n")[0].blank


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("curl -H 'Authorization: Bearer {t}' https://x", "-H Authorization"),
        ('curl --header "authorization: Bearer {t}" https://x', "-H Authorization"),
        ("curl --header='Authorization: Bearer {t}' https://x", "-H Authorization"),
        ("curl -H'Authorization: Bearer {t}' https://x", "-H Authorization"),
        ("curl --oauth2-bearer {t} https://x", "--oauth2-bearer"),
        ("curl 'https://x/?a=1&access_token={t}'", "query access_token"),
    ],
)
def test_curl_forms(line: str, where: str) -> None:
    token = rs256()
    (found,) = read_curl(line.format(t=token), Candidate(found_in="f:1", line=1))
    assert found.token == token and found.found_in.endswith(where)


def test_curl_with_a_proxy_header_or_basic_user_has_no_token() -> None:
    (found,) = read_curl(
        "curl -u user:pass --proxy-header 'Authorization: Bearer x' https://x",
        Candidate(found_in="f:1"),
    )
    assert found.blank and found.token is None


def _report(fmt: str) -> str:
    result = CliRunner().invoke(
        cli,
        [
            "token",
            "--at",
            AT,
            "--format",
            fmt,
            "--run-time",
            "20m",
            rs256(),
            rs256(claims(exp=T0 - 3600)),
            "Bearer x y",
        ],
    )
    assert result.exit_code == 1, result.output
    return result.stdout


def test_sarif_has_one_result_per_finding_with_its_rule() -> None:
    doc = json.loads(_report("sarif"))
    results = doc["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["CA801", "CA802", "CA805"]
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {"CA801", "CA802", "CA805"} <= rules


def test_junit_has_one_case_per_token() -> None:
    suite = ET.fromstring(_report("junit"))
    cases = suite.findall(".//testcase")
    assert len(cases) == 3 and len(suite.findall(".//failure")) == 3


def test_github_and_markdown_name_the_codes() -> None:
    assert _report("github").count("::error") == 3
    md = _report("markdown")
    assert "❌ failed" in md and "`CA805`" in md


def test_prometheus_metrics_parse_and_promtool_accepts_them() -> None:
    text = _report("prometheus")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    expiry = families["credaudit_token_expiry_timestamp_seconds"].samples
    assert sorted(s.value for s in expiry) == [T0 - 3600, T0 + 540]
    status = {s.labels["status"] for s in families["credaudit_token_status"].samples}
    assert status == {"expiring", "expired", "unknown"}
    promtool = find_binary("CREDAUDIT_PEER_PROMTOOL", "prometheus/promtool", "promtool")
    if promtool is None:
        require_peer("promtool is not installed (scripts/peers install)")
    done = subprocess.run(
        [str(promtool), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
