"""The EC2 instance metadata service (botocore's ``iam-role`` provider), probed read-only.

It follows botocore's ``InstanceMetadataFetcher`` (utils.py): an IMDSv2 token ``PUT``, the
role list, the role's credentials, and the fall-back to IMDSv1 when the token request is
refused or times out (unless v1 is disabled).  Unlike botocore it does not just give up: a
plain GET of the role list runs alongside the token request, so when the token times out
while that GET is answered 401 the probe can say *hop limit* (CA502) instead of
*unreachable*, within the same deadline.  The credentials are read twice to notice a
rotation in progress.

Settings are resolved as ``create_credential_resolver`` does: environment first, then the
selected profile of the config file.  The IMDS token and the secret parts of the credentials
never leave this module; the observation keeps the access key id and a token fingerprint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credaudit.durations import DurationError, parse_instant
from credaudit.keys import account_from_key, fingerprint, key_kind, mask_key
from credaudit.model import Location, Observation, Problem, format_instant
from credaudit.sources.http_probe import (
    JOIN_GRACE,
    Deadline,
    ProbeError,
    Response,
    attempt,
    network_observations,
    public_url,
    start,
)
from credaudit.target import Target

SOURCE = "iam-role"
BASE_URL = "http://169.254.169.254/"
BASE_URL_IPV6 = "http://[fd00:ec2::254]/"
# Paths and header names, not secrets (ruff S105 cannot tell).
TOKEN_PATH = "latest/api/token"  # noqa: S105
CREDENTIALS_PATH = "latest/meta-data/iam/security-credentials/"
TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"  # noqa: S105
TOKEN_HEADER = "x-aws-ec2-metadata-token"  # noqa: S105
TOKEN_TTL = "21600"  # noqa: S105
REQUIRED_FIELDS = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")
# The share of the deadline after which an endpoint that has answered neither the token PUT
# nor the plain GET is declared unreachable (a live IMDS answers in milliseconds).
TOKEN_SHARE = 0.5
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,128}")


@dataclass(frozen=True)
class ImdsSettings:
    """What botocore would use to reach IMDS for the selected profile."""

    endpoint: str
    disabled: bool
    v1_disabled: bool
    timeout: float
    attempts: int
    error: str | None = None


def _ensure_boolean(value: Any) -> bool:
    """botocore utils.ensure_boolean."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.lower() == "true"


def _profile_config(target: Target) -> Mapping[str, Any]:
    from credaudit.sources.awsconfig import load, selected_profile

    return load(target).config_profiles.get(selected_profile(target).name, {})


