"""A runtime guard for boto3 services: presigned URLs bounded by their session, refresh by
remaining lifetime with jitter, fail fast on a dead refresh path, expiry metrics.

::

    import boto3
    from credaudit.guard import guard, RefreshFailed

    session = guard(boto3.Session(profile_name="export"), presign="clamp")
    s3 = session.client("s3")          # every client made from now on is guarded
    url = s3.generate_presigned_url("get_object", Params=..., ExpiresIn=6 * 3600)
    # -> ends no later than the session that signed it (see docs/guard.md)

How it attaches, and why so: each guarded client gets a ``before-sign`` handler (a public
botocore event fired before every signing, including retries, ahead of botocore's own
``get_frozen_credentials``), which renews by remaining lifetime or raises ``RefreshFailed``;
S3 clients also get bounded ``generate_presigned_url`` / ``generate_presigned_post`` (the
only place ``ExpiresIn`` can be changed).  The credentials object is left in place rather
than wrapped: botocore hands it to providers, caches and nested clients, and reads private
attributes on it, so a proxy would have to mirror those across versions; the private parts
the guard reads are kept in ``_botocore`` and tested on the oldest and newest botocore of
``_botocore.SUPPORTED``.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from credaudit.guard import _botocore
from credaudit.guard.errors import GuardError, PresignOutlivesSession, RefreshFailed
from credaudit.guard.lifeline import Lifeline, Policy
from credaudit.guard.presign import ACTIONS, ClientGuard, install

__all__ = [
    "ACTIONS",
    "SUPPORTED_BOTOCORE",
    "GuardError",
    "PresignOutlivesSession",
    "RefreshFailed",
    "guard",
]

SUPPORTED_BOTOCORE = _botocore.SUPPORTED
logger = logging.getLogger("credaudit.guard")
T = TypeVar("T")

_lifelines: weakref.WeakKeyDictionary[Any, Lifeline] = weakref.WeakKeyDictionary()
_lifelines_lock = threading.Lock()


def guard(
    target: T,
    *,
    presign: str = "refresh",
    min_remaining: float = 900,
    skew: float = 30,
    jitter: float = 0.2,
    metrics: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> T:
    """Guard a ``boto3.Session`` / ``botocore.session.Session`` / aiobotocore ``AioSession``
    (every client it creates afterwards) or one client, and return it.

    presign: what to do when an S3 presign would outlive its session (+ ``skew``):
      ``refresh`` renews first when that can help, then clamps; ``clamp`` shortens
      ``ExpiresIn``; ``refuse`` raises ``PresignOutlivesSession``; ``warn`` only logs.
    min_remaining: seconds of life the credentials must have when something is signed; a
      refresh that fails inside it raises ``RefreshFailed`` before signing.
    jitter: refreshes happen between ``min_remaining`` and ``min_remaining * (1 + jitter)``
      seconds before expiry, drawn once per session, so a fleet does not refresh at once.
    metrics: a prometheus_client ``CollectorRegistry`` or an OpenTelemetry ``Meter``.
    clock: returns the current aware ``datetime`` (tests); ``time.time`` otherwise.
    """
    _check_botocore()
    sink = None
    if metrics is not None:
        from credaudit.guard.metrics import sink_for

        sink = sink_for(metrics)
    policy = Policy.build(presign, min_remaining, skew, jitter, sink, clock)
    if hasattr(target, "_request_signer") and hasattr(target, "meta"):
        _guard_client(target, policy)
        return target
    botocore_session = _botocore_session(target)
    if botocore_session is None:
        raise GuardError(
            f"guard({type(target).__name__}): expected a boto3 or botocore Session or a client"
        )
    _guard_session(botocore_session, policy)
    return target


@functools.cache
def _check_botocore() -> None:
    """Once per process: refuse a botocore without the parts the guard drives, warn
    outside the tested range."""
    missing = _botocore.missing_parts()
    if missing:
        raise GuardError(
            "the installed botocore lacks RefreshableCredentials."
            + ", .".join(missing)
            + f": credaudit.guard supports botocore {','.join(SUPPORTED_BOTOCORE)}"
        )
    note = _botocore.version_note()
    if note:
        logger.warning(note)


def is_aio(obj: Any) -> bool:
    """An aiobotocore client or session (by its classes' module: aiobotocore is optional,
    and asyncio is imported only for it)."""
    return any(cls.__module__.startswith("aiobotocore") for cls in type(obj).__mro__)


def _botocore_session(target: Any) -> Any:
    if hasattr(target, "create_client") and hasattr(target, "get_component"):
        return target  # botocore.session.Session
    inner = getattr(target, "_session", None)
    if hasattr(inner, "create_client") and hasattr(inner, "get_component"):
        return inner  # boto3.Session
    return None


class _SessionGuard:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy


def _guard_session(session: Any, policy: Policy) -> None:
    existing = getattr(session, "_credaudit_guard", None)
    if isinstance(existing, _SessionGuard):
        existing.policy = policy
        return
    state = _SessionGuard(policy)
    _botocore.watch_session(session)
    original = session.create_client
    asynchronous = is_aio(session)

    def create_client(*args: Any, **kwargs: Any) -> Any:
        made = original(*args, **kwargs)
        if asynchronous:  # aiobotocore: an async context manager yielding the client
            from credaudit.guard.aio import GuardedClientContext

            return GuardedClientContext(made, lambda client: _guard_client(client, state.policy))
        _guard_client(made, state.policy)
        return made

    session.create_client = create_client
    session._credaudit_guard = state


def lifeline_for(creds: Any, asynchronous: bool = False) -> Lifeline:
    with _lifelines_lock:
        lifeline = _lifelines.get(creds)
        if lifeline is None:
            if asynchronous:
                from credaudit.guard.aio import AioLifeline

                lifeline = AioLifeline(creds)
            else:
                lifeline = Lifeline(creds)
            _lifelines[creds] = lifeline
        return lifeline


def _guard_client(client: Any, policy: Policy) -> None:
    existing = getattr(client, "_credaudit_guard", None)
    if isinstance(existing, ClientGuard):
        existing.policy = policy
        if policy.metrics is not None and existing.lifeline is not None:
            policy.metrics.track(existing.lifeline)
        return
    creds = _botocore.signing_credentials(client)
    asynchronous = is_aio(client)
    lifeline = lifeline_for(creds, asynchronous) if creds is not None else None
    service = client.meta.service_model.service_name
    state: ClientGuard
    if asynchronous:
        from credaudit.guard import aio

        aio_state = aio.AioClientGuard(policy, lifeline, service)
        client.meta.events.register("before-sign", aio_state.abefore_sign)
        if aio_state.s3:
            aio.install(client, aio_state)
        state = aio_state
    else:
        state = ClientGuard(policy, lifeline, service)
        client.meta.events.register("before-sign", state.before_sign)
        if state.s3:
            install(client, state)
    if lifeline is not None and policy.metrics is not None:
        policy.metrics.track(lifeline)
    client._credaudit_guard = state
