"""The ``aws login`` token cache, ``~/.aws/login/cache/<sha256>.json``.

``aws login`` stores short-lived credentials inside the token document and botocore's
``LoginCredentialFetcher`` refreshes them with the refresh token and DPoP key, so an entry is
refreshable only while those are present.  Only presence of the secrets is recorded.
"""

from __future__ import annotations

import string
from hashlib import sha256
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

SOURCE = "login-token"
DIRECTORY_ENV = "AWS_LOGIN_CACHE_DIRECTORY"
# LoginCredentialFetcher._REQUIRED_TOKEN_FIELDS: without any of these botocore fails to load.
REQUIRED = ("accessToken", "refreshToken", "dpopKey", "clientId")


def login_cache_key(login_session: str) -> str:
    """The cache file stem for a ``login_session`` (``utils.generate_login_cache_key``)."""
    return sha256(login_session.encode("utf-8")).hexdigest()


def cache_directory(target: Target) -> Path:
    """``utils.get_login_token_cache_directory`` against the target's env and home."""
    configured = target.env.get(DIRECTORY_ENV)
    if configured is not None:
        expanded = _expandvars(configured, target)
        return target.path(expanded)
    return target.home_path(".aws", "login", "cache")


def _expandvars(value: str, target: Target) -> str:
    # botocore's os.path.expandvars reads os.environ; expand against the target's env instead.
    return string.Template(value).safe_substitute(target.env) if "$" in value else value


def collect(target: Target) -> list[Observation]:
    return collect_directory(SOURCE, cache_directory(target), observe_document)


def observe_file(path: Path) -> Observation:
    return observe_json_file(SOURCE, path, observe_document)


def observe_document(body: dict[str, Any], **base: Any) -> Observation:
    origin = str(base.get("origin", ""))
    stem = origin.rsplit("/", 1)[-1].removesuffix(".json")
    problems: list[Problem] = []
    missing = [key for key in REQUIRED if key not in body]
    if missing:
        problems.append(problem(origin, f"missing required fields: {', '.join(missing)}"))
    access = body.get("accessToken")
    if not isinstance(access, dict):
        if "accessToken" in body:
            problems.append(problem(origin, "accessToken is not an object"))
        access = {}
    expires_at = None
    if "expiresAt" in access:
        expires_at, why = instant(access["expiresAt"])
        if why:
            problems.append(problem(origin, f"accessToken.expiresAt {why}"))
    elif access:
        problems.append(problem(origin, "accessToken.expiresAt is missing"))
    refresh_token = text(body.get("refreshToken")) is not None
    return Observation(
        source=SOURCE,
        **base,
        **credential_fields(
            access.get("accessKeyId"),
            access.get("secretAccessKey"),
            access.get("sessionToken"),
            access.get("accountId"),
        ),
        expires_at=expires_at,
        refreshable=refresh_token and not missing,
        details={"cache_key": stem, "refresh_token_present": refresh_token},
        problems=tuple(problems),
    )
