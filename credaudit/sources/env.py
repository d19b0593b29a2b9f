"""Credentials and credential settings in the process environment.

botocore's ``EnvProvider`` reads ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` and the token
from ``AWS_SECURITY_TOKEN`` then ``AWS_SESSION_TOKEN``.  With ``AWS_CREDENTIAL_EXPIRATION`` it
builds RefreshableCredentials whose refresh re-reads the same variables, so past that instant
they fail with "refreshed credentials are still expired": for the audit they are static.
Other tools leave their own expiry markers (aws-vault/granted ``AWS_SESSION_EXPIRATION``,
awsume ``AWSUME_EXPIRATION``); botocore ignores them, we use them to know the expiry.
"""

from __future__ import annotations

from datetime import datetime

from credaudit.durations import DurationError, parse_instant
from credaudit.keys import account_from_key, fingerprint, key_kind, mask_key
from credaudit.model import Location, Observation, Problem
from credaudit.target import Target

ACCESS_KEY = "AWS_ACCESS_KEY_ID"
SECRET_KEY = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 (a variable name, not a secret)
TOKEN_VARS = ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
BOTOCORE_EXPIRY = "AWS_CREDENTIAL_EXPIRATION"
EXPIRY_MARKERS = (BOTOCORE_EXPIRY, "AWS_SESSION_EXPIRATION", "AWSUME_EXPIRATION")
WEB_IDENTITY_VARS = {
    "web_identity_token_file": "AWS_WEB_IDENTITY_TOKEN_FILE",
    "role_arn": "AWS_ROLE_ARN",
    "role_session_name": "AWS_ROLE_SESSION_NAME",
}


def _expiry(target: Target) -> tuple[datetime | None, str | None, list[Problem]]:
    for var in EXPIRY_MARKERS:
        value = target.env.get(var, "")
        if not value:
            continue
        try:
            return parse_instant(value), var, []
        except DurationError:
            return None, var, [Problem(code="CA702", message=f"{var} is not a timestamp")]
    return None, None, []


def _env_credentials(target: Target) -> Observation | None:
    access_key = target.env.get(ACCESS_KEY, "")
    if not access_key:
        return None
    token = next((target.env[v] for v in TOKEN_VARS if target.env.get(v)), None)
    token_var = next((v for v in TOKEN_VARS if target.env.get(v)), None)
    expires_at, expiry_var, problems = _expiry(target)
    secret_present = bool(target.env.get(SECRET_KEY, ""))
    return Observation(
        source="env",
        origin=f"env:{ACCESS_KEY}",
        access_key_id=access_key,
        access_key_masked=mask_key(access_key),
        account_id=target.env.get("AWS_ACCOUNT_ID") or account_from_key(access_key),
        key_kind=key_kind(access_key),
        session_token_fingerprint=fingerprint(token),
        has_secret=secret_present,
        expires_at=expires_at,
        refreshable=False,
        location=Location(env_var=ACCESS_KEY),
        details={
            "token_var": token_var,
            "expiry_var": expiry_var,
            "botocore_refreshable": bool(target.env.get(BOTOCORE_EXPIRY)),
            "partial": None if secret_present else f"{SECRET_KEY} is not set",
        },
        problems=tuple(problems),
    )


def _web_identity(target: Target) -> Observation | None:
    """The web-identity settings from the environment (they win over the profile's keys)."""
    present = {key: target.env[var] for key, var in WEB_IDENTITY_VARS.items() if var in target.env}
    if not present:
        return None
    return Observation(
        source="assume-role-with-web-identity",
        origin="env:AWS_WEB_IDENTITY_TOKEN_FILE",
        refreshable=True,
        location=Location(env_var="AWS_WEB_IDENTITY_TOKEN_FILE"),
        details={"from_env": True, **present},
    )


def collect(target: Target) -> list[Observation]:
    return [obs for obs in (_env_credentials(target), _web_identity(target)) if obs is not None]
