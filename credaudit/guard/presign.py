"""S3 presigns bounded by the session that signs them.

botocore's ``before-sign`` event sees the request but not ``expires_in``, so shortening a
URL needs the call itself: the guard puts its own ``generate_presigned_url`` and
``generate_presigned_post`` on each guarded S3 client (instance attributes over botocore's
public methods, with botocore's signatures).  ``ExpiresIn`` drives both ``X-Amz-Expires``
(SigV4) and ``Expires`` (SigV2, botocore's default for S3 presigns), so one bound covers
both.  Only S3 clients get these: an STS or RDS token presign is meant to carry a fixed
lifetime and is never shortened (aws/aws-sdk-ruby#2887).

After signing, the URL's access key id must be the one whose expiry bounded it: a refresh
by another thread (or botocore's own) between the guard's read and botocore's signing makes
the guard sign again with the new session, so no URL outlives the session in it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from credaudit.guard.errors import PresignOutlivesSession
from credaudit.guard.lifeline import Lifeline, Policy, View, _instant
from credaudit.keys import mask_key

logger = logging.getLogger("credaudit.guard")

# What the guard did with a presign (the ``action`` label of credaudit_guard_presigns_total).
ACTIONS = (
    "fits",  # the URL ends before its session: untouched
    "refreshed",  # it fits after the guard renewed the session
    "clamped",  # shortened to the session's remaining life
    "refused",  # PresignOutlivesSession raised
    "warned",  # presign="warn": logged, untouched
    "unknown_expiry",  # temporary credentials without an expiry: reported, untouched
    "no_session",  # long-term keys: the URL lives its full TTL
    "unverified",  # signed with credentials the guard does not hold (S3 Express, per-request)
)
_SIGN_TRIES = 3
R = TypeVar("R")


class ClientGuard:
    """The guard on one client: its policy (replaceable by a second ``guard()``) and the
    lifeline of the credentials it signs with."""

    def __init__(self, policy: Policy, lifeline: Lifeline | None, service: str) -> None:
        self.policy = policy
        self.lifeline = lifeline
        self.s3 = service == "s3"

    def before_sign(self, request: Any = None, **_: Any) -> None:
        """Every signing (calls, retries, other services' presigns): renew by remaining
        lifetime, or fail fast, before botocore freezes the credentials."""
        if self.lifeline is None:
            return
        if self.s3 and request is not None and request.context.get("is_presign_request"):
            return  # bounded() checked it a moment ago
        self.lifeline.check(self.policy)

    def bounded(
        self,
        expires_in: Any,
        sign: Callable[[Any], R],
        signed_with: Callable[[R, str], bool],
        what: str,
    ) -> R:
        lifeline = self.lifeline
        requested = _seconds(expires_in)
        if lifeline is None or requested is None:
            return sign(expires_in)  # botocore says what is wrong with a bad value
        policy = self.policy
        result: R
        for _ in range(_SIGN_TRIES):
            view = lifeline.check(policy)
            verdict = self.judge(lifeline, policy, view, requested, what)
            if verdict is None:  # presign="refresh": renew first
                renewed = lifeline.renew(policy, view, forced=True)
                lifeline.presign_renewed(renewed)
                verdict = self.judge(lifeline, policy, renewed, requested, what, view)
                view = renewed
            assert verdict is not None  # with ``before`` given, judge() always decides
            granted, action = verdict
            result = sign(granted)
            if self.verified(view, result, signed_with, action):
                return result
        return self.unverified(result, what)

    def verified(
        self, view: View, result: R, signed_with: Callable[[R, str], bool], action: str
    ) -> bool:
        if view.key is not None and not signed_with(result, view.key):
            return False  # signed with a session renewed meanwhile: sign again
        if self.policy.metrics is not None:
            self.policy.metrics.presign(action)
        return True

    def unverified(self, result: R, what: str) -> R:
        logger.warning(
            "%s was signed with credentials other than the client's (S3 Express or "
            "per-request credentials): the guard cannot bound it",
            what,
        )
        if self.policy.metrics is not None:
            self.policy.metrics.presign("unverified")
        return result

    def judge(  # noqa: PLR0917 - shared by the sync and async drivers
        self,
        lifeline: Lifeline,
        policy: Policy,
        view: View,
        requested: int,
        what: str,
        before: View | None = None,
    ) -> tuple[int, str] | None:
        """(ExpiresIn to sign with, action), or None: renew first (``presign="refresh"``,
        when that can help; ``before`` is the session it replaced, once done)."""
        if view.expires_ts is None:
            if not view.temporary:
                return requested, "no_session"
            lifeline.report_unknown(view.key)
            return requested, "unknown_expiry"
        room = int(view.expires_ts - policy.now() - policy.skew)
        if requested <= room:
            renewed = before is not None and before.key != view.key
            return requested, "refreshed" if renewed else "fits"
        mode = policy.presign
        if mode == "refresh" and before is None and lifeline.wants_presign_refresh(policy, view):
            return None
        numbers = (
            f"{what} asked for {requested} s; session {mask_key(view.key)} "
            f"({lifeline.source}) expires at {_instant(view.expires_at)}, "
            f"{room + int(policy.skew)} s from now (skew {int(policy.skew)} s)"
        )
        if mode == "warn":
            logger.warning(
                "Presigned request will expire before the given expires_in duration because "
                "the credentials used to sign it will expire first: %s",
                numbers,
            )
            return requested, "warned"
        if mode == "refuse" or room < 1:
            if policy.metrics is not None:
                policy.metrics.presign("refused")
            logger.warning("refused: %s", numbers)
            raise PresignOutlivesSession(
                f"refused: {numbers}; the URL would outlive the session that signs it",
                requested=requested,
                session_expires_at=view.expires_at,
            )
        logger.info("clamped to %d s: %s", room, numbers)
        return room, "clamped"


def _seconds(expires_in: Any) -> int | None:
    if isinstance(expires_in, bool):
        return None
    try:
        return int(expires_in)
    except (TypeError, ValueError, OverflowError):  # e.g. inf: botocore says what is wrong
        return None


def _url_signed_with(url: str, key: str) -> bool:
    return key in url


def _post_signed_with(post: dict[str, Any], key: str) -> bool:
    fields = post.get("fields") or {}
    credential = fields.get("AWSAccessKeyId") or fields.get("x-amz-credential") or ""
    return key in str(credential)


def install(client: Any, state: ClientGuard) -> None:
    """Put the bounded presign methods on one S3 client."""
    url_original = client.generate_presigned_url
    post_original = client.generate_presigned_post

    def generate_presigned_url(
        ClientMethod: str,
        Params: dict[str, Any] | None = None,
        ExpiresIn: int = 3600,
        HttpMethod: str | None = None,
    ) -> str:
        def sign(expires: Any) -> str:
            url: str = url_original(
                ClientMethod, Params=Params, ExpiresIn=expires, HttpMethod=HttpMethod
            )
            return url

        return state.bounded(ExpiresIn, sign, _url_signed_with, f"presigned {ClientMethod}")

    def generate_presigned_post(
        Bucket: str,
        Key: str,
        Fields: dict[str, Any] | None = None,
        Conditions: list[Any] | None = None,
        ExpiresIn: int = 3600,
    ) -> dict[str, Any]:
        def sign(expires: Any) -> dict[str, Any]:
            post: dict[str, Any] = post_original(
                Bucket, Key, Fields=Fields, Conditions=Conditions, ExpiresIn=expires
            )
            return post

        return state.bounded(ExpiresIn, sign, _post_signed_with, "presigned POST")

    generate_presigned_url.__doc__ = url_original.__doc__
    generate_presigned_post.__doc__ = post_original.__doc__
    client.generate_presigned_url = generate_presigned_url
    client.generate_presigned_post = generate_presigned_post
