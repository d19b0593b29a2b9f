"""Build a fake audited host under ``tmp_path``: a home with files, a scrubbed env, a fixed clock.

Source tests must not see this machine's real ``~/.aws`` or environment (the global env sets
``AWS_CA_BUNDLE``), and must get the same "now" on every run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from credaudit.clock import Clock
from credaudit.target import Target

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class FakeHome:
    """A home directory under a temp dir, and the Target that audits it."""

    home: Path
    target: Target

    def write(
        self, relative: str, content: str | bytes | Mapping[str, Any], mode: int = 0o600
    ) -> Path:
        """Write a file below the home (dicts as JSON) with the given permission bits."""
        path = self.home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Mapping):
            content = json.dumps(content)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        os.chmod(path, mode)
        return path

    def with_target(self, **changes: Any) -> FakeHome:
        """The same home audited with other Target settings (env, run_process, ...)."""
        return FakeHome(self.home, replace(self.target, **changes))


def make_home(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    now: datetime = NOW,
    **target_args: Any,
) -> FakeHome:
    """A fresh home at ``tmp_path/home`` with only ``env`` (plus HOME) in its environment."""
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    full_env = {"HOME": str(home), **(env or {})}
    target = Target(
        root=Path("/"),
        home=PurePosixPath(str(home)),
        env=full_env,
        clock=Clock(now),
        **target_args,
    )
    return FakeHome(home, target)
