"""Container credential endpoints (botocore's ``container-role`` provider): ECS task roles
and EKS Pod Identity.

Mirrors ``ContainerProvider`` and ``ContainerMetadataFetcher`` (credentials.py, utils.py):
``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` wins and goes to 169.254.170.2; otherwise
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` must pass botocore's host check; the authorization
header comes from ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (re-read each fetch, wins) or
``AWS_CONTAINER_AUTHORIZATION_TOKEN``.  The URI check and the token file are judged even
with ``--no-network``: they fail botocore before any request is made.

The authorization token is sent to the endpoint and forgotten: it is never stored,
logged or put in a message.
"""

from __future__ import annotations

import json
from dataclasses import replace
from ipaddress import ip_address
from urllib.parse import urlsplit

from credaudit.durations import DurationError, parse_instant
from credaudit.keys import account_from_key, fingerprint, key_kind, mask_key
from credaudit.model import Location, Observation, Problem
from credaudit.sources.http_probe import (
    MAX_BODY,
    Deadline,
    ProbeError,
    network_observations,
    public_url,
    request,
)
from credaudit.target import Target

SOURCE = "container-role"
RELATIVE_URI = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
AUTH_TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"  # noqa: S105 (a variable name)
AUTH_TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"  # noqa: S105
ECS_HOST = "169.254.170.2"
# botocore ContainerMetadataFetcher._ALLOWED_HOSTS
ALLOWED_HOSTS = (ECS_HOST, "169.254.170.23", "fd00:ec2::23", "localhost")
_EKS_HOSTS = ("169.254.170.23", "fd00:ec2::23")
REQUIRED_FIELDS = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")


def uri_allowed(full_uri: str) -> bool:
    """botocore ContainerMetadataFetcher._validate_allowed_url, without raising."""
    try:
        parsed = urlsplit(full_uri)
        hostname = parsed.hostname
    except ValueError:
        return False
    if parsed.scheme == "https":
        return True
    try:
        if hostname is not None and ip_address(hostname).is_loopback:
            return True
    except ValueError:
        pass
    return hostname in ALLOWED_HOSTS


