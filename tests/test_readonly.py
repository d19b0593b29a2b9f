"""A scan never writes: every file in the target keeps its content, mode and mtime."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from click.testing import CliRunner

from credaudit.cli import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "batch-worker"


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    snap = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        content = path.read_bytes() if path.is_file() else b""
        snap[str(path.relative_to(root))] = (content, stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return snap


def test_scan_leaves_every_file_untouched(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root)
    # expired and fresh caches alike: botocore would refresh or rewrite some of these
    (root / "home" / "worker" / ".aws" / "cli" / "cache").chmod(0o700)
    before = _snapshot(root)
    for args in (
        [],
        ["--all-profiles"],
        ["--profile", "batch", "--run-process"],
        ["--all-profiles", "--format", "json", "--at", "+30d"],
    ):
        result = CliRunner().invoke(
            cli,
            [
                "scan",
                "--root",
                str(root),
                "--env-file",
                str(root / "worker.env"),
                "--no-network",
                *args,
            ],
        )
        assert result.exit_code in (0, 1), result.output
    after = _snapshot(root)
    assert after == before
