"""The HTML report in a real headless Chromium: it renders, and every bar and mark sits where
the data says.  A tiny script appended by the test (the page itself has none) writes each drawn
element's box into the DOM, which ``--dump-dom`` returns; a screenshot is kept as an artefact."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from credaudit.incident import collect, report
from credaudit.incident.embedded import Options
from credaudit.model import Severity
from credaudit.report.incident_html import render
from tests.incident.scenarios import SCENARIOS
from tests.peers.peer_util import REPO, require_peer

pytestmark = pytest.mark.peer

PROBE = """
<script>
const out = [];
const svg = document.getElementById('timeline').getBoundingClientRect();
for (const el of document.querySelectorAll('#timeline [data-session]')) {
  const r = el.getBoundingClientRect();
  out.push({cls: el.getAttribute('class'), session: el.dataset.session, at: el.dataset.at || null,
            start: el.dataset.start || null, end: el.dataset.end || null,
            left: r.left - svg.left, right: r.right - svg.left, top: r.top - svg.top,
            bottom: r.bottom - svg.top});
}
const pre = document.createElement('pre'); pre.id = 'layout';
pre.textContent = JSON.stringify({width: svg.width, height: svg.height, items: out});
document.body.appendChild(pre);
</script>
"""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    found = os.environ.get("CREDAUDIT_PEER_CHROMIUM") or shutil.which("chromium")
    if not found:
        require_peer("chromium is not installed (scripts/peers installs Debian's chromium)")
    return found


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _t(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_html_renders_bars_and_marks_where_the_data_says(tmp_path: Path) -> None:
    root = SCENARIOS["hard-expiry"](tmp_path / "s").root
    result = report(
        collect([str(root)], Options()), engine="embedded", inputs=[], fail_on=Severity.HIGH
    )
    page = render(result)
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    done = _run(["--dump-dom", probe.as_uri()], tmp_path / "profile1")
    assert done.returncode == 0, done.stderr[-2000:]
    m = re.search(r'<pre id="layout">(.*?)</pre>', done.stdout, re.S)
    assert m, done.stdout[-2000:]
    layout = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    svg = re.search(
        r'<svg[^>]*data-start="([^"]+)" data-seconds="([^"]+)" data-left="(\d+)" '
        r'data-width="(\d+)"',
        page,
    )
    assert svg
    start, seconds, left, width = (
        _t(svg.group(1)),
        float(svg.group(2)),
        int(svg.group(3)),
        int(svg.group(4)),
    )

    def x(at: str) -> float:
        return left + width * (_t(at) - start) / seconds

    items = layout["items"]
    bars = {i["session"]: i for i in items if i["cls"] == "session"}
    assert set(bars) == {"s1", "s2"}
    for bar in bars.values():
        assert abs(bar["left"] - x(bar["start"])) < 1.5
        assert abs(bar["right"] - x(bar["end"])) < 1.5
    # s1: minted 09:00, expires 10:00 — a one-hour bar; s2 starts at 10:08
    assert bars["s1"]["start"] == "2026-04-15T09:00:00Z"
    assert bars["s1"]["end"] == "2026-04-15T10:00:00Z"
    assert bars["s2"]["start"] == "2026-04-15T10:08:00Z"
    assert bars["s2"]["top"] > bars["s1"]["bottom"] - 1  # its own row, below
    marks = [i for i in items if i["cls"] in ("failure", "retry")]
    assert sorted(i["cls"] for i in marks) == ["failure"] * 3 + ["retry"] * 4
    expiry = next(i for i in items if i["cls"] == "expiry" and i["session"] == "s1")
    for mark in marks:
        centre = (mark["left"] + mark["right"]) / 2
        assert abs(centre - x(mark["at"])) < 1.5
        assert centre > expiry["left"]  # every failure is after s1's expiry line
        middle = (mark["top"] + mark["bottom"]) / 2
        assert bars["s1"]["top"] <= middle <= bars["s1"]["bottom"]  # on s1's row
        assert centre < bars["s2"]["left"]  # and before the refresh restored the path
    restored = next(i for i in items if i["cls"] == "restored")
    assert abs((restored["left"] + restored["right"]) / 2 - bars["s2"]["left"]) < 1.5

    artefacts = Path(os.environ.get("CREDAUDIT_ARTIFACTS", REPO / ".artifacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / "incident-timeline.png"
    shot.unlink(missing_ok=True)
    html = tmp_path / "incident.html"
    html.write_text(page)
    done = _run(
        [f"--screenshot={shot}", "--window-size=1200,900", html.as_uri()], tmp_path / "profile2"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 900)
    assert len(data) > 20_000  # a drawn page, not a blank one