def _kind(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return "custom"
    if host == ECS_HOST:
        return "ecs"
    if host in _EKS_HOSTS:
        return "eks-pod-identity"
    return "custom"


class _Failure(Exception):
    def __init__(self, failure: str, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail


def _auth_header(target: Target) -> tuple[dict[str, str], str]:
    """The Authorization header botocore would send, and where it came from."""
    token: str | None = None
    origin = "none"
    if AUTH_TOKEN_FILE in target.env:
        in_target = target.env[AUTH_TOKEN_FILE]
        path = target.path(in_target)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_BODY + 1)
        except FileNotFoundError:
            raise _Failure("token-file", f"{AUTH_TOKEN_FILE} {in_target}: no such file") from None
        except PermissionError:
            raise _Failure(
                "token-file", f"{AUTH_TOKEN_FILE} {in_target}: permission denied"
            ) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _Failure("token-file", f"{AUTH_TOKEN_FILE} {in_target}: {reason}") from None
        if len(raw) > MAX_BODY:
            raise _Failure("token-file", f"{AUTH_TOKEN_FILE} {in_target}: larger than 64 KiB")
        token = raw.decode("utf-8", errors="replace")
        origin = "token-file"
    elif AUTH_TOKEN in target.env:
        token = target.env[AUTH_TOKEN]
        origin = "token"
    if token is None:
        return {}, origin
    # botocore ContainerProvider._validate_auth_token: a line break fails the whole chain
    # (a token file saved with a trailing newline is the usual cause).
    if "\r" in token or "\n" in token:
        where = (
            f"{AUTH_TOKEN_FILE} {target.env[AUTH_TOKEN_FILE]}"
            if origin == "token-file"
            else AUTH_TOKEN
        )
        raise _Failure(
            "bad-token" if origin == "token" else "token-file",
            f"{where}: the token holds a line break; botocore refuses it as a header value",
        )
    return {"Authorization": token}, origin


def _endpoint(target: Target) -> tuple[str, str] | None:
    if RELATIVE_URI in target.env:
        return f"http://{ECS_HOST}{target.env[RELATIVE_URI]}", "relative"
    if FULL_URI in target.env:
        return target.env[FULL_URI], "full"
    return None


def _observation(
    url: str, via: str, status: str, extra: dict[str, str | int | float | bool | None]
) -> Observation:
    shown = public_url(url)
    return Observation(
        source=SOURCE,
        origin=shown,
        location=Location(url=shown, env_var=RELATIVE_URI if via == "relative" else FULL_URI),
        details={"probe": status, "endpoint": shown, "via": via, "kind": _kind(url), **extra},
    )


def _fetch(url: str, headers: dict[str, str], deadline: Deadline) -> dict[str, str]:
    try:
        answer = request("GET", url, deadline, {"Accept": "application/json", **headers})
    except ProbeError as exc:
        failure = "bad-document" if exc.kind in ("too-large", "bad-response") else "unreachable"
        raise _Failure(failure, exc.detail) from None
    if answer.status != 200:
        raise _Failure(f"http-{answer.status}", f"the endpoint answered HTTP {answer.status}")
    try:
        document = json.loads(answer.body)
    except ValueError:
        raise _Failure("bad-document", "the endpoint's answer is not JSON") from None
    if not isinstance(document, dict):
        raise _Failure("bad-document", "the endpoint's answer is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if not isinstance(document.get(f), str)]
    if missing:
        raise _Failure("bad-document", f"the credentials document lacks {', '.join(missing)}")
    return {k: v for k, v in document.items() if isinstance(v, str)}


def probe(target: Target, deadline: Deadline) -> list[Observation]:
    """Judge the container endpoint's configuration, then (network allowed) fetch once."""
    found = _endpoint(target)
    if found is None:
        return []
    url, via = found
    if via == "full" and not uri_allowed(url):
        return [
            _observation(
                url,
                via,
                "skipped",
                {
                    "failure": "uri-rejected",
                    "probe_detail": f"{FULL_URI} host is not https, loopback or an ECS/EKS "
                    "agent address: botocore raises ValueError",
                },
            )
        ]
    try:
        headers, auth = _auth_header(target)
    except _Failure as failure:
        return [
            _observation(
                url, via, "failed", {"failure": failure.failure, "probe_detail": failure.detail}
            )
        ]
    problems = _token_problems(target, headers, auth)
    if not target.network:
        skipped = _observation(url, via, "skipped", {"probe_detail": "--no-network", "auth": auth})
        return [replace(skipped, problems=problems)]
    try:
        document = _fetch(url, headers, deadline)
        expires_at = parse_instant(document["Expiration"])
    except _Failure as failure:
        failed = _observation(
            url,
            via,
            "failed",
            {"failure": failure.failure, "probe_detail": failure.detail, "auth": auth},
        )
        return [replace(failed, problems=problems)]
    except DurationError:
        bad = _observation(
            url,
            via,
            "failed",
            {
                "failure": "bad-document",
                "probe_detail": "Expiration is not a timestamp",
                "auth": auth,
            },
        )
        return [replace(bad, problems=problems)]
    key = document["AccessKeyId"]
    base = _observation(url, via, "ran", {"auth": auth})
    return [
        replace(
            base,
            access_key_id=key,
            access_key_masked=mask_key(key),
            account_id=account_from_key(key),
            key_kind=key_kind(key),
            session_token_fingerprint=fingerprint(document["Token"]),
            has_secret=True,
            expires_at=expires_at,
            refreshable=True,
            problems=problems,
        )
    ]


def _token_problems(target: Target, headers: dict[str, str], auth: str) -> tuple[Problem, ...]:
    """What ``credaudit token`` says about the authorization token file's JWT (EKS Pod
    Identity's projected token): expired, not yet valid, malformed, unsigned."""
    token = headers.get("Authorization")
    if auth != "token-file" or not token:
        return ()
    from credaudit.tokens.files import CONTAINER_TOKEN_CODES, token_file_problems

    where = f"{AUTH_TOKEN_FILE} {target.env[AUTH_TOKEN_FILE]}"
    return token_file_problems(token, where, target.clock.now(), CONTAINER_TOKEN_CODES)


def collect(target: Target) -> list[Observation]:
    return network_observations(target, "container")
