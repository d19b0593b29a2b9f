"""Profiles in ``~/.aws/config`` and ``~/.aws/credentials``: one observation per provider a
profile would trigger, named by botocore's ``METHOD`` so the chain can order them.

The files are read once, with botocore's own config loader (``awsconfig.load``).  What each
provider needs to be judged later is recorded in ``details``: the role's duration and MFA
serial, the SSO session, and the cache keys botocore would use to find cached sessions, so
the CLI and SSO caches can be matched to their profile without guessing.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from typing import Any

from credaudit.durations import DurationError, parse_instant
from credaudit.keys import account_from_key, fingerprint, key_kind, mask_key
from credaudit.model import Location, Observation, Problem
from credaudit.sources import awsconfig
from credaudit.sources.awsconfig import AwsConfig, IniFile
from credaudit.target import Target

STATIC_TOKEN_KEYS = ("aws_security_token", "aws_session_token")
# Expiry markers tools write next to a session token in the credentials file.
STATIC_EXPIRY_KEYS = ("x_security_token_expires", "aws_expiration", "expiration")
SSO_PROFILE_KEYS = ("sso_role_name", "sso_account_id")


def _location(ini: IniFile, line: int | None) -> Location:
    return Location(path=str(ini.path), line=line)


def _assume_role(name: str, profile: Mapping[str, Any], cfg: AwsConfig) -> Observation:
    from credaudit.sources.cli_cache import assume_role_cache_key

    details: dict[str, str | int | float | bool | None] = {
        key: profile.get(key)
        for key in (
            "role_arn",
            "source_profile",
            "credential_source",
            "mfa_serial",
            "external_id",
            "role_session_name",
        )
    }
    problems: list[Problem] = []
    raw_duration = profile.get("duration_seconds")
    duration: int | None = None
    if raw_duration is not None:
        try:
            duration = int(raw_duration)
        except (TypeError, ValueError):
            problems.append(
                Problem(code="CA702", message=f"duration_seconds {raw_duration!r} is not a number")
            )
    details["duration_seconds"] = duration
    source = cfg.profiles.get(str(profile.get("source_profile")), {})
    details["chained"] = bool(
        profile.get("source_profile")
        and profile.get("source_profile") != name
        and "role_arn" in source
        and "web_identity_token_file" not in source
    )
    details["cache_key"] = assume_role_cache_key(
        str(profile["role_arn"]),
        role_session_name=profile.get("role_session_name"),
        external_id=profile.get("external_id"),
        mfa_serial=profile.get("mfa_serial"),
        duration_seconds=duration,
    )
    ini, line = cfg.profile_line(name)
    return Observation(
        source="assume-role",
        origin=f"{ini.in_target} [{name}]",
        profile=name,
        refreshable=True,
        location=_location(ini, line),
        details=details,
        problems=tuple(problems),
    )


def _web_identity(name: str, profile: Mapping[str, Any], cfg: AwsConfig) -> Observation:
    ini, line = cfg.profile_line(name)
    return Observation(
        source="assume-role-with-web-identity",
        origin=f"{ini.in_target} [{name}]",
        profile=name,
        refreshable=True,
        location=_location(ini, line),
        details={
            "from_env": False,
            "web_identity_token_file": profile.get("web_identity_token_file"),
            "role_arn": profile.get("role_arn"),
            "role_session_name": profile.get("role_session_name"),
        },
    )


def _sso(name: str, profile: Mapping[str, Any], cfg: AwsConfig) -> Observation:
    """Resolve the profile's SSO settings the way SSOProvider._load_sso_config does."""
    from credaudit.sources.cli_cache import sso_role_cache_key
    from credaudit.sources.sso_cache import sso_token_cache_key

    resolved = dict(profile)
    required = ["sso_role_name", "sso_account_id", "sso_start_url", "sso_region"]
    error: str | None = None
    session_name = profile.get("sso_session")
    if session_name is not None:
        required.append("sso_session")
        session = cfg.sso_sessions.get(session_name)
        if session is None:
            error = f'sso-session "{session_name}" does not exist'
        else:
            for key, value in session.items():
                if resolved.get(key, value) != value:
                    error = f"{key} differs between the profile and sso-session {session_name}"
                resolved[key] = value
    missing = [key for key in required if key not in resolved]
    if error is None and missing:
        error = f"missing SSO configuration: {', '.join(missing)}"
    start_url = resolved.get("sso_start_url")
    token_name = session_name if session_name is not None else start_url
    details: dict[str, str | int | float | bool | None] = {
        "sso_session": session_name,
        "sso_start_url": start_url,
        "sso_region": resolved.get("sso_region"),
        "sso_account_id": resolved.get("sso_account_id"),
        "sso_role_name": resolved.get("sso_role_name"),
        "legacy": session_name is None,
        "config_error": error,
        "token_cache_key": sso_token_cache_key(str(token_name)) if token_name else None,
        "role_cache_key": (
            sso_role_cache_key(
                str(resolved["sso_account_id"]),
                str(resolved["sso_role_name"]),
                session_name=session_name,
                start_url=start_url,
            )
            if error is None
            else None
        ),
    }
    ini, line = cfg.profile_line(name)
    return Observation(
        source="sso",
        origin=f"{ini.in_target} [{name}]",
        profile=name,
        refreshable=True,
        account_id=str(resolved.get("sso_account_id") or "") or None,
        location=_location(ini, line),
        details=details,
    )


