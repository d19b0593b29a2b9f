"""``credaudit url`` end to end: formats, exit codes, input errors, and the secret canary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

from credaudit.cli import cli
from credaudit.presign.model import UrlReport, UrlResult
from tests.presign.helpers import TEMP_KEY, presign

REPO = Path(__file__).resolve().parents[2]
CANARY_SECRET = "CANARYsecretQ9z/+x"
CANARY_TOKEN = "CANARYtokenZZ7+/w=="
CANARY_PROFILE_SECRET = "CANARYprofileP4ss"


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credaudit", "url", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        cwd=REPO,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[signer]\naws_access_key_id = {TEMP_KEY}\naws_secret_access_key = {CANARY_PROFILE_SECRET}\n"
    )
    (aws / "config").write_text("")
    return tmp_path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A bare host: nothing AWS from this machine, HOME in the tmp dir."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    clean.update({"HOME": str(home), "SIGNER_SECRET": CANARY_SECRET, "NO_COLOR": "1"})
    return clean


def fresh_url(secret: str = CANARY_SECRET, expires: int = 3600) -> str:
    return presign(secret=secret, token=CANARY_TOKEN, expires=expires)


def test_table_json_jsonl_and_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    url = fresh_url()
    base = ["--no-network", "--session-expires", "+3h"]
    table = run([url, *base], env)
    assert table.returncode == 0, table.stderr
    assert "ASIA…VV7A" in table.stdout and "valid" in table.stdout
    js = run([url, *base, "--format", "json"], env)
    report = TypeAdapter(UrlReport).validate_json(js.stdout)
    assert report.kind == "url" and report.summary.urls == 1 and report.urls[0].status == "valid"
    # Session shorter than the URL: CA301 (high) fails at the default --fail-on high.
    short = run([url, "--no-network", "--session-expires", "+20m", "--format", "json"], env)
    assert short.returncode == 1
    assert [f.code for f in TypeAdapter(UrlReport).validate_json(short.stdout).findings] == [
        "CA301"
    ]
    soft = run([url, "--no-network", "--session-expires", "+20m", "--soft-fail"], env)
    assert soft.returncode == 0
    # Unknown session: CA302 is medium -> exit 0 at --fail-on high, 1 at --fail-on medium.
    assert run([url, "--no-network"], env).returncode == 0
    assert run([url, "--no-network", "--fail-on", "medium"], env).returncode == 1


def test_jsonl_from_stdin_one_record_per_line_in_order(env: dict[str, str]) -> None:
    lines = [fresh_url(), "", "garbage", json.dumps({"url": fresh_url(), "method": "GET"})]
    out = run(
        ["--from", "-", "--format", "jsonl", "--no-network", "--session-expires", "+3h"],
        env,
        stdin="\n".join(lines) + "\n",
    )
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4]
    assert [r["status"] for r in records] == ["valid", "invalid", "invalid", "valid"]
    adapter = TypeAdapter(UrlResult)
    for record in records:
        assert adapter.dump_python(adapter.validate_python(record), mode="json") == record
    assert list(records[0]) == [f.name for f in fields(UrlResult)]
    assert out.returncode == 1  # CA307 is high


def test_session_found_through_the_scan_sources(env: dict[str, str]) -> None:
    url = fresh_url()
    expiry = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {
        **env,
        "AWS_ACCESS_KEY_ID": TEMP_KEY,
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_SESSION_TOKEN": CANARY_TOKEN,
        "AWS_CREDENTIAL_EXPIRATION": expiry,
    }
    out = run([url, "--no-network", "--format", "jsonl"], env)
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["session_expires_at"] == expiry
    assert [f["code"] for f in record["findings"]] == ["CA301"]


def test_verify_with_secret_env_and_profile(env: dict[str, str]) -> None:
    url = presign(secret=CANARY_PROFILE_SECRET, token=CANARY_TOKEN)
    ok = run(
        [
            url,
            "--no-network",
            "--verify",
            "--secret-profile",
            "signer",
            "--format",
            "jsonl",
            "--session-expires",
            "+3h",
        ],
        env,
    )
    assert json.loads(ok.stdout)["signature_valid"] is True, ok.stderr
    bad = run(
        [
            url,
            "--no-network",
            "--verify",
            "--secret-env",
            "SIGNER_SECRET",
            "--format",
            "jsonl",
            "--session-expires",
            "+3h",
        ],
        env,
    )
    record = json.loads(bad.stdout)
    assert record["signature_valid"] is False and record["status"] == "invalid"
    assert "CA308" in [f["code"] for f in record["findings"]] and bad.returncode == 1


OTHER_KEY = "ASIAZZZZOTHERKEYZZ7Q"
OTHER_SECRET = "CANARYotherS3cret"


def test_verify_urls_of_several_keys_with_one_profile_each(env: dict[str, str], home: Path) -> None:
    """Named several times, --secret-profile checks each URL with the secret of the key that
    signed it (matched by aws_access_key_id); a key with no profile is not checked, and one
    profile alone still applies to every URL, as before."""
    with (home / ".aws" / "credentials").open("a") as creds:
        creds.write(
            f"[other]\naws_access_key_id = {OTHER_KEY}\naws_secret_access_key = {OTHER_SECRET}\n"
            "[nokey]\naws_secret_access_key = CANARYnokey\n"
        )
    mine = presign(secret=CANARY_PROFILE_SECRET, token=CANARY_TOKEN)
    theirs = presign(key=OTHER_KEY, secret=OTHER_SECRET, token=CANARY_TOKEN)
    stranger = presign(key="ASIAQQQQSTRANGERQQ7Q", secret="x", token=CANARY_TOKEN)
    common = ["--no-network", "--verify", "--format", "jsonl", "--session-expires", "+3h"]

    def verdicts(*profiles: str) -> list[tuple[bool | None, str | None]]:
        flags = [arg for name in profiles for arg in ("--secret-profile", name)]
        out = run([mine, theirs, stranger, *common, *flags], env)
        assert "CANARY" not in out.stdout + out.stderr
        records = [json.loads(line) for line in out.stdout.splitlines()]
        return [(r["signature_valid"], r["signature_note"]) for r in records]

    both = verdicts("signer", "other")
    assert [valid for valid, _ in both] == [True, True, None]
    assert both[2][1] == "no secret given for the key that signed this URL"
    assert [valid for valid, _ in verdicts("signer")] == [True, False, False]
    refused = run([mine, *common, "--secret-profile", "signer", "--secret-profile", "nokey"], env)
    assert refused.returncode == 2 and "nokey" in refused.stderr
    assert "aws_access_key_id" in refused.stderr and "CANARY" not in refused.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--verify"], "--secret-env"),
        (["--verify", "--secret-env", "NOPE_UNSET"], "NOPE_UNSET"),
        (["--verify", "--secret-profile", "nosuch"], "nosuch"),
        (["--secret-env", "SIGNER_SECRET"], "--verify"),
        (["--header", "novalue"], "NAME:VALUE"),
        (["--session-expires", "tomorrowish"], "--session-expires"),
        (["--from", "/nonexistent/urls.txt"], "/nonexistent/urls.txt"),
        (["--payload-hash", "abc"], "--payload-hash"),
        (["--payload-hash", "0" * 64, "--body", "/etc/hostname"], "choose one"),
        (["--body", "/nonexistent/body.bin"], "/nonexistent/body.bin"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    env: dict[str, str], args: list[str], needle: str
) -> None:
    extra = [] if "--from" in args else [fresh_url()]
    out = run([*extra, "--no-network", *args], env)
    assert out.returncode == 2
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_no_urls_is_exit_2(env: dict[str, str]) -> None:
    out = run(["--no-network"], env)
    assert out.returncode == 2 and "--from" in out.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl"])
def test_secret_canary_never_appears(env: dict[str, str], fmt: str, tmp_path: Path) -> None:
    """Canary secrets in URLs, env and profile never reach any output of any format."""
    v4 = fresh_url()
    v2 = presign(secret=CANARY_SECRET, token=CANARY_TOKEN, version="s3")
    tampered = v4.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601")
    source = tmp_path / "urls.txt"
    source.write_text(
        "\n".join([v4, v2, tampered, f"junk {CANARY_TOKEN}", "{" + CANARY_TOKEN]) + "\n"
    )
    env = {
        **env,
        "AWS_ACCESS_KEY_ID": TEMP_KEY,
        "AWS_SECRET_ACCESS_KEY": CANARY_SECRET,
        "AWS_SESSION_TOKEN": CANARY_TOKEN,
    }
    for secret_args in (["--secret-env", "SIGNER_SECRET"], ["--secret-profile", "signer"]):
        out = run(
            [
                "--from",
                str(source),
                "--no-network",
                "--verify",
                *secret_args,
                "--format",
                fmt,
                "--header",
                f"x-amz-meta-a:{CANARY_TOKEN}",
            ],
            env,
        )
        assert out.returncode in (0, 1), out.stderr
        text = out.stdout + out.stderr
        for canary in (CANARY_SECRET, CANARY_TOKEN, CANARY_PROFILE_SECRET, "CANARY"):
            assert canary not in text, (fmt, canary)
        assert TEMP_KEY not in text


def test_schema_url_is_the_url_report() -> None:
    result = CliRunner().invoke(cli, ["schema", "url"])
    assert result.exit_code == 0
    assert {"UrlResult", "FindingView"} <= set(json.loads(result.output)["$defs"])


def test_jobs_gives_the_same_lines_in_order(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_text("\n".join([fresh_url(), "junk", fresh_url(expires=60)] * 5) + "\n")
    args = ["--from", str(source), "--format", "jsonl", "--no-network", "--at", "+10m"]
    one = run([*args, "--jobs", "1"], env)
    two = run([*args, "--jobs", "2"], env)
    assert one.returncode == two.returncode == 1  # junk lines are CA307 (high)
    strip = [
        {k: v for k, v in json.loads(line).items() if k != "remaining_seconds"}
        for line in one.stdout.splitlines()
    ]
    assert [r["line"] for r in strip] == list(range(1, 16))
    assert strip == [
        {k: v for k, v in json.loads(line).items() if k != "remaining_seconds"}
        for line in two.stdout.splitlines()
    ]


def test_auto_jobs_only_for_a_large_regular_file_on_idle_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credaudit.commands.jsonl_output import auto_jobs

    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024)
    small = tmp_path / "small.txt"
    small.write_text("x\n")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    with big.open("rb") as b, small.open("rb") as s:
        assert auto_jobs(b) == 2
        assert auto_jobs(s) == 1
        assert auto_jobs(None) == 1
        monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 0.0, 0.0))
        assert auto_jobs(b) == 1


NOT_UTF8 = (
    b"https://b.s3.amazonaws.com/r\xe9sum\xff?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE"
    b"&Expires=1&Signature=x"
)


@pytest.mark.parametrize(
    "fmt", ["table", "json", "jsonl", "markdown", "github", "junit", "sarif", "prometheus"]
)
def test_a_command_line_url_that_is_not_utf8_is_read_as_from_a_file(
    env: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    """argv bytes that are not UTF-8 reach Python as lone surrogates, which no text format can
    write (on a strict UTF-8 stdout every non-JSON format used to fail with an internal
    error). A URL argument is read from its bytes as --from reads a line: U+FFFD where it is
    not UTF-8, every format UTF-8, exit 0 or 1, and the same record either way."""
    strict = {**env, "PYTHONIOENCODING": "utf-8:strict"}
    at = ["--at", "2026-11-22T00:00:00Z"]  # both runs judge at the same instant
    source = tmp_path / "urls.txt"
    source.write_bytes(NOT_UTF8 + b"\n")
    outputs = []
    for given in ([NOT_UTF8], ["--from", str(source)]):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "credaudit",
                "url",
                *given,
                *at,
                "--no-network",
                "--format",
                fmt,
            ],
            capture_output=True,
            env=strict,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert out.returncode in (0, 1), out.stderr.decode(errors="replace")
        outputs.append(out.stdout.decode("utf-8"))  # strict: every byte is UTF-8
    # json, sarif and prometheus also carry the run (the input named, the instant of the run)
    assert outputs[0] == outputs[1] or fmt in ("json", "sarif", "prometheus")
    assert "r\ufffdsum\ufffd" in outputs[0] or fmt == "prometheus"  # it names no URL
    if fmt == "jsonl":
        records = [json.loads(text) for text in outputs]
        assert records[0] == records[1]
        assert records[0]["url"].startswith("https://b.s3.amazonaws.com/r\ufffdsum\ufffd?")
