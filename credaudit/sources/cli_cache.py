"""The AWS CLI's role-credential cache, ``~/.aws/cli/cache/<key>.json``.

The CLI caches every AssumeRole, AssumeRoleWithWebIdentity and (v2) SSO GetRoleCredentials
result here, and a worker keeps using a cached entry until it is within 15 minutes of expiry
(``CachedCredentialFetcher._is_expired``).  The key functions reproduce botocore's own file
names so the chain can tell which profile a cache entry belongs to without guessing.
"""

from __future__ import annotations

import json
from hashlib import sha1
from pathlib import Path
from typing import Any

from credaudit.model import Observation, Problem
from credaudit.sources.jsonfile import (
    collect_directory,
    credential_fields,
    instant,
    observe_json_file,
    problem,
    text,
)
from credaudit.target import Target

SOURCE = "cli-cache"


def _file_safe(digest: str) -> str:
    # CachedCredentialFetcher._make_file_safe; a hex digest never holds these, kept for parity.
    return digest.replace(":", "_").replace("/", "_")


def _assume_role_key(args: dict[str, Any]) -> str:
    # BaseAssumeRoleCredentialFetcher._create_cache_key: default separators, sorted keys.
    return _file_safe(sha1(json.dumps(args, sort_keys=True).encode("utf-8")).hexdigest())  # noqa: S324


def assume_role_cache_key(
    role_arn: str,
    *,
    role_session_name: str | None = None,
    external_id: str | None = None,
    mfa_serial: str | None = None,
    duration_seconds: int | None = None,
) -> str:
    """The cache file stem the CLI writes for an ``assume-role`` profile.

    Mirrors ``AssumeRoleProvider._load_creds_via_assume_role`` building ``extra_args`` (each
    key only when configured) and ``BaseAssumeRoleCredentialFetcher`` dropping an empty
    ``RoleSessionName`` (it generates a time-based one, left out of the hash).
    """
    args: dict[str, Any] = {"RoleArn": role_arn}
    if role_session_name:
        args["RoleSessionName"] = role_session_name
    if external_id is not None:
        args["ExternalId"] = external_id
    if mfa_serial is not None:
        args["SerialNumber"] = mfa_serial
    if duration_seconds is not None:
        args["DurationSeconds"] = int(duration_seconds)
    return _assume_role_key(args)


def web_identity_cache_key(role_arn: str, role_session_name: str | None = None) -> str:
    """The cache file stem for an ``assume-role-with-web-identity`` profile or env config."""
    args: dict[str, Any] = {"RoleArn": role_arn}
    if role_session_name:
        args["RoleSessionName"] = role_session_name
    return _assume_role_key(args)


def sso_role_cache_key(
    account_id: str, role_name: str, *, session_name: str | None, start_url: str | None
) -> str:
    """The cache file stem CLI v2 writes for an SSO profile (``SSOCredentialFetcher``)."""
    args: dict[str, Any] = {"roleName": role_name, "accountId": account_id}
    if session_name:
        args["sessionName"] = session_name
    else:
        args["startUrl"] = start_url
    body = json.dumps(args, sort_keys=True, separators=(",", ":"))
    return _file_safe(sha1(body.encode("utf-8")).hexdigest())  # noqa: S324


def collect(target: Target) -> list[Observation]:
    """One observation per cache entry; entries are reported even when expired."""
    return collect_directory(SOURCE, target.home_path(".aws", "cli", "cache"), observe_document)


def observe_file(path: Path) -> Observation:
    """Read one cache file; every failure is a CA702 on the returned observation."""
    return observe_json_file(SOURCE, path, observe_document)


def observe_document(body: dict[str, Any], **base: Any) -> Observation:
    """Turn a cache entry's body into an observation (``base`` = origin, location, mode)."""
    origin = str(base.get("origin", ""))
    stem = origin.rsplit("/", 1)[-1].removesuffix(".json")
    problems: list[Problem] = []
    creds = body.get("Credentials")
    if not isinstance(creds, dict):
        creds = {}
        problems.append(problem(origin, "no Credentials object (not a role-credential entry)"))
    user = body.get("AssumedRoleUser")
    role_arn = text(user.get("Arn")) if isinstance(user, dict) else None
    expires_at = None
    if "Expiration" in creds:
        expires_at, why = instant(creds["Expiration"])
        if why:
            problems.append(problem(origin, f"Credentials.Expiration {why}"))
    elif creds:
        problems.append(problem(origin, "Credentials.Expiration is missing"))
    if creds and text(creds.get("AccessKeyId")) is None:
        problems.append(problem(origin, "Credentials.AccessKeyId is missing"))
    return Observation(
        source=SOURCE,
        **base,
        **credential_fields(
            creds.get("AccessKeyId"),
            creds.get("SecretAccessKey"),
            creds.get("SessionToken"),
            creds.get("AccountId"),
        ),
        expires_at=expires_at,
        refreshable=False,
        details={
            "cache_key": stem,
            "provider_type": "sso" if body.get("ProviderType") == "sso" else "assume-role",
            "assumed_role_arn": role_arn,
        },
        problems=tuple(problems),
    )
