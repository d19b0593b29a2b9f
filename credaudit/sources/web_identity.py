"""Web-identity token files (EKS IRSA, GitHub OIDC, ...) named by env or profile.

botocore re-reads the token file on every AssumeRoleWithWebIdentity call, so what matters is
the token currently in the file: when it expires and how old the file is (a projected token
that stopped being rotated is the classic cause).  The JWT is decoded without verifying its
signature; only the timing claims, audience and issuer are kept, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from credaudit.model import Location, Observation, Problem, format_instant
from credaudit.sources.jsonfile import read_bytes, unreadable_file
from credaudit.target import Target

SOURCE = "web-identity-token"
ENV_VAR = "AWS_WEB_IDENTITY_TOKEN_FILE"
PROFILE_KEY = "web_identity_token_file"
MAX_TOKEN_BYTES = 64 * 1024


@dataclass(frozen=True)
class TokenRef:
    """One configured token file: its path as the audited process sees it, and who names it."""

    token_file: str
    profile: str | None
    from_env: bool


def references(target: Target) -> list[TokenRef]:
    """Every configured token file once: the env variable first, then profiles by name."""
    refs: list[TokenRef] = []
    env_value = target.env.get(ENV_VAR)
    if env_value:
        refs.append(TokenRef(env_value, None, True))
    from credaudit.sources import awsconfig

    profiles = awsconfig.load(target).profiles
    for name in sorted(profiles):
        value = profiles[name].get(PROFILE_KEY)
        if isinstance(value, str) and value:
            refs.append(TokenRef(value, name, False))
    seen: set[str] = set()
    unique: list[TokenRef] = []
    for ref in refs:
        if ref.token_file not in seen:
            seen.add(ref.token_file)
            unique.append(ref)
    return unique


def collect(target: Target) -> list[Observation]:
    return [observe(target, ref) for ref in references(target)]


def observe(target: Target, ref: TokenRef) -> Observation:
    """Read and decode one token file; any failure is a CA702 naming the file."""
    where = ref.token_file
    if where.startswith("~") or not where.startswith("/"):
        # FileWebIdentityTokenLoader opens the path as written: no ~ expansion, and a relative
        # path depends on the worker's working directory, which credaudit cannot know.
        reason = "path is not absolute (botocore opens it as written, without expanding ~)"
        return unreadable_file(SOURCE, where, reason, None, ref.profile)
    raw = read_bytes(target.path(where), MAX_TOKEN_BYTES)
    if raw.data is None:
        why = "token file not found" if raw.error == "file not found" else raw.error
        return unreadable_file(SOURCE, where, why or "unreadable", raw.mode, ref.profile)
    now = target.clock.now()
    details: dict[str, str | int | float | bool | None] = {
        "token_file": where,
        "from_env": ref.from_env,
        "mtime": None,
        "age_seconds": None,
    }
    if raw.mtime is not None:
        mtime = datetime.fromtimestamp(raw.mtime, UTC)
        details["mtime"] = format_instant(mtime)
        details["age_seconds"] = int((now - mtime).total_seconds())
    base: dict[str, Any] = {
        "source": SOURCE,
        "origin": where,
        "profile": ref.profile,
        "location": Location(path=where),
        "file_mode": raw.mode,
    }
    claims, reason = decode_claims(raw.data)
    if claims is None:
        problem = Problem(code="CA702", message=f"{where}: {reason}")
        return Observation(**base, details=details, problems=(problem,))
    from credaudit.tokens.files import WEB_IDENTITY_CODES, token_file_problems

    problems: list[Problem] = list(
        token_file_problems(raw.data.decode("utf-8"), where, now, WEB_IDENTITY_CODES)
    )
    expires_at = _claim_instant(claims, "exp", where, problems)
    issued_at = _claim_instant(claims, "iat", where, problems)
    if "exp" not in claims:
        problems.append(Problem(code="CA702", message=f"{where}: JWT has no exp claim"))
    details["audience"] = _audience(claims.get("aud"))
    details["issuer"] = claims["iss"] if isinstance(claims.get("iss"), str) else None
    details["lifetime_seconds"] = (
        int((expires_at - issued_at).total_seconds()) if expires_at and issued_at else None
    )
    return Observation(
        **base,
        expires_at=expires_at,
        issued_at=issued_at,
        details=details,
        problems=tuple(problems),
    )


def decode_claims(data: bytes) -> tuple[dict[str, Any] | None, str]:
    """The JWT payload, unverified (we audit timing, not trust), or why it is not a JWT.

    Decoded by ``credaudit.tokens`` (the code behind ``credaudit token``)."""
    from credaudit.tokens.jwt_segments import decode

    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, "not a JWT (not UTF-8 text)"
    if token.count(".") != 2:
        return None, "not a JWT (expected three dot-separated parts)"
    decoded = decode(token)
    if isinstance(decoded, str):
        if "claims segment is JSON but not an object" in decoded:
            return None, "not a JWT (payload is not an object)"
        return None, "not a JWT (cannot decode header or payload)"
    return decoded.claims, ""


def _claim_instant(
    claims: dict[str, Any], name: str, where: str, problems: list[Problem]
) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(code="CA702", message=f"{where}: JWT {name} is not a number"))
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        problems.append(Problem(code="CA702", message=f"{where}: JWT {name} is out of range"))
        return None


def _audience(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(item for item in value if isinstance(item, str)) or None
    return None
