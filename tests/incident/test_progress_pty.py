"""Progress on stderr, under a real pseudo-terminal: drawn for large input, erased when done,
never drawn when stderr is not a terminal or the input is small."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.incident.scenarios import hard_expiry

# The command as a user runs it, in a fresh interpreter; ``large`` lowers the engine's
# threshold so that the scenario's few files count as large input (the drawing is the
# subject here, not the size).
_RUN = (
    "import sys\n"
    "from credaudit.incident import embedded\n"
    "if sys.argv.pop(1) == 'large':\n"
    "    embedded.PROGRESS_MIN_BYTES = 0\n"
    "from credaudit.cli import main\n"
    "sys.argv[0] = 'credaudit'\n"
    "sys.exit(main())\n"
)


def _run(root: Path, size: str, *, terminal: bool) -> tuple[bytes, bytes]:
    """(stdout, what stderr wrote), stderr on a pty when ``terminal``."""
    argv = [sys.executable, "-c", _RUN, size, "incident", str(root), "--format", "json"]
    argv += ["--jobs", "1"]
    if not terminal:
        proc = subprocess.run(argv, capture_output=True, timeout=120, check=False)
        return proc.stdout, proc.stderr
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
        )
        os.close(slave)
        slave = -1
        assert child.stdout is not None
        out = b""
        err = b""
        streams = {child.stdout.fileno(): "out", master: "err"}
        while streams:
            ready, _, _ = select.select(list(streams), [], [], 60)
            assert ready, "the command stopped writing for a minute"
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the pty's last writer has gone
                    chunk = b""
                if not chunk:
                    del streams[fd]
                elif streams[fd] == "out":
                    out += chunk
                else:
                    err += chunk
        child.wait(timeout=60)
        return out, err
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def _screen_line(stream: bytes) -> str:
    """What the terminal's last line shows once the stream has been drawn: ``\\r`` returns to
    the start of the line, ``ESC [K`` erases from the cursor to its end."""
    line: list[str] = []
    cursor = 0
    text = stream.decode().replace("\r\n", "\n").split("\n")[-1]
    i = 0
    while i < len(text):
        if text.startswith("\x1b[K", i):
            del line[cursor:]
            i += 3
            continue
        char = text[i]
        if char == "\r":
            cursor = 0
        else:
            line[cursor : cursor + 1] = [char]
            cursor += 1
        i += 1
    return "".join(line)


def test_progress_is_drawn_on_a_terminal_and_erased(tmp_path: Path) -> None:
    scenario = hard_expiry(tmp_path / "s")
    files = sum(1 for p in scenario.root.rglob("*") if p.is_file())
    out, err = _run(scenario.root, "large", terminal=True)
    assert json.loads(out)["kind"] == "incident"  # stdout holds the report only
    drawn = err.decode()
    assert f"\rcredaudit incident: {files}/{files} files" in drawn
    assert "\rcredaudit incident: 1/" in drawn
    assert drawn.endswith("\r\x1b[K")
    assert _screen_line(err) == ""


def test_small_input_draws_nothing_on_a_terminal(tmp_path: Path) -> None:
    scenario = hard_expiry(tmp_path / "s")
    out, err = _run(scenario.root, "small", terminal=True)
    assert json.loads(out)["kind"] == "incident"
    assert b"files" not in err and b"\x1b[K" not in err


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    scenario = hard_expiry(tmp_path / "s")
    out, err = _run(scenario.root, "large", terminal=False)
    assert json.loads(out)["kind"] == "incident"
    assert b"credaudit incident:" not in err and b"\r" not in err


def test_screen_line_model() -> None:
    # The model the first test relies on: a drawn line stays visible, an erased one does not.
    assert _screen_line(b"\rcredaudit incident: 3/9 files") == "credaudit incident: 3/9 files"
    assert _screen_line(b"\rcredaudit incident: 9/9 files\r\x1b[K") == ""
    assert _screen_line(b"\rabc\rx") == "xbc"
