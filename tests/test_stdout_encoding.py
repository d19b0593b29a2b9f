"""A stdout that is not UTF-8 (a latin-1 terminal, ``PYTHONIOENCODING``) gets every format,
with what its encoding lacks written as ``\\uXXXX`` escapes: never an internal error.

Every format holds non-ASCII text (the masked form's ``…``, the echo of a URL, rule titles
with dashes); before, such a stdout ended each run with ``UnicodeEncodeError`` (exit 3)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credaudit.stdout import ESCAPE, encoding_of, is_utf8
from tests.presign.helpers import presign
from tests.tokens.helpers import rs256

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], encoding: str, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding, "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "credaudit", *args],
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


CASES = [
    pytest.param(["token", rs256()], id="token"),
    pytest.param(["url", presign(), "--no-network"], id="url"),  # read-only either way
]


@pytest.mark.parametrize("command", CASES)
@pytest.mark.parametrize("fmt", ["jsonl", "json", "table", "markdown"])
def test_a_latin1_stdout_gets_the_output_escaped(
    command: list[str], fmt: str, tmp_path: Path
) -> None:
    latin = _run([*command, "--format", fmt], "latin-1", tmp_path)
    utf8 = _run([*command, "--format", fmt], "utf-8", tmp_path)
    assert b"internal error" not in latin.stderr, latin.stderr
    assert latin.returncode == utf8.returncode
    assert latin.returncode in (0, 1)
    text = latin.stdout.decode("latin-1")
    assert "\\u" in text  # something the UTF-8 run wrote as non-latin-1 text, escaped
    if fmt != "markdown":  # (the markdown report names tokens by fingerprint only)
        assert "\\u2026" in text  # the masked form's "…", as its escape
    if fmt == "jsonl":
        # Inside JSON strings the escapes read back as the characters themselves.
        latin_records = [json.loads(line) for line in text.splitlines()]
        utf8_records = [json.loads(line) for line in utf8.stdout.decode().splitlines()]
        assert [_stable(r) for r in latin_records] == [_stable(r) for r in utf8_records]
    if fmt == "json":
        latin_doc, utf8_doc = json.loads(text), json.loads(utf8.stdout)
        assert latin_doc.keys() == utf8_doc.keys()
        assert [f["code"] for f in latin_doc["findings"]] == [
            f["code"] for f in utf8_doc["findings"]
        ]


def _stable(record: dict[str, object]) -> tuple[object, ...]:
    """What does not move between two runs a second apart: the masked forms, the echo."""
    return record.get("masked"), record.get("url"), record.get("access_key_id")


# (An ASCII stdout is not among them: click takes it for a misconfigured locale and writes
# UTF-8 to it, as the JSON format does through click.)
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_characters_beyond_the_stdout_encoding_read_back_as_json(
    encoding: str, fmt: str, tmp_path: Path
) -> None:
    """A URL pasted with raw text in its path (``é``, and ``🙂`` beyond U+FFFF) is echoed
    as written; on a stdout whose encoding lacks a character, it lands as a JSON escape that
    reads back as the character (``🙂`` as its surrogate pair)."""
    url = presign().replace("/a/b.txt?", "/résumé-🙂.txt?")
    narrow = _run(["url", url, "--no-network", "--format", fmt], encoding, tmp_path)
    utf8 = _run(["url", url, "--no-network", "--format", fmt], "utf-8", tmp_path)
    assert narrow.returncode == utf8.returncode in (0, 1), narrow.stderr
    text = narrow.stdout.decode(encoding)  # every byte is in the narrow encoding
    assert "\\U0001f642" not in text and "\\ud83d\\ude42" in text
    if fmt == "jsonl":
        narrow_urls = [json.loads(line)["url"] for line in text.splitlines()]
        utf8_urls = [json.loads(line)["url"] for line in utf8.stdout.decode().splitlines()]
    else:
        narrow_urls = [u["url"] for u in json.loads(text)["urls"]]
        utf8_urls = [u["url"] for u in json.loads(utf8.stdout)["urls"]]
    assert narrow_urls == utf8_urls
    assert "résumé-🙂.txt" in narrow_urls[0]


@given(st.text())
def test_the_escape_handler_round_trips_any_json_string(text: str) -> None:
    for encoding in ("latin-1", "ascii", "cp1252"):
        written = json.dumps(text, ensure_ascii=False).encode(encoding, ESCAPE)
        assert json.loads(written.decode(encoding)) == text


@pytest.mark.parametrize(
    ("spelling", "utf8"),
    [
        ("utf-8", True),
        ("UTF8", True),
        ("utf_8", True),
        ("U8", True),
        ("latin-1", False),
        ("cp1252", False),
        ("ascii", False),
    ],
)
def test_utf8_is_recognised_however_it_is_spelled(spelling: str, utf8: bool) -> None:
    """``utf_8`` (Python's own alias) and ``U8`` are UTF-8 too: bulk JSON lines then go to the
    binary buffer as they are, and no escapes are set up."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding=spelling)
    assert is_utf8(stream) is utf8
    assert encoding_of(object()) is None and not is_utf8(object())


@pytest.mark.parametrize(
    "fmt", ["table", "json", "markdown", "github", "junit", "sarif", "prometheus"]
)
def test_command_line_bytes_that_are_not_utf8_reach_every_format(tmp_path: Path, fmt: str) -> None:
    """argv bytes that are not UTF-8 (here a profile name) are lone surrogates in Python. On a
    strict UTF-8 stdout (an ordinary en_US.UTF-8 locale) they ended table, markdown, github
    and junit with an internal error, and sarif (its fingerprint) and prometheus (its UTF-8
    exposition) on any stdout. Every format now shows them as their ``\\udcXX`` escape."""
    result = _run(
        ["scan", "--profile", os.fsdecode(b"p\xff"), "--format", fmt], "utf-8:strict", tmp_path
    )
    assert result.returncode in (0, 1), result.stderr.decode(errors="replace")
    text = result.stdout.decode("utf-8")  # strict: every byte is UTF-8
    # the escape as each format writes a backslash (the exposition doubles it)
    assert ("p\\\\udcff" if fmt == "prometheus" else "p\\udcff") in text
    if fmt == "json":  # and a JSON reader gets the profile name back as Python had it
        assert json.loads(text)["chain"][0]["profile"] == "p\udcff"
