"""What is being audited: a filesystem root, a home, an environment, a clock, and permissions.

The CLI builds a Target from its options; everything below reads the environment, the home
and the clock only through it, so a test can audit a synthetic host deterministically and a
user can audit a mounted container image (``--root``) or a running worker (``--pid``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePosixPath

from credaudit.clock import Clock
from credaudit.model import format_instant

DEFAULT_PROBE_TIMEOUT = timedelta(seconds=1)


class TargetError(ValueError):
    """The target could not be built (unreadable env file, no such process, ...)."""


@dataclass(frozen=True)
class Target:
    root: Path
    home: PurePosixPath
    env: Mapping[str, str]
    clock: Clock
    profile: str | None = None
    all_profiles: bool = False
    run_process: bool = False
    network: bool = True
    online: bool = False
    probe_timeout: timedelta = DEFAULT_PROBE_TIMEOUT
    process_timeout: timedelta = timedelta(seconds=10)
    labels: Mapping[str, str] = field(default_factory=dict)
    host: str | None = None  # the host running the audit, as its reports name it

    def path(self, in_target: str | PurePosixPath) -> Path:
        """Map a path as the audited process sees it to the file we can open here."""
        text = str(in_target)
        if text == "~" or text.startswith("~/"):
            text = str(self.home) + text[1:]
        posix = PurePosixPath(text)
        if not posix.is_absolute():
            posix = self.home / posix if text.startswith(".aws") else PurePosixPath("/") / posix
        if str(self.root) == "/":
            return Path(posix)
        return self.root / posix.relative_to("/")

    def home_path(self, *parts: str) -> Path:
        return self.path(self.home.joinpath(*parts))

    def describe(self) -> dict[str, str | bool | None]:
        """The target as the report shows it (never the environment's values)."""
        return {
            "root": str(self.root),
            "home": str(self.home),
            "profile": self.profile,
            "all_profiles": self.all_profiles,
            "evaluated_at": format_instant(self.clock.now()),
            "network": self.network,
            "online": self.online,
            **{k: v for k, v in self.labels.items()},
        }


def read_env_file(path: Path) -> dict[str, str]:
    """Read ``KEY=VALUE`` lines (``export`` prefix, quotes and comments allowed)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise TargetError(f"{path}: cannot read env file ({exc.strerror or exc})") from None
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "").isalnum():
            raise TargetError(f"{path}:{number}: not a KEY=VALUE line")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def read_process_env(pid: int, proc: Path = Path("/proc")) -> dict[str, str]:
    """Read another process's environment from ``/proc/PID/environ``."""
    environ = proc / str(pid) / "environ"
    try:
        data = environ.read_bytes()
    except FileNotFoundError:
        raise TargetError(f"process {pid}: no such process") from None
    except PermissionError:
        raise TargetError(f"process {pid}: permission denied reading {environ}") from None
    except OSError as exc:
        raise TargetError(f"process {pid}: cannot read {environ} ({exc.strerror})") from None
    env: dict[str, str] = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            key, _, value = item.partition(b"=")
            env[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return env


def default_home(env: Mapping[str, str], root: Path) -> PurePosixPath:
    """The target's home: ``$HOME`` from its environment; else, in a mounted tree, the one
    home that holds an ``.aws`` directory; else root's home."""
    home = env.get("HOME")
    if home and home.startswith("/"):
        return PurePosixPath(home)
    if str(root) == "/":
        return PurePosixPath(os.path.expanduser("~"))
    return _only_home_with_aws(root) or PurePosixPath("/root")


MAX_HOMES_LOOKED_AT = 1000


def _only_home_with_aws(root: Path) -> PurePosixPath | None:
    """``/root`` or ``/home/NAME`` inside ``root`` when exactly one of them has ``~/.aws``.

    An image's environment usually does not come with it, so ``$HOME`` is unknown; guessing
    ``/root`` for an image whose worker runs as ``app`` would audit an empty home and report
    "no credentials".  With several candidates there is no right guess: ``/root`` is kept and
    ``--home`` chooses.
    """
    candidates = [PurePosixPath("/root")]
    try:
        with os.scandir(root / "home") as entries:
            for number, entry in enumerate(entries):
                if number >= MAX_HOMES_LOOKED_AT:
                    break
                if entry.is_dir(follow_symlinks=False):
                    candidates.append(PurePosixPath("/home") / entry.name)
    except OSError:
        pass
    with_aws = [c for c in candidates if (root / c.relative_to("/") / ".aws").is_dir()]
    return with_aws[0] if len(with_aws) == 1 else None
