"""Every aws-c-auth v4 query vector verifies through ``credaudit url``, not only the library.

The suite needs what a URL does not carry: the method, the signed header values, whether the
path was normalised, and the body's hash.  Each is given on the command line
(``--method``, ``--header``, ``--normalize/--no-normalize``, ``--payload-hash``, ``--body``)
or as JSON-lines fields (``method``, ``headers``, ``normalize``, ``payload_hash``, ``body``).
A one-character change to each vector must then fail.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credaudit.cli import cli
from tests.presign.test_conformance import V4, V4_CASES, _flip, _suite_case

SECRET_VAR = "SUITE_SECRET"


def _body(name: str) -> str | None:
    """The request body of a ``sign_body`` case (the suite signs its SHA-256)."""
    if not _suite_case(name)["context"].get("sign_body"):
        return None
    raw = (V4 / name / "request.txt").read_text(encoding="utf-8")
    return raw.partition("\n\n")[2].rstrip("\n")


def _run(args: list[str], home: Path, secret: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        cli,
        [
            "url",
            "--no-network",
            "--home",
            str(home),
            "--verify",
            "--secret-env",
            SECRET_VAR,
            "--session-expires",
            "+1h",
            "--format",
            "jsonl",
            *args,
        ],
        env={SECRET_VAR: secret},
        catch_exceptions=False,
    )
    assert result.exit_code in (0, 1), result.output
    assert secret not in result.output
    return [json.loads(line) for line in result.output.splitlines()]


def _line(name: str, url: str | None = None) -> str:
    case = _suite_case(name)
    record: dict[str, Any] = {
        "url": url or case["url"],
        "method": case["method"],
        "headers": case["headers"],
        "normalize": case["normalize"],
    }
    body = _body(name)
    if body is not None:
        record["body"] = body
    return json.dumps(record)


def _secret() -> str:
    secrets: set[str] = {_suite_case(name)["secret"] for name in V4_CASES}
    assert len(secrets) == 1  # the suite signs every case with one key
    return secrets.pop()


def test_all_vectors_verify_as_json_lines_and_one_character_changes_fail(tmp_path: Path) -> None:
    assert len(V4_CASES) == 38
    good, bad = [], []
    for name in V4_CASES:
        url = _suite_case(name)["url"]
        good.append(_line(name))
        sig_at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
        bad.append(_line(name, _flip(url, sig_at)))
        query_at = url.index("?")
        bad.append(_line(name, url[:query_at] + "x" + url[query_at:]))  # the path
        date_at = url.index("X-Amz-Date=") + len("X-Amz-Date=") + 14
        bad.append(_line(name, _flip(url, date_at)))  # a signed parameter
    source = tmp_path / "vectors.jsonl"
    source.write_text("\n".join(good + bad) + "\n", encoding="utf-8")
    records = _run(["--from", str(source)], tmp_path, _secret())
    assert len(records) == len(good) + len(bad)
    for name, record in zip(V4_CASES, records, strict=False):
        assert record["signature_valid"] is True, (name, record["signature_note"])
        assert record["signed_method"] == _suite_case(name)["method"]
        if _suite_case(name)["context"].get("omit_session_token"):
            assert record["signature_note"] == "session token was added after signing"
    for record in records[len(good) :]:
        assert record["signature_valid"] is False, record["url"]
        assert "CA308" in [f["code"] for f in record["findings"]]


def _flags(name: str, tmp_path: Path) -> list[str]:
    case = _suite_case(name)
    args = ["--method", case["method"]]
    for header, value in case["headers"].items():
        args += ["--header", f"{header}:{value}"]
    args.append("--normalize" if case["normalize"] else "--no-normalize")
    body = _body(name)
    if body is not None:
        body_file = tmp_path / f"{name}.body"
        body_file.write_text(body, encoding="utf-8")
        args += ["--body", str(body_file)]
    return args


# The cases a URL alone cannot verify: unnormalised (S3-style) paths of a non-S3 service, and
# form-encoded POSTs whose body hash is signed.
NEEDS_FLAGS = [
    name
    for name in V4_CASES
    if not _suite_case(name)["normalize"] or _suite_case(name)["context"].get("sign_body")
]


@pytest.mark.parametrize("name", NEEDS_FLAGS)
def test_vectors_that_need_flags_verify_with_them_on_the_command_line(
    name: str, tmp_path: Path
) -> None:
    case = _suite_case(name)
    secret = _secret()
    (plain,) = _run([case["url"]], tmp_path, secret)
    (flagged,) = _run([case["url"], *_flags(name, tmp_path)], tmp_path, secret)
    assert flagged["signature_valid"] is True, flagged["signature_note"]
    assert flagged["signed_method"] == case["method"]
    if plain["signature_valid"] is not True:
        assert "CA308" in [f["code"] for f in plain["findings"]] or plain["signature_valid"] is None
    broken = _flip(case["url"], case["url"].index("X-Amz-Signature=") + 20)
    (mismatch,) = _run([broken, *_flags(name, tmp_path)], tmp_path, secret)
    assert mismatch["signature_valid"] is False


def test_without_the_flags_some_vectors_do_not_verify(tmp_path: Path) -> None:
    """The flags are what makes the difference (the issue: 30 of 38 verified without them)."""
    secret = _secret()
    source = tmp_path / "urls.txt"
    source.write_text("\n".join(_suite_case(n)["url"] for n in NEEDS_FLAGS) + "\n")
    records = _run(["--from", str(source)], tmp_path, secret)
    assert [r["signature_valid"] for r in records].count(True) < len(NEEDS_FLAGS)


def test_payload_hash_flag_equals_body_flag(tmp_path: Path) -> None:
    name = "post-x-www-form-urlencoded"
    case = _suite_case(name)
    body = _body(name)
    assert body is not None
    digest = hashlib.sha256(body.encode()).hexdigest()
    args = _flags(name, tmp_path)
    args = args[: args.index("--body")]
    (record,) = _run([case["url"], *args, "--payload-hash", digest.upper()], tmp_path, _secret())
    assert record["signature_valid"] is True
    (wrong,) = _run(
        [case["url"], *args, "--payload-hash", hashlib.sha256(b"x").hexdigest()],
        tmp_path,
        _secret(),
    )
    assert wrong["signature_valid"] is False


def test_bad_json_line_fields_are_ca307_and_the_stream_goes_on(tmp_path: Path) -> None:
    url = _suite_case("get-vanilla")["url"]
    lines = [
        json.dumps({"url": url, "normalize": "yes"}),
        json.dumps({"url": url, "payload_hash": "zz"}),
        json.dumps({"url": url, "payload_hash": "0" * 64, "body": ""}),
        json.dumps({"url": url, "body": 5}),
        _line("get-vanilla"),
        json.dumps(
            {
                **json.loads(_line("post-x-www-form-urlencoded")),
                "body": None,
                "payload_hash": hashlib.sha256(b"Param1=value1").hexdigest(),
            }
        ),
    ]
    source = tmp_path / "lines.jsonl"
    source.write_text("\n".join(lines) + "\n")
    records = _run(["--from", str(source)], tmp_path, _secret())
    assert [r["status"] for r in records[:4]] == ["invalid"] * 4
    for record in records[:4]:
        assert [f["code"] for f in record["findings"]] == ["CA307"]
    assert records[4]["signature_valid"] is True
    assert records[5]["signature_valid"] is True and records[5]["signed_method"] == "POST"