def _static(
    method: str, name: str, values: Mapping[str, Any], ini: IniFile, line: int | None
) -> Observation:
    access_key = str(values.get("aws_access_key_id", ""))
    token = next((str(values[k]) for k in STATIC_TOKEN_KEYS if k in values), None)
    problems: list[Problem] = []
    expires_at = None
    expiry_key = next((k for k in STATIC_EXPIRY_KEYS if values.get(k)), None)
    if expiry_key:
        try:
            expires_at = parse_instant(str(values[expiry_key]))
        except DurationError:
            problems.append(
                Problem(
                    code="CA702", message=f"{ini.path} [{name}]: {expiry_key} is not a timestamp"
                )
            )
    secret = bool(values.get("aws_secret_access_key"))
    return Observation(
        source=method,
        origin=f"{ini.in_target} [{name}]",
        profile=name,
        access_key_id=access_key,
        access_key_masked=mask_key(access_key),
        account_id=str(values.get("aws_account_id") or "") or account_from_key(access_key),
        key_kind=key_kind(access_key),
        session_token_fingerprint=fingerprint(token),
        has_secret=secret,
        expires_at=expires_at,
        refreshable=False,
        location=_location(ini, line),
        file_mode=ini.mode,
        details={
            "expiry_key": expiry_key,
            "partial": None
            if "aws_secret_access_key" in values
            else "aws_secret_access_key missing",
        },
        problems=tuple(problems),
    )


def _simple(method: str, name: str, cfg: AwsConfig, **details: Any) -> Observation:
    ini, line = cfg.profile_line(name)
    return Observation(
        source=method,
        origin=f"{ini.in_target} [{name}]",
        profile=name,
        refreshable=True,
        location=_location(ini, line),
        details=details,
    )


