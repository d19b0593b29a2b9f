"""The guard for aiobotocore: the same policy, session tracking, presign decision and
metrics as the threaded guard, driven with ``await``.

aiobotocore's ``AioRefreshableCredentials`` keeps botocore's private attributes but guards
them with an ``asyncio.Lock`` and refreshes in a coroutine; its presign methods and event
handlers are coroutines too.  So only the drivers differ: ``AioLifeline.acheck`` /
``arenew`` await botocore's refresh under an asyncio lock of the lifeline's own, and
``AioClientGuard`` puts coroutine presign methods and a coroutine ``before-sign`` handler on
the client.  One difference: instance credentials loaded before the guard was attached are
not re-read from IMDS to learn the served expiry (attach the guard to the session first).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from credaudit.guard import _botocore
from credaudit.guard.lifeline import Lifeline, Policy, View, _describe
from credaudit.guard.presign import (
    _SIGN_TRIES,
    ClientGuard,
    _post_signed_with,
    _seconds,
    _url_signed_with,
)

logger = logging.getLogger("credaudit.guard")
R = TypeVar("R")


class AioLifeline(Lifeline):
    def __init__(self, creds: Any) -> None:
        super().__init__(creds)
        self.threaded = False
        self._alock = asyncio.Lock()

    def _learn_served(self, snap: _botocore.Snapshot) -> _botocore.Snapshot:
        self._learned = snap.access_key
        logger.warning(
            "instance credentials %s were loaded before the guard: bounding by botocore's "
            "expiry, which may be extended past the one IMDS served",
            snap.access_key and snap.access_key[:4] + "…" + snap.access_key[-4:],
        )
        return snap

    async def acheck(self, policy: Policy) -> View:
        if getattr(self.creds, "_frozen_credentials", True) is None:
            await self.creds.get_frozen_credentials()  # deferred: aiobotocore's first fetch
        now = policy.now()
        view = self.view(now)
        if not self._due(policy, view, now):
            return view
        return await self.arenew(policy, view)

    async def arenew(self, policy: Policy, seen: View, *, forced: bool = False) -> View:
        tried = self._attempts
        async with self._alock:
            step = self._begin(policy, seen, tried, forced)
            if isinstance(step, View):
                return step
            try:
                await _botocore.arenew(self.creds)
            except Exception as exc:
                return self._finish(policy, step, _describe(exc))
            return self._finish(policy, step, None)


class AioClientGuard(ClientGuard):
    lifeline: AioLifeline | None

    async def abefore_sign(self, request: Any = None, **_: Any) -> None:
        if self.lifeline is None:
            return
        if self.s3 and request is not None and request.context.get("is_presign_request"):
            return
        await self.lifeline.acheck(self.policy)

    async def abounded(
        self,
        expires_in: Any,
        sign: Callable[[Any], Awaitable[R]],
        signed_with: Callable[[R, str], bool],
        what: str,
    ) -> R:
        lifeline = self.lifeline
        requested = _seconds(expires_in)
        if lifeline is None or requested is None:
            return await sign(expires_in)
        policy = self.policy
        result: R
        for _ in range(_SIGN_TRIES):
            view = await lifeline.acheck(policy)
            verdict = self.judge(lifeline, policy, view, requested, what)
            if verdict is None:
                renewed = await lifeline.arenew(policy, view, forced=True)
                lifeline.presign_renewed(renewed)
                verdict = self.judge(lifeline, policy, renewed, requested, what, view)
                view = renewed
            assert verdict is not None  # with ``before`` given, judge() always decides
            granted, action = verdict
            result = await sign(granted)
            if self.verified(view, result, signed_with, action):
                return result
        return self.unverified(result, what)


def install(client: Any, state: AioClientGuard) -> None:
    """Coroutine presign methods on one aiobotocore S3 client."""
    url_original = client.generate_presigned_url
    post_original = client.generate_presigned_post

    async def generate_presigned_url(
        ClientMethod: str,
        Params: dict[str, Any] | None = None,
        ExpiresIn: int = 3600,
        HttpMethod: str | None = None,
    ) -> str:
        async def sign(expires: Any) -> str:
            url: str = await url_original(
                ClientMethod, Params=Params, ExpiresIn=expires, HttpMethod=HttpMethod
            )
            return url

        return await state.abounded(ExpiresIn, sign, _url_signed_with, f"presigned {ClientMethod}")

    async def generate_presigned_post(
        Bucket: str,
        Key: str,
        Fields: dict[str, Any] | None = None,
        Conditions: list[Any] | None = None,
        ExpiresIn: int = 3600,
    ) -> dict[str, Any]:
        async def sign(expires: Any) -> dict[str, Any]:
            post: dict[str, Any] = await post_original(
                Bucket, Key, Fields=Fields, Conditions=Conditions, ExpiresIn=expires
            )
            return post

        return await state.abounded(ExpiresIn, sign, _post_signed_with, "presigned POST")

    client.generate_presigned_url = generate_presigned_url
    client.generate_presigned_post = generate_presigned_post


class GuardedClientContext:
    """What a guarded AioSession's ``create_client`` returns: aiobotocore's context, whose
    client is guarded on entry."""

    def __init__(self, inner: Any, on_enter: Callable[[Any], None]) -> None:
        self._inner = inner
        self._on_enter = on_enter

    async def __aenter__(self) -> Any:
        client = await self._inner.__aenter__()
        self._on_enter(client)
        return client

    async def __aexit__(self, *exc: object) -> Any:
        return await self._inner.__aexit__(*exc)
