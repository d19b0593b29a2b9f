"""Every private part of botocore the guard touches, in one module.

botocore has no public expiry or refresh hook (boto/botocore#2694: its maintainers keep the
expiry private because providers mutate it), so the guard reads and drives these, and nothing
else outside this module does:

- ``client._request_signer._credentials``: the object a client signs with (shared by every
  client of a session);
- ``RefreshableCredentials._frozen_credentials`` / ``._expiry_time`` read together under
  ``._refresh_lock``: botocore swaps both under that lock, and before 1.35 it set the new
  expiry before the new keys, so an unlocked read could pair a new expiry with old keys;
- ``RefreshableCredentials._protected_refresh(is_mandatory=True)`` under ``._refresh_lock``:
  botocore's own refresh, in its raising (mandatory) form, so a failure reaches the guard
  instead of being logged and swallowed as in botocore's advisory window;
- ``CachedCredentialFetcher._cache`` / ``._cache_key`` (assume-role, web identity, SSO): the
  in-memory cache answers with the *same* session while it has more than 15 minutes left, so
  a refresh the guard asks for drops that entry first.  A cache the user supplied (the AWS
  CLI's ``JSONFileCache`` on disk) is never touched: a refresh through it can hand back the
  same session, and the guard reports that as not renewed;
- ``InstanceMetadataFetcher._evaluate_expiration``: where botocore extends an instance
  credential's expiry past the one IMDS served; the guard records the served one first.

``SUPPORTED`` is the range tested in CI (the oldest and the newest release of it).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

logger = logging.getLogger("credaudit.guard")

SUPPORTED = (">=1.34.0", "<1.45")  # pyproject's [guard] extra says the same
OLDEST = (1, 34, 0)
NEWEST_MINOR = (1, 44)
_SERVED_LIMIT = 64


class Snapshot(NamedTuple):
    """The credentials as they will sign: one consistent read."""

    frozen: object  # identity of botocore's frozen tuple: unchanged means nothing moved
    expiry: object  # identity of botocore's expiry value, likewise
    access_key: str | None
    temporary: bool  # a session token is present
    expires_at: datetime | None  # botocore's idea (for IMDS possibly extended)


def version_note() -> str | None:
    """A warning when the installed botocore is outside the tested range, else None."""
    import botocore

    try:
        parts = tuple(int(p) for p in botocore.__version__.split(".")[:3])
    except ValueError:
        return f"botocore {botocore.__version__}: version not understood"
    if parts < OLDEST or parts[:2] > NEWEST_MINOR:
        low, high = SUPPORTED
        return (
            f"botocore {botocore.__version__} is outside the range credaudit.guard is tested "
            f"with ({low},{high}): its private refresh attributes may have changed"
        )
    return None


def missing_parts() -> list[str]:
    """The private parts this module needs that the installed botocore lacks."""
    from botocore.credentials import RefreshableCredentials

    return [
        name
        for name in ("_protected_refresh", "_refresh")
        if not hasattr(RefreshableCredentials, name)
    ]


def signing_credentials(client: Any) -> Any:
    signer = getattr(client, "_request_signer", None)
    return getattr(signer, "_credentials", None)


def read(creds: Any, *, locked: bool = True) -> Snapshot:
    """``locked=False`` for aiobotocore: its lock is an asyncio.Lock, and on one event loop
    nothing runs between the two reads (it publishes keys and expiry without an await)."""
    lock = getattr(creds, "_refresh_lock", None)
    if lock is None or not hasattr(creds, "_expiry_time"):
        if not locked:  # aiobotocore's static credentials: plain attributes
            return Snapshot(None, None, creds.access_key, bool(creds.token), None)
        frozen = creds.get_frozen_credentials()
        return Snapshot(None, None, frozen.access_key, bool(frozen.token), None)
    if locked:
        if getattr(creds, "_frozen_credentials", None) is None:
            creds.get_frozen_credentials()  # deferred credentials: botocore's first fetch
        with lock:
            frozen = creds._frozen_credentials
            expiry = creds._expiry_time
    else:
        frozen, expiry = creds._frozen_credentials, creds._expiry_time
    expires_at = expiry if isinstance(expiry, datetime) else None
    return Snapshot(frozen, expiry, frozen.access_key, bool(frozen.token), expires_at)


def refreshable(creds: Any) -> bool:
    return hasattr(creds, "_refresh_lock") and hasattr(creds, "_protected_refresh")


def renew(creds: Any) -> None:
    """botocore's refresh, forced and raising.  Raises whatever the refresher raised."""
    fetcher = getattr(getattr(creds, "_refresh_using", None), "__self__", None)
    with creds._refresh_lock:
        cache = getattr(fetcher, "_cache", None)
        if fetcher is not None and type(cache) is dict and hasattr(fetcher, "_cache_key"):
            cache.pop(fetcher._cache_key, None)
        creds._protected_refresh(is_mandatory=True)


async def arenew(creds: Any) -> None:
    """``renew`` for aiobotocore's credentials (asyncio lock, coroutine refresh)."""
    fetcher = getattr(getattr(creds, "_refresh_using", None), "__self__", None)
    async with creds._refresh_lock:
        cache = getattr(fetcher, "_cache", None)
        if fetcher is not None and type(cache) is dict and hasattr(fetcher, "_cache_key"):
            cache.pop(fetcher._cache_key, None)
        await creds._protected_refresh(is_mandatory=True)


# --- instance credentials: the expiry IMDS served -----------------------------------------

_served: OrderedDict[str, datetime] = OrderedDict()


def served_expiry(access_key: str | None) -> datetime | None:
    if access_key is None:
        return None
    return _served.get(access_key)


def _record(credentials: dict[str, Any]) -> None:
    key, value = credentials.get("access_key"), credentials.get("expiry_time")
    if not isinstance(key, str) or not isinstance(value, str):
        return
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    _served[key] = instant
    _served.move_to_end(key)
    while len(_served) > _SERVED_LIMIT:
        _served.popitem(last=False)


def watch_fetcher(fetcher: Any) -> bool:
    """Record what IMDS serves before botocore may extend it.  True if the fetcher is an
    instance-metadata fetcher (now watched)."""
    original: Callable[[dict[str, Any]], None] | None = getattr(
        fetcher, "_evaluate_expiration", None
    )
    if original is None or not callable(original):
        return False
    if getattr(original, "_credaudit_watch", False):
        return True

    def evaluate(credentials: dict[str, Any]) -> None:
        _record(credentials)
        original(credentials)

    evaluate._credaudit_watch = True  # type: ignore[attr-defined]
    fetcher._evaluate_expiration = evaluate
    return True


def instance_fetcher(creds: Any) -> Any:
    """The InstanceMetadataFetcher behind instance-role credentials, else None."""
    if getattr(creds, "method", None) != "iam-role":
        return None
    fetcher = getattr(getattr(creds, "_refresh_using", None), "__self__", None)
    return fetcher if hasattr(fetcher, "_evaluate_expiration") else None


def watch_session(botocore_session: Any) -> None:
    """Watch the session's instance-role provider before it first loads credentials."""
    try:
        resolver = botocore_session.get_component("credential_provider")
        provider = resolver.get_provider("iam-role")
    except Exception:  # no resolver or no such provider: nothing to watch
        logger.debug("no instance-role provider to watch", exc_info=True)
        return
    fetcher = getattr(provider, "_role_fetcher", None)
    if fetcher is not None:
        watch_fetcher(fetcher)
