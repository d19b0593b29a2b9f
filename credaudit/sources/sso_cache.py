"""The SSO token cache, ``~/.aws/sso/cache/<sha1>.json``.

An SSO profile's role credentials last at most its session; the session itself lives only as
long as this access token, unless botocore can refresh it (``SSOTokenProvider``: an
``sso-session`` profile, a refresh token, a client registration that has not expired).  The
tokens and client secret are secrets: only their presence is recorded.
"""

from __future__ import annotations

from datetime import datetime
from hashlib import sha1
from pathlib import Path
from typing import Any

from credaudit.model import Observation, Problem, format_optional_instant
from credaudit.sources.jsonfile import (
    collect_directory,
    instant,
    observe_json_file,
    problem,
    text,
)
from credaudit.target import Target

TOKEN_SOURCE = "sso-token"  # noqa: S105 (a source name)
REGISTRATION = "sso-registration"
OTHER = "sso-cache-other"


def sso_token_cache_key(name_or_start_url: str) -> str:
    """The token file stem: sha1 of the sso-session name, or of the start URL for legacy
    profiles (``SSOTokenLoader._generate_cache_key``)."""
    return sha1(name_or_start_url.encode("utf-8")).hexdigest()  # noqa: S324


def collect(target: Target) -> list[Observation]:
    now = target.clock.now()
    return collect_directory(
        TOKEN_SOURCE,
        target.home_path(".aws", "sso", "cache"),
        lambda body, **base: observe_document(body, now, **base),
    )


def observe_file(path: Path, now: datetime) -> Observation:
    return observe_json_file(
        TOKEN_SOURCE, path, lambda body, **base: observe_document(body, now, **base)
    )


def observe_document(body: dict[str, Any], now: datetime, **base: Any) -> Observation:
    """Classify one cache document (token, client registration, other) and describe it."""
    origin = str(base.get("origin", ""))
    stem = origin.rsplit("/", 1)[-1].removesuffix(".json")
    if "accessToken" in body or "startUrl" in body:
        return _token(body, now, stem, origin, base)
    if "clientId" in body or "clientSecret" in body:
        return _registration(body, stem, origin, base)
    if "expiresAt" in body:  # a token that lost its accessToken (SSOTokenLoader rejects it)
        return _token(body, now, stem, origin, base)
    return Observation(source=OTHER, details={"cache_key": stem}, **base)


def _token(
    body: dict[str, Any], now: datetime, stem: str, origin: str, base: dict[str, Any]
) -> Observation:
    problems: list[Problem] = []
    if text(body.get("accessToken")) is None:
        # SSOTokenLoader rejects a missing accessToken; an empty one fails later.
        problems.append(problem(origin, "accessToken is missing or empty"))
    expires_at = None
    if "expiresAt" not in body:
        problems.append(problem(origin, "expiresAt is missing"))
    else:
        expires_at, why = instant(body["expiresAt"])
        if why:
            problems.append(problem(origin, f"expiresAt {why}"))
    registration_expires_at = None
    if "registrationExpiresAt" in body:
        registration_expires_at, why = instant(body["registrationExpiresAt"])
        if why:
            problems.append(problem(origin, f"registrationExpiresAt {why}"))
    refresh_token = text(body.get("refreshToken")) is not None
    client_id = text(body.get("clientId")) is not None
    client_secret = text(body.get("clientSecret")) is not None
    # SSOTokenProvider._refresh_access_token: all four present and the registration unexpired.
    refreshable = (
        refresh_token
        and client_id
        and client_secret
        and registration_expires_at is not None
        and registration_expires_at > now
    )
    return Observation(
        source=TOKEN_SOURCE,
        **base,
        expires_at=expires_at,
        refreshable=refreshable,
        details={
            "cache_key": stem,
            "start_url": text(body.get("startUrl")),
            "region": text(body.get("region")),
            "refresh_token_present": refresh_token,
            "client_secret_present": client_secret,
            "client_id_present": client_id,
            "registration_expires_at": format_optional_instant(registration_expires_at),
        },
        problems=tuple(problems),
    )


def _registration(
    body: dict[str, Any], stem: str, origin: str, base: dict[str, Any]
) -> Observation:
    problems: list[Problem] = []
    expires_at = None
    if "expiresAt" in body:
        expires_at, why = instant(body["expiresAt"])
        if why:
            problems.append(problem(origin, f"expiresAt {why}"))
    return Observation(
        source=REGISTRATION,
        **base,
        expires_at=expires_at,
        details={
            "cache_key": stem,
            "client_id_present": text(body.get("clientId")) is not None,
            "client_secret_present": text(body.get("clientSecret")) is not None,
        },
        problems=tuple(problems),
    )
