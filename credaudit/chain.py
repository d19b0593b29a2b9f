"""Which source botocore would really use, per profile, and which sources that hides.

This replays ``botocore.credentials.create_credential_resolver``: env, assume-role, web
identity, sso, shared-credentials-file, login, custom-process, config-file,
ec2-credentials-file, boto-config, container-role, iam-role — with the rule that an
explicitly chosen profile drops the env provider (and the web-identity env variables).  A
differential test holds it against ``botocore.session.Session().get_credentials().method``.

Where botocore would raise instead of returning credentials (a role profile with no source,
a missing source profile, partial keys), the entry carries ``error``: that is what the user
would see, and it is a finding, not a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from credaudit.model import ChainEntry, DetailValue, Observation, ResolvedSource, ShadowedSource
from credaudit.sources.awsconfig import ProfileChoice

PROFILE_METHODS = (
    "assume-role-with-web-identity",
    "sso",
    "shared-credentials-file",
    "login",
    "custom-process",
    "config-file",
)
CHAIN_ORDER = (
    "env",
    "assume-role",
    *PROFILE_METHODS,
    "ec2-credentials-file",
    "boto-config",
    "container-role",
    "iam-role",
)
CREDENTIAL_SOURCES = {
    "environment": "env",
    "ec2instancemetadata": "iam-role",
    "ecscontainer": "container-role",
}


class ChainError(Exception):
    """What botocore would raise for this configuration (message only, no secrets)."""


@dataclass
class _Index:
    """The observations, indexed the ways the chain looks them up."""

    by_profile: dict[tuple[str, str], Observation]
    global_: dict[str, Observation]
    evidence: list[Observation]
    known_profiles: set[str]

    @classmethod
    def build(cls, observations: Iterable[Observation], known_profiles: Iterable[str]) -> _Index:
        by_profile: dict[tuple[str, str], Observation] = {}
        global_: dict[str, Observation] = {}
        evidence: list[Observation] = []
        for obs in observations:
            if obs.source in CHAIN_ORDER:
                if obs.profile is not None and obs.source not in (
                    "ec2-credentials-file",
                    "boto-config",
                ):
                    by_profile.setdefault((obs.profile, obs.source), obs)
                else:
                    global_.setdefault(obs.source, obs)
            else:
                evidence.append(obs)
        return cls(by_profile, global_, evidence, set(known_profiles))

    def get(self, profile: str, method: str) -> Observation | None:
        return self.by_profile.get((profile, method))


def _has_creds(obs: Observation | None) -> bool:
    """Network sources report probes too; only served credentials make them a winner."""
    return obs is not None and obs.access_key_id is not None


def _static_ok(obs: Observation) -> Observation:
    if obs.details.get("partial"):
        raise ChainError(f"{obs.source}: partial credentials ({obs.details['partial']})")
    return obs


def _web_identity(idx: _Index, profile: str, explicit: bool) -> Observation | None:
    """AssumeRoleWithWebIdentityProvider: each env variable wins over its profile key."""
    env_obs = None if explicit else idx.global_.get("assume-role-with-web-identity")
    prof_obs = idx.get(profile, "assume-role-with-web-identity")
    assumerole = idx.get(profile, "assume-role")
    profile_values: Mapping[str, DetailValue] = prof_obs.details if prof_obs else {}

    def value(key: str) -> DetailValue:
        if env_obs is not None and key in env_obs.details:
            return env_obs.details[key]
        if key in profile_values:
            return profile_values[key]
        if key == "role_arn" and assumerole is not None:
            return assumerole.details.get("role_arn")
        return None

    token_file = value("web_identity_token_file")
    if not token_file:
        return None
    role_arn = value("role_arn")
    if not role_arn:
        raise ChainError(
            "web identity is configured but no role ARN is set (role_arn / AWS_ROLE_ARN)"
        )
    base = (
        env_obs
        if env_obs is not None and "web_identity_token_file" in env_obs.details
        else prof_obs
    )
    assert base is not None
    return replace(
        base,
        profile=profile,
        details={
            **base.details,
            "web_identity_token_file": str(token_file),
            "role_arn": str(role_arn),
            "role_session_name": value("role_session_name"),
        },
    )


class _Resolver:
    def __init__(self, idx: _Index) -> None:
        self.idx = idx

    def source_profile_creds(self, name: str, visited: list[str]) -> Observation:
        """AssumeRoleProvider._resolve_credentials_from_profile for a source profile."""
        static = any(
            self.idx.get(name, m) is not None for m in ("shared-credentials-file", "config-file")
        )
        role = self.idx.get(name, "assume-role")
        if static or role is None:
            for method in PROFILE_METHODS:
                found = self.profile_method(name, method, explicit=True)
                if found is not None:
                    return found
            raise ChainError(f'source profile "{name}" has no credentials')
        return self.assume_role(role, visited)

    def assume_role(self, obs: Observation, visited: list[str]) -> Observation:
        """AssumeRoleProvider._get_role_config + _resolve_source_credentials."""
        name = obs.profile or "default"
        source_profile = obs.details.get("source_profile")
        credential_source = obs.details.get("credential_source")
        if source_profile is not None and credential_source is not None:
            raise ChainError(f'profile "{name}" has both source_profile and credential_source')
        if source_profile is None and credential_source is None:
            raise ChainError(
                f'profile "{name}" has role_arn but no source_profile or credential_source'
            )
        if credential_source is not None:
            method = CREDENTIAL_SOURCES.get(str(credential_source).lower())
            if method is None:
                raise ChainError(
                    f'credential_source "{credential_source}" in profile "{name}" is not valid'
                )
            source = self.idx.global_.get(method)
            if method == "env":
                if source is None:
                    raise ChainError(
                        f'credential_source Environment in profile "{name}": no env credentials'
                    )
                _static_ok(source)
            elif not _has_creds(source):
                raise ChainError(
                    f'credential_source {credential_source} in profile "{name}" '
                    "yields no credentials"
                )
            return obs
        src = str(source_profile)
        if src not in self.idx.known_profiles:
            raise ChainError(f'source_profile "{src}" of profile "{name}" does not exist')
        if src in visited:
            source_obs = self.idx.get(src, "shared-credentials-file") or self.idx.get(
                src, "config-file"
            )
            if src != name or source_obs is None:
                raise ChainError(f"source_profile loop: {' -> '.join([*visited, src])}")
        self.source_profile_creds(src, [*visited, src])
        return obs

    def profile_method(self, profile: str, method: str, explicit: bool) -> Observation | None:
        if method == "assume-role-with-web-identity":
            return _web_identity(self.idx, profile, explicit)
        obs = self.idx.get(profile, method)
        if obs is None:
            return None
        if method == "sso" and obs.details.get("config_error"):
            raise ChainError(f'profile "{profile}": {obs.details["config_error"]}')
        if method in ("shared-credentials-file", "config-file"):
            return _static_ok(obs)
        return obs

    def candidates(self, profile: str, explicit: bool) -> Iterator[tuple[str, Observation | None]]:
        """Every provider in order with what it would return (None: falls through).

        A generator, because botocore stops at the first provider that returns or raises:
        a broken provider after the winner must not undo the winner.
        """
        for method in CHAIN_ORDER:
            if method == "env":
                if explicit:
                    continue
                env = self.idx.global_.get("env")
                yield (method, _static_ok(env) if env is not None else None)
            elif method == "assume-role":
                role = self.idx.get(profile, method)
                yield (method, self.assume_role(role, [profile]) if role else None)
            elif method in PROFILE_METHODS:
                yield (method, self.profile_method(profile, method, explicit))
            elif method in ("ec2-credentials-file", "boto-config"):
                yield (method, self.idx.global_.get(method))
            elif method == "container-role":
                # container.py reports only when AWS_CONTAINER_CREDENTIALS_* is set, and then
                # botocore commits to this provider: a failed fetch raises, it never falls
                # through. Not probed (--no-network) means "wins, outcome unknown".
                container = self.idx.global_.get(method)
                if container is not None and not _has_creds(container):
                    unprobed = container.details.get("probe") == "skipped" and not (
                        container.details.get("failure")
                    )
                    if not unprobed:
                        reason = container.details.get("probe_detail") or container.details.get(
                            "failure"
                        )
                        raise ChainError(f"container credentials endpoint failed: {reason}")
                yield (method, container)
            else:
                imds = self.idx.global_.get(method)
                yield (method, imds if _has_creds(imds) else None)


def _attach_evidence(winner: Observation, idx: _Index) -> Observation:
    """Give a deferred provider the expiry and key of the session it would reuse."""
    keys: list[tuple[str, object]] = []
    if winner.source == "assume-role":
        keys.append(("cli-cache", winner.details.get("cache_key")))
    elif winner.source == "sso":
        keys.append(("cli-cache", winner.details.get("role_cache_key")))
    elif winner.source == "login":
        keys.append(("login-token", winner.details.get("cache_key")))
    for source, key in keys:
        if not key:
            continue
        for ev in idx.evidence:
            if ev.source == source and ev.details.get("cache_key") == key and ev.access_key_id:
                return replace(
                    winner,
                    access_key_id=ev.access_key_id,
                    access_key_masked=ev.access_key_masked,
                    account_id=ev.account_id or winner.account_id,
                    key_kind=ev.key_kind,
                    session_token_fingerprint=ev.session_token_fingerprint,
                    expires_at=ev.expires_at,
                    issued_at=ev.issued_at,
                    details={**winner.details, "evidence": ev.origin},
                )
    if winner.source == "custom-process":
        for ev in idx.evidence:
            if ev.source == "process-output" and ev.profile == winner.profile and ev.access_key_id:
                return replace(
                    winner,
                    access_key_id=ev.access_key_id,
                    access_key_masked=ev.access_key_masked,
                    account_id=ev.account_id,
                    key_kind=ev.key_kind,
                    expires_at=ev.expires_at,
                    refreshable=ev.refreshable,
                    details={**winner.details, "evidence": ev.origin},
                )
    return winner


def resolve(
    observations: Iterable[Observation],
    profiles: Iterable[ProfileChoice],
    known_profiles: Iterable[str],
) -> tuple[list[ChainEntry], dict[str, Observation]]:
    """Resolve each chosen profile; return the chain entries and the winners by profile."""
    idx = _Index.build(observations, known_profiles)
    resolver = _Resolver(idx)
    entries: list[ChainEntry] = []
    winners: dict[str, Observation] = {}
    for choice in profiles:
        entry, winner = _resolve_one(resolver, idx, choice)
        entries.append(entry)
        if winner is not None:
            winners[choice.name] = winner
    return entries, winners


def _resolve_one(
    resolver: _Resolver, idx: _Index, choice: ProfileChoice
) -> tuple[ChainEntry, Observation | None]:
    profile, explicit = choice.name, choice.explicit
    if choice.named and profile not in idx.known_profiles:
        return (
            ChainEntry(
                profile=profile,
                explicit_profile=explicit,
                resolved=None,
                error=(
                    f'profile "{profile}" is not in the config or credentials file '
                    "(ProfileNotFound)"
                ),
            ),
            None,
        )
    winner: Observation | None = None
    shadowed: list[ShadowedSource] = []
    error: str | None = None
    try:
        for method, found in resolver.candidates(profile, explicit):
            if found is None:
                continue
            if winner is None:
                winner = found
            else:
                shadowed.append(
                    ShadowedSource(
                        source=method, origin=found.origin, reason=f"{winner.source} comes first"
                    )
                )
    except ChainError as exc:
        if winner is None:
            error = str(exc)
    if winner is not None:
        winner = _attach_evidence(winner, idx)
    resolved = (
        ResolvedSource(
            source=winner.source,
            origin=winner.origin,
            refreshable=winner.refreshable,
            expires_at=winner.expires_at,
        )
        if winner is not None
        else None
    )
    return (
        ChainEntry(
            profile=profile,
            explicit_profile=explicit,
            resolved=resolved,
            shadowed=shadowed,
            error=error,
        ),
        winner,
    )
