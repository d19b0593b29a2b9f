"""The only calls credaudit makes to AWS, and only with ``--online``.

Configuration cannot tell a role's real ``MaxSessionDuration`` (it lives in IAM) nor whose
credentials this process holds (the key id decodes offline, but only STS is authoritative).
boto3 is imported here, lazily, so no other path pays for it; the endpoint follows
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` of the given environment, which is how
tests point it at moto on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from credaudit.analysis.policy_rules import OnlineFacts

DEFAULT_REGION = "us-east-1"


class OnlineError(Exception):
    """An AWS call failed; the message names the call and AWS's error code, never a secret."""


def _client(service: str, env: Mapping[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    session = boto3.session.Session(region_name=region)
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
    return session.client(service, endpoint_url=endpoint or None, config=config)


def _describe(call: str, exc: Exception) -> OnlineError:
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return OnlineError(f"{call}: {code or type(exc).__name__}")


def role_max_session(role_arn: str, env: Mapping[str, str]) -> timedelta:
    """IAM GetRole's MaxSessionDuration for ``role_arn`` (role name = the ARN's last segment)."""
    name = role_arn.rsplit("/", 1)[-1]
    try:
        role = _client("iam", env).get_role(RoleName=name)["Role"]
    except Exception as exc:
        raise _describe(f"iam:GetRole {name}", exc) from None
    return timedelta(seconds=int(role.get("MaxSessionDuration", 3600)))


def caller_account(env: Mapping[str, str]) -> str:
    try:
        identity = _client("sts", env).get_caller_identity()
    except Exception as exc:
        raise _describe("sts:GetCallerIdentity", exc) from None
    return str(identity["Account"])


def gather(role_arns: Iterable[str], env: Mapping[str, str], *, want_caller: bool) -> OnlineFacts:
    """Ask AWS what configuration cannot say; a failed call becomes a note, not a crash."""
    max_session: dict[str, timedelta] = {}
    notes: list[str] = []
    for arn in sorted(set(role_arns)):
        try:
            max_session[arn] = role_max_session(arn, env)
        except OnlineError as exc:
            notes.append(f"--online: {exc}")
    account: str | None = None
    if want_caller:
        try:
            account = caller_account(env)
        except OnlineError as exc:
            notes.append(f"--online: {exc}")
    return OnlineFacts(max_session=max_session, caller_account=account, notes=tuple(notes))
