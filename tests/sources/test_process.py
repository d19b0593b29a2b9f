"""credential_process: real small Python scripts run as the command, parsed like botocore."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from credaudit.keys import fingerprint
from credaudit.report.json import to_json
from credaudit.sources import process
from tests.helpers_home import FakeHome, make_home

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken"
GOOD = {
    "Version": 1,
    "AccessKeyId": "ASIAY34FZKBOKMUTVV7A",
    "SecretAccessKey": SECRET,
    "SessionToken": TOKEN,
    "Expiration": "2030-01-01T12:30:00+00:00",
}


def _home_with_script(tmp_path: Path, body: str, **target: Any) -> FakeHome:
    script = tmp_path / "cred.py"
    script.write_text(body)
    fake = make_home(tmp_path, run_process=True, **target)
    fake.write(
        ".aws/config", f"[profile p]\ncredential_process = {sys.executable} {script} --flag\n"
    )
    return fake


def _printing(doc: object, exit_code: int = 0, stderr: str = "") -> str:
    return (
        "import json, sys\n"
        f"sys.stdout.write({json.dumps(doc) if not isinstance(doc, str) else doc!r})\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({exit_code})\n"
    )


def test_good_output(tmp_path: Path) -> None:
    fake = _home_with_script(tmp_path, _printing(json.dumps(GOOD)))
    [obs] = process.collect(fake.target)
    assert obs.source == "process-output"
    assert obs.profile == "p"
    assert obs.problems == ()
    assert obs.details == {"ran": True, "command_head": sys.executable, "exit_code": 0}
    assert obs.expires_at == datetime(2030, 1, 1, 12, 30, tzinfo=UTC)
    assert obs.refreshable is True
    assert obs.has_secret is True
    assert obs.session_token_fingerprint == fingerprint(TOKEN)
    assert obs.access_key_masked == "ASIA…VV7A"
    assert obs.location is not None and obs.location.line == 1
    dumped = to_json(obs) + repr(obs)
    assert SECRET not in dumped and TOKEN not in dumped


def test_no_expiration_is_not_refreshable(tmp_path: Path) -> None:
    doc = {k: v for k, v in GOOD.items() if k not in ("Expiration", "SessionToken")}
    doc["AccessKeyId"] = "AKIAIOSFODNN7EXAMPLE"
    fake = _home_with_script(tmp_path, _printing(json.dumps(doc)))
    [obs] = process.collect(fake.target)
    assert obs.refreshable is False
    assert obs.expires_at is None
    assert obs.session_token_fingerprint is None
    assert obs.problems == ()


def test_account_id_falls_back_to_profile(tmp_path: Path) -> None:
    fake = _home_with_script(tmp_path, _printing(json.dumps(GOOD)))
    config = (fake.home / ".aws/config").read_text() + "aws_account_id = 999988887777\n"
    fake.write(".aws/config", config)
    [obs] = process.collect(fake.target)
    assert obs.account_id == "999988887777"


def test_env_is_the_targets(tmp_path: Path) -> None:
    """The command sees the target's environment, not credaudit's own."""
    body = (
        "import json, os\n"
        f"doc = {GOOD!r}\n"
        "doc['AccountId'] = os.environ.get('ACCOUNT_FROM_ENV', 'unset')\n"
        "print(json.dumps(doc))\n"
    )
    fake = _home_with_script(tmp_path, body, env={"ACCOUNT_FROM_ENV": "123456789012"})
    [obs] = process.collect(fake.target)
    assert obs.account_id == "123456789012"


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (_printing(json.dumps(GOOD), exit_code=1, stderr=f"denied {SECRET}"), "exited 1"),
        (_printing(f"not json {SECRET}"), "output is not JSON"),
        (_printing(json.dumps([GOOD])), "output is not a JSON object"),
        (
            _printing(json.dumps({**GOOD, "Version": 2})),
            "unsupported Version (only 1 is supported)",
        ),
        (
            _printing(json.dumps({k: v for k, v in GOOD.items() if k != "Version"})),
            "missing key Version",
        ),
        (
            _printing(json.dumps({k: v for k, v in GOOD.items() if k != "SecretAccessKey"})),
            "missing key SecretAccessKey",
        ),
        (_printing(json.dumps({**GOOD, "Expiration": "soon"})), "Expiration is not a timestamp"),
    ],
)
def test_failures_never_quote_output(tmp_path: Path, script: str, reason: str) -> None:
    fake = _home_with_script(tmp_path, script)
    [obs] = process.collect(fake.target)
    assert [p.code for p in obs.problems] == ["CA702"]
    assert obs.problems[0].message == f"profile p credential_process ({sys.executable}): {reason}"
    dumped = to_json(obs) + repr(obs)
    assert SECRET not in dumped and TOKEN not in dumped


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-alive"
    grandchild = tmp_path / "grandchild.py"
    grandchild.write_text(f"import time\ntime.sleep(3)\nopen({str(marker)!r}, 'w').close()\n")
    body = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(grandchild)!r}])\n"
        "time.sleep(60)\n"
    )
    fake = _home_with_script(tmp_path, body, process_timeout=timedelta(seconds=1))
    started = time.monotonic()
    [obs] = process.collect(fake.target)
    assert time.monotonic() - started < 20  # liveness, not speed
    assert obs.problems[0].message.endswith("timed out after 1s")
    assert obs.details["exit_code"] is None
    time.sleep(3)
    assert not marker.exists(), "the grandchild outlived the timeout"


def test_not_run_without_flag(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fake = _home_with_script(tmp_path, f"open({str(marker)!r}, 'w').close()\n")
    fake = fake.with_target(run_process=False)
    [obs] = process.collect(fake.target)
    assert obs.details["ran"] is False
    assert obs.details["command_head"] == sys.executable
    assert obs.problems == ()
    assert not marker.exists()


def test_not_run_with_root(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fake = _home_with_script(tmp_path, f"open({str(marker)!r}, 'w').close()\n")
    image = tmp_path / "image"
    home_in_image = image / str(fake.home).lstrip("/")
    (home_in_image / ".aws").mkdir(parents=True)
    (home_in_image / ".aws/config").write_text((fake.home / ".aws/config").read_text())
    [obs] = process.collect(replace(fake.target, root=image))
    assert obs.details == {
        "ran": False,
        "command_head": sys.executable,
        "reason": "not run: --root set",
    }
    assert not marker.exists()


def test_command_not_found(tmp_path: Path) -> None:
    fake = make_home(tmp_path, run_process=True)
    fake.write(
        ".aws/config", "[profile p]\ncredential_process = /nonexistent/credaudit-helper --x\n"
    )
    [obs] = process.collect(fake.target)
    assert obs.problems[0].message.endswith("command not found")


def test_unbalanced_quotes(tmp_path: Path) -> None:
    fake = make_home(tmp_path, run_process=True)
    fake.write(".aws/config", "[profile p]\ncredential_process = helper 'unterminated\n")
    [obs] = process.collect(fake.target)
    assert "cannot split" in obs.problems[0].message


def test_parse_accepts_version_true_like_botocore() -> None:
    # botocore compares ``Version != 1``; True == 1 in Python, so it passes there too
    parsed = process.parse_process_output(json.dumps({**GOOD, "Version": True}).encode())
    assert parsed.error is None
