"""The official signing suite and the collected presigned-URL cases, verified by credaudit.

Data written by others lives in ../shared/conformance (never copied here).  Each aws-c-auth
v4 case is rebuilt from its own files (query-signed-request.txt, request.txt, context.json),
verified with the suite's secret, then broken one character at a time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from credaudit.presign.parse import SIGV2, parse
from credaudit.presign.verify import EMPTY_SHA256, verify

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"
V4 = SHARED / "sigv4" / "aws-c-auth" / "tests" / "aws-signing-test-suite" / "v4"
CASES = SHARED / "presigned" / "cases.jsonl"

V4_CASES = sorted(p.name for p in V4.iterdir() if (p / "query-signed-request.txt").exists())


def _suite_case(name: str) -> dict[str, Any]:
    folder = V4 / name
    context = json.loads((folder / "context.json").read_text())
    raw = (folder / "query-signed-request.txt").read_text(encoding="utf-8")
    head, _, body = raw.partition("\n\n")
    lines = head.split("\n")
    # A request target may contain raw spaces ("GET /example space/?... HTTP/1.1").
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" HTTP/1.1", 1)[0]
    headers: dict[str, str] = {}
    host = ""
    current = None
    for line in lines[1:]:
        if line.startswith((" ", "\t")) and current:
            headers[current] += "\n" + line  # folded (multi-line) value
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        if key == "host":
            host = value.strip()
            continue
        current = key
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value
    payload = (
        hashlib.sha256(body.rstrip("\n").encode()).hexdigest()
        if context.get("sign_body")
        else EMPTY_SHA256
    )
    return {
        "url": f"https://{host}{target}",
        "method": method,
        "headers": headers,
        "secret": context["credentials"]["secret_access_key"],
        "normalize": context["normalize"],
        "payload": payload,
        "expected": (folder / "query-signature.txt").read_text().strip(),
        "context": context,
    }


def _check(case: dict[str, Any], url: str | None = None, secret: str | None = None) -> bool | None:
    parsed = parse(url or case["url"])
    return verify(
        parsed,
        secret or case["secret"],
        headers=case["headers"],
        normalize=case["normalize"],
        payload_hash=case["payload"],
    ).valid


def test_suite_is_present() -> None:
    assert len(V4_CASES) >= 38, f"expected the aws-c-auth v4 suite under {V4}"


@pytest.mark.parametrize("name", V4_CASES)
def test_v4_query_vector_verifies(name: str) -> None:
    case = _suite_case(name)
    parsed = parse(case["url"])
    assert parsed.signature == case["expected"]
    assert not parsed.problems, parsed.problems
    verdict = verify(
        parsed,
        case["secret"],
        headers=case["headers"],
        normalize=case["normalize"],
        payload_hash=case["payload"],
    )
    assert verdict.valid is True, verdict
    assert verdict.method == case["method"]
    if case["context"].get("omit_session_token"):
        assert verdict.token_signed is False


def _flip(text: str, index: int) -> str:
    ch = text[index]
    replacement = "0" if ch != "0" else "1"
    if ch.isalpha():
        replacement = "b" if ch.lower() != "b" else "c"
        replacement = replacement.upper() if ch.isupper() else replacement
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("name", V4_CASES)
def test_v4_one_character_changes_fail(name: str) -> None:
    case = _suite_case(name)
    url = case["url"]
    sig_at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    key_at = url.index("X-Amz-Credential=") + len("X-Amz-Credential=") + 3
    date_at = url.index("X-Amz-Date=") + len("X-Amz-Date=") + 14  # a seconds digit
    query_at = url.index("?")
    mutations = {
        "signature": _flip(url, sig_at),
        "key": _flip(url, key_at),
        "date": _flip(url, date_at),
        "path": url[:query_at] + "x" + url[query_at:],
    }
    for what, mutated in mutations.items():
        assert mutated != url
        assert _check(case, mutated) is False, f"{what} mutation verified: {mutated}"
    assert _check(case, secret=_flip(case["secret"], 0)) is False


def _cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


# Documented anomalies (see the cases' notes): the verdict the notes describe.
EXPECTED_MISMATCH = {
    # The page's signature was made for /johnsmith/…, not the bucket it now prints.
    "awsdocs/s3-sigv2-query-auth-puppy-1175139620",
    # No secret is stated for this example: with the page's other secret it cannot verify.
    "awsdocs/s3-sigv2-query-auth-puppy-1141889120",
}
EXPECTED_METHOD = {"botocore/sts-get-caller-identity-presign": "POST"}


def _checkable() -> list[dict[str, Any]]:
    return [c for c in _cases() if c.get("url") and c.get("expected_signature")]


@pytest.mark.parametrize("case", _checkable(), ids=lambda c: c["id"])
def test_collected_case_verdict(case: dict[str, Any]) -> None:
    parsed = parse(case["url"])
    if case["algorithm"].startswith("AWS-SigV2"):
        assert parsed.algorithm == SIGV2
    else:
        assert parsed.algorithm == case["algorithm"]
        assert parsed.region == case["region"] and parsed.service == case["service"]
    assert parsed.signature == case["expected_signature"]
    headers = dict(case.get("extra_signed_headers") or {})
    for name, value in case.get("request_headers_in_source") or []:
        key = name.lower()  # repeated headers are comma-joined, as on the wire
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    context = case.get("suite_context") or {}
    payload = None
    if context.get("sign_body"):
        payload = hashlib.sha256(b"Param1=value1").hexdigest()
    verdict = verify(
        parsed,
        case["secret_access_key"],
        headers=headers,
        normalize=context.get("normalize"),
        payload_hash=payload,
    )
    if case["id"] in EXPECTED_MISMATCH:
        assert verdict.valid is False
        return
    assert verdict.valid is True, (case["id"], verdict)
    if case["id"] in EXPECTED_METHOD:
        assert verdict.method == EXPECTED_METHOD[case["id"]]
    elif case.get("method"):
        # A host-only URL verifies for several methods only if they collide; the first
        # match must be the method the source signed with.
        assert verdict.method == case["method"]
    if context.get("omit_session_token"):
        assert verdict.token_signed is False
    elif case.get("session_token_present") and not case["algorithm"].startswith("AWS-SigV2"):
        assert verdict.token_signed is True


def test_signed_headers_without_values_are_not_verifiable() -> None:
    case = next(
        c for c in _cases() if c["id"] == "aws-sdk-ruby/sts-presign-get-caller-identity-eks"
    )
    verdict = verify(parse(case["url"]), case["secret_access_key"])
    assert verdict.valid is None
    assert "x-k8s-aws-id" in verdict.reason


def test_post_sts_header_after_token_is_unsigned() -> None:
    case = _suite_case("post-sts-header-after")
    verdict = verify(parse(case["url"]), case["secret"], normalize=True)
    assert verdict.valid is True and verdict.token_signed is False
    before = _suite_case("post-sts-header-before")
    verdict = verify(parse(before["url"]), before["secret"], normalize=True)
    assert verdict.valid is True and verdict.token_signed is True


def test_generation_limit_cases_are_ca305() -> None:
    limits = [c for c in _cases() if c.get("requested_expires_seconds") is not None]
    assert limits
    for case in limits:
        seconds = int(case["requested_expires_seconds"])
        url = (
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            f"&X-Amz-Date=20130524T000000Z&X-Amz-Expires={seconds}&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=" + "0" * 64
        )
        assert ("CA305" in {code for code, _ in parse(url).problems}) is not (
            1 <= seconds <= 604800
        ), case["id"]


def test_sigv4a_vectors_are_recognised_not_verified() -> None:
    v4a = V4.parent / "v4a"
    folders = [p for p in v4a.iterdir() if (p / "query-signed-request.txt").exists()]
    assert folders
    for folder in folders:
        raw = (folder / "query-signed-request.txt").read_text(encoding="utf-8")
        head = raw.split("\n\n", 1)[0].split("\n")
        target = head[0].split(" ", 1)[1].rsplit(" HTTP/1.1", 1)[0]
        host = next(h.split(":", 1)[1].strip() for h in head[1:] if h.lower().startswith("host:"))
        parsed = parse(f"https://{host}{target}")
        assert parsed.algorithm == "AWS4-ECDSA-P256-SHA256", folder.name
        assert parsed.region_set and parsed.service == "service"
        assert not [p for p in parsed.problems if p[0] == "CA307"], (folder.name, parsed.problems)
        verdict = verify(parsed, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        assert verdict.valid is None and "SigV4A" in verdict.reason