def settings(target: Target) -> ImdsSettings:
    """Resolve the IMDS settings as botocore's configprovider does (env, then config)."""
    config = _profile_config(target)

    def var(name: str, env: str) -> Any:
        return target.env[env] if env in target.env else config.get(name)

    error: str | None = None
    mode = var("ec2_metadata_service_endpoint_mode", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
    if mode is not None and str(mode).lower() not in ("ipv4", "ipv6"):
        error = f"ec2_metadata_service_endpoint_mode {str(mode)[:40]!r} is not ipv4 or ipv6"
    ipv6 = (
        str(mode).lower() == "ipv6"
        if mode is not None
        else _ensure_boolean(var("imds_use_ipv6", "AWS_IMDS_USE_IPV6"))
    )
    custom = var("ec2_metadata_service_endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT")
    endpoint = custom or (BASE_URL_IPV6 if ipv6 else BASE_URL)
    if custom and error is None:
        from botocore.utils import is_valid_uri

        if not is_valid_uri(custom):
            error = f"ec2_metadata_service_endpoint {public_url(custom)!r} is not a valid URL"

    def number(name: str, env: str, default: int) -> int:
        raw = var(name, env)
        try:
            return max(1, int(raw)) if raw is not None else default
        except (TypeError, ValueError):
            return default

    return ImdsSettings(
        endpoint=str(endpoint),
        disabled=target.env.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true",
        v1_disabled=_ensure_boolean(
            var("ec2_metadata_v1_disabled", "AWS_EC2_METADATA_V1_DISABLED")
        ),
        timeout=float(number("metadata_service_timeout", "AWS_METADATA_SERVICE_TIMEOUT", 1)),
        attempts=number("metadata_service_num_attempts", "AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1),
        error=error,
    )


def _skipped(reason: str, origin: str = "imds") -> Observation:
    return Observation(
        source=SOURCE, origin=origin, details={"probe": "skipped", "probe_detail": reason}
    )


class _Failure(Exception):
    def __init__(self, failure: str, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail


def _from_error(error: ProbeError, what: str) -> _Failure:
    if error.kind in ("too-large", "bad-response"):
        return _Failure("bad-document", f"{what}: {error.detail}")
    return _Failure("unreachable", f"{what}: {error.detail}")


@dataclass(frozen=True)
class _Credentials:
    access_key_id: str
    token_fingerprint: str | None
    expires_at: datetime
    issued_at: datetime | None
    code: str | None
    type: str | None


class _Prober:
    def __init__(self, cfg: ImdsSettings, deadline: Deadline) -> None:
        self.cfg = cfg
        self.deadline = deadline
        self.base = cfg.endpoint if cfg.endpoint.endswith("/") else cfg.endpoint + "/"
        self.details: dict[str, str | int | float | bool | None] = {}

    def _send(self, method: str, path: str, headers: Mapping[str, str]) -> Response | ProbeError:
        # botocore's per-request timeout (AWS_METADATA_SERVICE_TIMEOUT) is an upper bound
        # inside the overall deadline, never an extension of it.
        return attempt(method, self.base + path, self.deadline.within(self.cfg.timeout), headers)

    def _get(self, path: str, token: str | None, check: str) -> Response:
        """GET with botocore's retry rule: non-200, empty (or, for credentials, non-JSON)
        answers are retried up to AWS_METADATA_SERVICE_NUM_ATTEMPTS while time remains."""
        headers = {TOKEN_HEADER: token} if token else {}
        last: Response | ProbeError | None = None
        for _ in range(self.cfg.attempts):
            if self.deadline.expired() and last is not None:
                break
            last = self._send("GET", path, headers)
            if (
                isinstance(last, Response)
                and last.status == 200
                and last.body.strip()
                and (check != "json" or _is_json(last.body))
            ):
                return last
        assert last is not None
        if isinstance(last, ProbeError):
            raise _from_error(last, f"GET {path}")
        return last

    def _token(self) -> tuple[str | None, ProbeError | Response | None]:
        """The IMDSv2 token, or None and why (botocore _fetch_metadata_token)."""
        headers = {TOKEN_TTL_HEADER: TOKEN_TTL}
        outcome: Response | ProbeError | None = None
        for _ in range(self.cfg.attempts):
            outcome = attempt(
                "PUT", self.base + TOKEN_PATH, self.deadline.within(self.cfg.timeout), headers
            )
            if isinstance(outcome, Response):
                if outcome.status == 200:
                    return outcome.text, outcome
                if outcome.status in (403, 404, 405):
                    return None, outcome
                if outcome.status == 400:
                    raise _Failure("http-400", "the token PUT was answered 400 Bad Request")
            elif outcome.kind == "timeout":  # botocore: ReadTimeoutError → fall back to v1
                return None, outcome
            if self.deadline.expired():
                break
        return None, outcome

    def run(self) -> Observation:
        origin = public_url(self.base)
        try:
            return self._run()
        except _Failure as failure:
            return Observation(
                source=SOURCE,
                origin=origin,
                location=Location(url=origin),
                details={
                    "probe": "failed",
                    "probe_detail": failure.detail,
                    "failure": failure.failure,
                    "endpoint": origin,
                    **self.details,
                },
            )

    def _run(self) -> Observation:
        # A plain (v1) GET runs alongside the token PUT: it is botocore's fall-back path and,
        # when the PUT's answer is lost, the evidence for a hop-limit diagnosis.
        plain = start(lambda: self._send("GET", CREDENTIALS_PATH, {}))
        put = start(self._token)
        token, why = self._first_phase(put, plain)
        role_answer: Response | None = None
        if token is not None:
            self.details["imds_version"] = "v2"
        else:
            v1 = _result(plain, self.deadline)
            if isinstance(why, ProbeError) and why.kind == "timeout":
                self.details["token_timeout"] = True
                if isinstance(v1, Response) and v1.status == 401:
                    raise _Failure(
                        "hop-limit",
                        "the IMDSv2 token PUT got no answer while a plain GET was answered "
                        "401: the token's response does not reach this host (hop limit)",
                    )
            if isinstance(v1, ProbeError):
                raise _from_error(v1, "IMDS")
            if isinstance(why, ProbeError) and why.kind != "timeout":
                raise _from_error(why, "PUT token")
            if self.cfg.v1_disabled:
                raise _Failure(
                    "v1-disabled",
                    "no IMDSv2 token and IMDSv1 is disabled (ec2_metadata_v1_disabled): "
                    "botocore raises MetadataRetrievalError",
                )
            self.details["imds_version"] = "v1"
            if v1.status == 200 and v1.body.strip():
                role_answer = v1
        if role_answer is None:
            role_answer = self._get(CREDENTIALS_PATH, token, "text")
        role = self._role_name(role_answer)
        first = self._credentials(role, token)
        second = None
        if not self.deadline.expired():
            try:
                second = self._credentials(role, token)
            except _Failure:
                second = None
        return self._observation(role, first, second)

    def _first_phase(
        self, put: Future[tuple[str | None, ProbeError | Response | None]], plain: Future[Any]
    ) -> tuple[str | None, ProbeError | Response | None]:
        """Wait for the token, giving up early only on an endpoint that says nothing at all.

        A live IMDS answers in milliseconds.  If after TOKEN_SHARE of the deadline neither the
        PUT nor the plain GET has answered, nothing will: report unreachable now rather than
        burn the rest of the deadline (botocore burns two full timeouts here).  If the GET
        was served (v1 works), fall back to it now.  If it was refused (401), the PUT gets
        the whole deadline, so a slow token is never mistaken for a lost one (hop limit).
        """
        early = self.deadline.within(self.deadline.remaining() * TOKEN_SHARE)
        try:
            return put.result(timeout=early.remaining())
        except FutureTimeout:
            pass
        if not plain.done():
            raise _Failure(
                "unreachable",
                "neither the IMDSv2 token PUT nor a plain GET got an answer within "
                f"{TOKEN_SHARE:.0%} of the probe deadline",
            )
        lost = ProbeError("timeout", "the token PUT got no answer in time")
        answer = _result(plain, self.deadline)
        if isinstance(answer, Response) and answer.status == 200:
            return None, lost  # v1 serves: fall back now, as botocore does after its timeout
        try:
            return put.result(timeout=self.deadline.remaining() + JOIN_GRACE)
        except FutureTimeout:
            return None, lost

    def _role_name(self, answer: Response) -> str:
        if answer.status == 404 or (answer.status == 200 and not answer.body.strip()):
            raise _Failure("no-role", "IMDS lists no instance role (no instance profile)")
        if answer.status != 200:
            raise _Failure(f"http-{answer.status}", f"role list answered HTTP {answer.status}")
        role = answer.text.strip().splitlines()[0].strip()
        if not _ROLE_NAME.fullmatch(role):
            raise _Failure("bad-document", "the role list is not an IAM role name")
        return role

    def _credentials(self, role: str, token: str | None) -> _Credentials:
        answer = self._get(CREDENTIALS_PATH + role, token, "json")
        if answer.status != 200:
            raise _Failure(f"http-{answer.status}", f"credentials answered HTTP {answer.status}")
        try:
            document = json.loads(answer.body)
        except ValueError:
            raise _Failure("bad-document", "the credentials document is not JSON") from None
        if not isinstance(document, dict):
            raise _Failure("bad-document", "the credentials document is not a JSON object")
        code = document.get("Code")
        missing = [f for f in REQUIRED_FIELDS if not isinstance(document.get(f), str)]
        if missing:
            said = f" (Code {str(code)[:60]!r})" if code else ""
            raise _Failure(
                "bad-document", f"the credentials document lacks {', '.join(missing)}{said}"
            )
        try:
            expires_at = parse_instant(document["Expiration"])
        except DurationError:
            raise _Failure("bad-document", "Expiration is not a timestamp") from None
        issued_at = None
        if isinstance(document.get("LastUpdated"), str):
            try:
                issued_at = parse_instant(document["LastUpdated"])
            except DurationError:
                issued_at = None
        return _Credentials(
            access_key_id=document["AccessKeyId"],
            token_fingerprint=fingerprint(document["Token"]),
            expires_at=expires_at,
            issued_at=issued_at,
            code=str(code) if code is not None else None,
            type=str(document["Type"]) if document.get("Type") is not None else None,
        )

    def _observation(
        self, role: str, first: _Credentials, second: _Credentials | None
    ) -> Observation:
        latest = second or first
        details: dict[str, str | int | float | bool | None] = {
            "probe": "ran",
            "role_name": role,
            "code": latest.code,
            "type": latest.type,
            "endpoint": public_url(self.base),
            **self.details,
        }
        if second is not None and (
            second.access_key_id != first.access_key_id
            or second.token_fingerprint != first.token_fingerprint
        ):
            details["rotated"] = True
            details["previous_access_key"] = mask_key(first.access_key_id)
            details["previous_expires_at"] = format_instant(first.expires_at)
        origin = public_url(self.base + CREDENTIALS_PATH + role)
        return Observation(
            source=SOURCE,
            origin=origin,
            access_key_id=latest.access_key_id,
            access_key_masked=mask_key(latest.access_key_id),
            account_id=account_from_key(latest.access_key_id),
            key_kind=key_kind(latest.access_key_id),
            session_token_fingerprint=latest.token_fingerprint,
            has_secret=True,
            expires_at=latest.expires_at,
            issued_at=latest.issued_at,
            refreshable=True,
            location=Location(url=origin),
            details=details,
        )


def _result(future: Future[Any], deadline: Deadline) -> Response | ProbeError:
    try:
        outcome: Response | ProbeError = future.result(timeout=deadline.remaining() + JOIN_GRACE)
    except FutureTimeout:
        return ProbeError("timeout", "no answer before the deadline")
    return outcome


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def probe(target: Target, deadline: Deadline) -> list[Observation]:
    """Run the IMDS probe under ``deadline`` (called by http_probe, concurrently)."""
    cfg = settings(target)
    if cfg.error:
        return [
            Observation(
                source=SOURCE,
                origin="imds",
                details={"probe": "skipped", "probe_detail": cfg.error, "failure": "bad-config"},
                problems=(
                    Problem(
                        code="CA702",
                        message=f"IMDS settings: {cfg.error}; botocore refuses to build its "
                        "credential chain",
                    ),
                ),
            )
        ]
    if not target.network:
        return [_skipped("--no-network")]
    if cfg.disabled:
        return [_skipped("AWS_EC2_METADATA_DISABLED=true")]
    return [_Prober(cfg, deadline).run()]


def collect(target: Target) -> list[Observation]:
    return network_observations(target, "imds")
