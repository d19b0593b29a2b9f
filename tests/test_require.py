"""``credaudit require``: the child runs only when its credentials last; status and signals pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

AT = "2030-01-01T12:00:00Z"
EXPIRES = "2030-01-01T12:30:00Z"  # 30 minutes after AT


def host_env(home: Path, **extra: str) -> dict[str, str]:
    """A bare host (none of this machine's AWS_* variables) with a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env.update(HOME=str(home), **extra)
    return env


def session_env(home: Path) -> dict[str, str]:
    return host_env(
        home,
        AWS_ACCESS_KEY_ID="ASIAY34FZKBOKMUTVV7A",
        AWS_SECRET_ACCESS_KEY="not-a-real-secret",
        AWS_SESSION_TOKEN="not-a-real-token",
        AWS_CREDENTIAL_EXPIRATION=EXPIRES,
    )


def require(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credaudit", "require", "--no-network", "--at", AT, *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_refuses_when_session_ends_first(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = require(session_env(tmp_path), "--for", "1h", "--", "touch", str(marker))
    assert result.returncode == 1
    assert not marker.exists()
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "credaudit: not starting touch: profile 'default' uses env credentials"
    )
    assert "30m" in lines[0] and "CA102" in lines[0]
    assert "not-a-real-secret" not in result.stderr and "not-a-real-token" not in result.stderr


def test_margin_counts(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    # 25 min + the default 5 min margin = 30 min: just fits; 26 min does not.
    assert (
        require(session_env(tmp_path), "--for", "25m", "--", "touch", str(marker)).returncode == 0
    )
    assert marker.exists()
    marker.unlink()
    assert (
        require(session_env(tmp_path), "--for", "26m", "--", "touch", str(marker)).returncode == 1
    )
    assert not marker.exists()
    assert (
        require(
            session_env(tmp_path), "--for", "26m", "--margin", "0s", "--", "touch", str(marker)
        ).returncode
        == 0
    )


def test_runs_and_forwards_status_and_stdio(tmp_path: Path) -> None:
    result = require(
        session_env(tmp_path),
        "--for",
        "10m",
        "--",
        "sh",
        "-c",
        "cat; echo err >&2; exit 7",
        stdin="from stdin\n",
    )
    assert result.returncode == 7
    assert result.stdout == "from stdin\n"
    assert result.stderr == "err\n"


def test_child_options_are_not_ours(tmp_path: Path) -> None:
    result = require(
        session_env(tmp_path), "--for", "10m", "--", "sh", "-c", "echo $0 $1", "--for", "x"
    )
    assert result.returncode == 0
    assert result.stdout == "--for x\n"


def test_killed_child_gives_128_plus_signal(tmp_path: Path) -> None:
    result = require(session_env(tmp_path), "--for", "10m", "--", "sh", "-c", "kill -KILL $$")
    assert result.returncode == 128 + signal.SIGKILL


def test_command_not_found(tmp_path: Path) -> None:
    result = require(session_env(tmp_path), "--for", "10m", "--", "no-such-command-credaudit")
    assert result.returncode == 127
    assert result.stderr == "credaudit: no-such-command-credaudit: command not found\n"


def test_no_credentials_refuses(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = require(host_env(tmp_path), "--for", "1m", "--", "touch", str(marker))
    assert result.returncode == 1
    assert not marker.exists()
    assert "profile 'default' has no credentials" in result.stderr


def test_refreshable_role_profile_counts_as_lasting(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[base]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = x\n"
    )
    (aws / "config").write_text(
        "[profile deploy]\nrole_arn = arn:aws:iam::609629065308:role/deploy\nsource_profile = base\n"
    )
    for path in (aws / "credentials", aws / "config"):
        path.chmod(0o600)
    marker = tmp_path / "ran"
    result = require(
        host_env(tmp_path), "--for", "10h", "--profile", "deploy", "--", "touch", str(marker)
    )
    assert result.returncode == 0, result.stderr
    assert marker.exists()


def test_mfa_role_profile_does_not_count_as_lasting(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[base]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = x\n"
    )
    (aws / "config").write_text(
        "[profile admin]\nrole_arn = arn:aws:iam::609629065308:role/admin\nsource_profile = base\n"
        "mfa_serial = arn:aws:iam::609629065308:mfa/alice\n"
    )
    marker = tmp_path / "ran"
    result = require(
        host_env(tmp_path), "--for", "3h", "--profile", "admin", "--", "touch", str(marker)
    )
    assert result.returncode == 1
    assert not marker.exists()
    assert "CA104" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_is_forwarded_to_the_child(tmp_path: Path, sig: signal.Signals) -> None:
    ready, marker = tmp_path / "ready", tmp_path / "marker"
    name = sig.name.removeprefix("SIG")
    script = (
        f'trap "echo got-{name} > {marker}; exit 3" {name}; '
        f"touch {ready}; while :; do sleep 0.05; done"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "credaudit",
            "require",
            "--no-network",
            "--at",
            AT,
            "--for",
            "10m",
            "--",
            "sh",
            "-c",
            script,
        ],
        env=session_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "child never started"
            time.sleep(0.05)
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert marker.read_text() == f"got-{name}\n"


def test_signal_during_spawn_is_held_and_forwarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal that lands while the child is being spawned (the window in which the test
    above once lost SIGHUP under load) neither kills require nor is lost: it reaches the
    child as soon as it exists.  The signal is raised at exactly that moment, in-process."""
    from credaudit.commands import require as require_command

    real_popen = subprocess.Popen

    def popen_during_signal(argv: list[str]) -> subprocess.Popen[bytes]:
        os.kill(os.getpid(), signal.SIGHUP)  # handled at the next bytecode: before the child
        return real_popen(argv)

    monkeypatch.setattr(require_command.subprocess, "Popen", popen_during_signal)
    before = signal.getsignal(signal.SIGHUP)
    started = time.monotonic()
    status = require_command.run_child(["sleep", "30"])
    assert status == 128 + signal.SIGHUP  # the child died of the forwarded signal
    assert time.monotonic() - started < 10  # ... at once, not after its 30 s
    assert signal.getsignal(signal.SIGHUP) is before  # our handlers are put back