def profile_observations(name: str, cfg: AwsConfig) -> list[Observation]:
    """Every provider this profile configures, in botocore's order."""
    profile = cfg.profiles.get(name, {})
    found: list[Observation] = []
    if "role_arn" in profile and "web_identity_token_file" not in profile:
        found.append(_assume_role(name, profile, cfg))
    if "web_identity_token_file" in profile:
        found.append(_web_identity(name, profile, cfg))
    if any(key in profile for key in SSO_PROFILE_KEYS):
        found.append(_sso(name, profile, cfg))
    creds_section = cfg.credentials.sections.get(name, {})
    if "aws_access_key_id" in creds_section:
        found.append(
            _static(
                "shared-credentials-file",
                name,
                creds_section,
                cfg.credentials,
                cfg.credentials.lines.get(name),
            )
        )
    if "login_session" in profile:
        from credaudit.sources.login_cache import login_cache_key

        found.append(
            _simple(
                "login",
                name,
                cfg,
                login_session=str(profile["login_session"]),
                cache_key=login_cache_key(str(profile["login_session"])),
            )
        )
    if "credential_process" in profile:
        command = str(profile["credential_process"]).strip()
        found.append(
            _simple("custom-process", name, cfg, command_head=command.split(" ", 1)[0][:120])
        )
    config_section = cfg.config_profiles.get(name, {})
    if "aws_access_key_id" in config_section:
        header = "default" if name == "default" else f"profile {name}"
        line = cfg.config.lines.get(header) or cfg.config.lines.get(f"profile {name}")
        found.append(_static("config-file", name, config_section, cfg.config, line))
    return found


def _file_observation(ini: IniFile, kind: str) -> Observation | None:
    """The file itself: its mode (CA701) and whether it parsed (CA702)."""
    if not ini.exists:
        return None
    problems = (Problem(code="CA702", message=f"{ini.path}: {ini.error}"),) if ini.error else ()
    return Observation(
        source=kind,
        origin=str(ini.path),
        location=Location(path=str(ini.path)),
        file_mode=ini.mode,
        details={"holds_secrets": kind == "credentials-file" or _config_has_keys(ini)},
        problems=problems,
    )


def _config_has_keys(ini: IniFile) -> bool:
    return any("aws_secret_access_key" in section for section in ini.sections.values())


def _legacy(target: Target) -> list[Observation]:
    """botocore's two legacy static-key files: AWS_CREDENTIAL_FILE and the boto2 config."""
    from botocore import configloader
    from botocore.exceptions import ConfigNotFound, ConfigParseError

    found: list[Observation] = []
    ec2_file = target.env.get("AWS_CREDENTIAL_FILE")
    if ec2_file is not None:
        path = target.path(ec2_file)
        values: dict[str, str] = {}
        try:
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                key, sep, value = line.partition("=")
                if sep:
                    values[key.strip()] = value.strip()
        except OSError:
            values = {}
        if "AWSAccessKeyId" in values:
            found.append(
                _static(
                    "ec2-credentials-file",
                    "default",
                    {
                        "aws_access_key_id": values["AWSAccessKeyId"],
                        "aws_secret_access_key": values.get("AWSSecretKey", ""),
                    },
                    IniFile(ec2_file, path, True, mode=_mode(path)),
                    None,
                )
            )
    boto_names = (
        [target.env["BOTO_CONFIG"]] if "BOTO_CONFIG" in target.env else ["/etc/boto.cfg", "~/.boto"]
    )
    for name in boto_names:
        path = target.path(name)
        try:
            sections = configloader.raw_config_parse(str(path))
        except (ConfigNotFound, ConfigParseError, OSError, UnicodeError, ValueError):
            continue
        creds = sections.get("Credentials", {})
        if "aws_access_key_id" in creds:
            found.append(
                _static(
                    "boto-config",
                    "default",
                    creds,
                    IniFile(name, path, True, mode=_mode(path)),
                    None,
                )
            )
            break
    return found


def _mode(path: Any) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def collect(target: Target) -> list[Observation]:
    cfg = awsconfig.load(target)
    found: list[Observation] = []
    for ini, kind in ((cfg.config, "config-file-ini"), (cfg.credentials, "credentials-file")):
        observation = _file_observation(ini, kind)
        if observation is not None:
            found.append(observation)
    for name in cfg.profiles:
        found.extend(profile_observations(name, cfg))
    found.extend(_legacy(target))
    return found
