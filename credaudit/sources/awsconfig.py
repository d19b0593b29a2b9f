"""The shared config and credentials files, read once with botocore's own config loader.

botocore's ``Session.full_config`` merges the credentials file's sections into the config
file's profiles (credentials-file keys win); the chain depends on exactly that merge, so it
is reproduced here on top of ``botocore.configloader`` rather than re-implemented.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credaudit.target import Target

CONFIG_ENV = "AWS_CONFIG_FILE"
CREDENTIALS_ENV = "AWS_SHARED_CREDENTIALS_FILE"


@dataclass(frozen=True)
class IniFile:
    """One INI file: where it is, whether it exists, its sections, or why it failed."""

    in_target: str
    path: Path
    exists: bool
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    error: str | None = None
    mode: int | None = None
    lines: Mapping[str, int] = field(default_factory=dict)  # section name -> line number


@dataclass(frozen=True)
class AwsConfig:
    config: IniFile
    credentials: IniFile
    profiles: Mapping[str, Mapping[str, Any]]  # merged, as botocore's Session.full_config
    config_profiles: Mapping[str, Mapping[str, Any]]
    sso_sessions: Mapping[str, Mapping[str, Any]]
    services: Mapping[str, Mapping[str, Any]]

    def profile_line(self, profile: str) -> tuple[IniFile, int | None]:
        """The file and line a profile's section starts at, for locating findings."""
        for ini, names in (
            (self.config, (f"profile {profile}", profile if profile == "default" else "")),
            (self.credentials, (profile,)),
        ):
            for name in names:
                if name and name in ini.lines:
                    return ini, ini.lines[name]
        return self.config, None


def _section_lines(path: Path) -> dict[str, int]:
    lines: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                stripped = line.strip()
                if stripped.startswith("[") and stripped.endswith("]"):
                    lines.setdefault(stripped[1:-1].strip(), number)
    except OSError:
        pass
    return lines


def read_ini(target: Target, env_var: str, default: str) -> IniFile:
    from botocore import configloader
    from botocore.exceptions import ConfigNotFound, ConfigParseError

    in_target = target.env.get(env_var) or default
    path = target.path(os.path.expandvars(in_target) if "$" in in_target else in_target)
    try:
        st = path.stat()
    except OSError:
        return IniFile(in_target=in_target, path=path, exists=False)
    mode = stat.S_IMODE(st.st_mode)
    if not stat.S_ISREG(st.st_mode):
        return IniFile(in_target, path, True, error="not a regular file", mode=mode)
    try:
        sections = configloader.raw_config_parse(str(path))
    except ConfigNotFound:
        return IniFile(in_target=in_target, path=path, exists=False)
    except ConfigParseError as exc:
        reason = str(getattr(exc, "kwargs", {}).get("error", exc)).splitlines()[0]
        return IniFile(in_target, path, True, error=f"cannot parse: {reason[:200]}", mode=mode)
    except (OSError, UnicodeError, ValueError) as exc:
        return IniFile(in_target, path, True, error=f"cannot read: {type(exc).__name__}", mode=mode)
    return IniFile(in_target, path, True, sections, mode=mode, lines=_section_lines(path))


def _build(config: IniFile, credentials: IniFile) -> AwsConfig:
    from botocore import configloader

    built = configloader.build_profile_map(dict(config.sections))
    config_profiles: dict[str, dict[str, Any]] = built.get("profiles", {})
    profiles = {name: dict(values) for name, values in config_profiles.items()}
    for name, values in credentials.sections.items():
        profiles.setdefault(name, {}).update(values)
    return AwsConfig(
        config=config,
        credentials=credentials,
        profiles=profiles,
        config_profiles=config_profiles,
        sso_sessions=built.get("sso_sessions", {}),
        services=built.get("services", {}),
    )


_CACHE: dict[tuple[str, str, int, int, str, int, int], AwsConfig] = {}


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


def load(target: Target) -> AwsConfig:
    """Read (once per file state) the target's config and credentials files."""
    config_name = target.env.get(CONFIG_ENV) or "~/.aws/config"
    creds_name = target.env.get(CREDENTIALS_ENV) or "~/.aws/credentials"
    config_path = target.path(config_name)
    creds_path = target.path(creds_name)
    key = (
        str(config_path),
        str(creds_path),
        *_stamp(config_path),
        str(target.home),
        *_stamp(creds_path),
    )
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    loaded = _build(
        read_ini(target, CONFIG_ENV, "~/.aws/config"),
        read_ini(target, CREDENTIALS_ENV, "~/.aws/credentials"),
    )
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = loaded
    return loaded


@dataclass(frozen=True)
class ProfileChoice:
    """A profile to resolve, and how it was chosen.

    ``explicit``: ``--profile`` (as ``Session(profile=...)``), which drops the env provider.
    ``named``: the name was given at all (explicitly or by ``AWS_DEFAULT_PROFILE`` /
    ``AWS_PROFILE``); botocore then raises ProfileNotFound if it does not exist, even for
    ``default``.
    """

    name: str
    explicit: bool
    named: bool


def selected_profile(target: Target) -> ProfileChoice:
    """The profile botocore would use (``AWS_DEFAULT_PROFILE`` is checked first)."""
    if target.profile:
        return ProfileChoice(target.profile, explicit=True, named=True)
    for var in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        value = target.env.get(var)
        if value:
            return ProfileChoice(value, explicit=False, named=True)
    return ProfileChoice("default", explicit=False, named=False)
