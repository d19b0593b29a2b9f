"""One set of live credentials, as the guard tracks it: when its session really ends, when
to renew it, and what to do when renewing fails.

A ``Lifeline`` belongs to a botocore credentials object, so every client signing with it
(all clients of one session) shares one refresh and one view of the session.  Refreshes are
serialised by the lifeline's lock and counted by attempt: threads that queued behind a
refresh take its result instead of refreshing again, so sixteen threads arriving during a
refresh cause one.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from credaudit.guard import _botocore
from credaudit.guard.errors import RefreshFailed
from credaudit.keys import mask_key
from credaudit.model import format_instant

if TYPE_CHECKING:
    from credaudit.guard.metrics import Sink

logger = logging.getLogger("credaudit.guard")

# After a refresh that failed or handed back the same session, callers within this many
# seconds take that result rather than try again: a dead refresh path is not hammered by
# every call (botocore has no backoff at all), and fails fast instead of waiting again.
RETRY_AFTER = 10.0

PRESIGN_MODES = ("refresh", "clamp", "refuse", "warn")


@dataclass(frozen=True, slots=True)
class Policy:
    """One ``guard()`` call's options, checked once."""

    presign: str
    min_remaining: float
    skew: float
    jitter: float
    now: Callable[[], float]  # epoch seconds
    metrics: Sink | None

    @staticmethod
    def build(  # noqa: PLR0917 - mirrors guard()'s keywords
        presign: str,
        min_remaining: float,
        skew: float,
        jitter: float,
        metrics: Sink | None,
        clock: Callable[[], datetime] | None,
    ) -> Policy:
        from credaudit.guard.errors import GuardError

        if presign not in PRESIGN_MODES:
            raise GuardError(f"presign={presign!r}: expected one of {', '.join(PRESIGN_MODES)}")
        for name, value in (("min_remaining", min_remaining), ("skew", skew)):
            if not _finite(value) or value < 0:
                raise GuardError(f"{name}={value!r}: expected seconds >= 0")
        if not _finite(jitter) or not 0 <= jitter <= 1:
            raise GuardError(f"jitter={jitter!r}: expected a fraction in 0..1")
        if clock is None:
            import time

            now: Callable[[], float] = time.time
        else:
            aware = clock

            def now() -> float:
                return aware().timestamp()

        return Policy(presign, float(min_remaining), float(skew), float(jitter), now, metrics)

    def threshold(self, spread: float) -> float:
        """Refresh below this many seconds left.  The jitter spreads the point *above*
        ``min_remaining`` (Go's ExpiryWindowJitterFrac spreads below its window): here
        ``min_remaining`` is also the floor nothing is signed under, so a fleet's refreshes
        are spread over [min_remaining, min_remaining * (1 + jitter)] and still all happen
        before botocore's own 15-minute advisory refresh."""
        return self.min_remaining * (1.0 + self.jitter * spread)


@dataclass(frozen=True, slots=True)
class View:
    """A session as the guard judges it; rebuilt only when botocore's credentials change."""

    snapshot: _botocore.Snapshot
    key: str | None
    temporary: bool
    expires_at: datetime | None  # the real end: for IMDS the served expiry, not the extension
    expires_ts: float | None
    lifetime: float  # seconds it had when the guard first saw it
    spread: float  # this session's jitter draw, 0..1


@dataclass(frozen=True, slots=True)
class Due:
    """A view the caller holding the lock is to renew."""

    view: View


@dataclass(frozen=True, slots=True)
class _Attempt:
    at: float
    outcome: str  # "failed" | "same"
    cause: str
    key: str | None


class Lifeline:
    def __init__(self, creds: Any) -> None:
        self.creds = creds
        self.source = str(getattr(creds, "method", None) or "unknown")
        self.refreshable = _botocore.refreshable(creds)
        self._lock = threading.RLock()
        self.threaded = True  # botocore's threading lock guards the credentials
        self._view: View | None = None
        self._attempts = 0
        self._last: _Attempt | None = None
        self._presign_tried: str | None = None
        self._unknown_reported: str | None = None
        self._imds = _botocore.instance_fetcher(creds)
        self._learned: str | None = None
        self._renewed: str | None = None  # the key the guard's last renewal brought
        if self._imds is not None:
            _botocore.watch_fetcher(self._imds)

    # --- the session as it is -------------------------------------------------------------

    @property
    def last_view(self) -> View | None:
        """The session as last seen (metrics read it at scrape time, without a clock)."""
        return self._view

    def view(self, now: float) -> View:
        snap = _botocore.read(self.creds, locked=self.threaded)
        known = self._view
        if (
            known is not None
            and (
                (snap.frozen is not None and snap.frozen is known.snapshot.frozen)
                or (snap.frozen is None and snap.access_key == known.key)
            )
            and snap.expiry is known.snapshot.expiry
        ):
            return known
        return self._rebuild(snap, known, now)

    def _rebuild(self, snap: _botocore.Snapshot, known: View | None, now: float) -> View:
        expires_at = snap.expires_at
        if self._imds is not None and snap.access_key is not None:
            served = _botocore.served_expiry(snap.access_key)
            if served is None and self._learned != snap.access_key:
                snap = self._learn_served(snap)
                served = _botocore.served_expiry(snap.access_key)
                expires_at = snap.expires_at
            if served is not None and (expires_at is None or served < expires_at):
                expires_at = served
        if expires_at is not None and expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        expires_ts = expires_at.timestamp() if expires_at is not None else None
        if known is not None and known.key == snap.access_key:
            lifetime, spread = known.lifetime, known.spread  # same session, new expiry value
        else:
            lifetime = (expires_ts - now) if expires_ts is not None else 0.0
            spread = random.random()
        view = View(snap, snap.access_key, snap.temporary, expires_at, expires_ts, lifetime, spread)
        self._view = view
        return view

    def _learn_served(self, snap: _botocore.Snapshot) -> _botocore.Snapshot:
        """Instance credentials loaded before the guard watched the fetcher: read IMDS once
        more so the served expiry is known (botocore's may be its extension)."""
        self._learned = snap.access_key
        with self._lock:
            try:
                _botocore.renew(self.creds)
            except Exception as exc:
                logger.warning(
                    "instance credentials %s: could not read the expiry IMDS serves (%s); "
                    "bounding by botocore's, which may be extended past it",
                    mask_key(snap.access_key),
                    type(exc).__name__,
                )
                return snap
        fresh = _botocore.read(self.creds)
        self._learned = fresh.access_key
        return fresh

    # --- renewing -------------------------------------------------------------------------

    def check(self, policy: Policy) -> View:
        """The session to sign with, renewed first when it is inside the refresh point;
        raises RefreshFailed when it cannot be renewed and is inside ``min_remaining``."""
        now = policy.now()
        view = self.view(now)
        if not self._due(policy, view, now):
            return view
        return self.renew(policy, view)

    def _due(self, policy: Policy, view: View, now: float) -> bool:
        if view.expires_ts is None or not self.refreshable:
            return False
        # A session the guard itself just obtained is kept down to min_remaining: the
        # jitter band would otherwise renew a role whose sessions are shorter than it on
        # every call.
        point = policy.min_remaining if view.key == self._renewed else policy.threshold(view.spread)
        return view.expires_ts - now < point

    def renew(self, policy: Policy, seen: View, *, forced: bool = False) -> View:
        tried = self._attempts
        with self._lock:
            step = self._begin(policy, seen, tried, forced)
            if isinstance(step, View):
                return step
            try:
                _botocore.renew(self.creds)
            except Exception as exc:
                return self._finish(policy, step, _describe(exc))
            return self._finish(policy, step, None)

    def _begin(self, policy: Policy, seen: View, tried: int, forced: bool) -> View | Due:
        """Under the lock: the view to use as it is (another caller renewed, the refresh is
        no longer due, or a recent attempt's result stands), or the view to renew."""
        now = policy.now()
        view = self.view(now)
        if view.key != seen.key or not (forced or self._due(policy, view, now)):
            return view  # renewed while this caller waited, or no longer due
        last = self._last
        if self._attempts != tried or (
            last is not None and last.key == view.key and now - last.at < RETRY_AFTER
        ):
            return self._settle(policy, view, now, last)
        self._attempts += 1
        return Due(view)

    def _finish(self, policy: Policy, step: Due, cause: str | None) -> View:
        """After botocore's refresh returned (``cause`` None) or raised: what came of it."""
        view = step.view
        now = policy.now()  # a refresh takes time
        fresh = self.view(now)
        if cause is not None:
            outcome = "failed"
        else:
            outcome, cause = ("renewed" if fresh.key != view.key else "same"), ""
        if policy.metrics is not None:
            policy.metrics.refresh(outcome)
        if outcome == "renewed":
            self._renewed = fresh.key
            logger.info(
                "credentials renewed (%s): %s expiring %s replaces %s expiring %s",
                self.source,
                mask_key(fresh.key),
                _instant(fresh.expires_at),
                mask_key(view.key),
                _instant(view.expires_at),
            )
            if fresh.expires_ts is None or fresh.expires_ts - now >= policy.min_remaining:
                self._last = None
                return fresh
            outcome = "short"  # a new session, but shorter than min_remaining
        self._last = _Attempt(now, outcome, cause, fresh.key)
        logger.warning(
            "credentials %s (%s) expiring %s, %d s left: refresh %s",
            mask_key(fresh.key),
            self.source,
            _instant(fresh.expires_at),
            int((fresh.expires_ts or now) - now),
            _what(outcome, cause),
        )
        return self._settle(policy, fresh, now, self._last)

    def wants_presign_refresh(self, policy: Policy, seen: View) -> bool:
        """``presign="refresh"``: renew before clamping, when that can help.  A session is
        renewed for a presign at most once, and only after it has used half the life it had
        when first seen (a fresh session would come back no longer, at the cost of an STS
        call per presign)."""
        if seen.expires_ts is None or self._presign_tried == seen.key:
            return False
        if seen.expires_ts - policy.now() >= seen.lifetime / 2:
            return False
        self._presign_tried = seen.key
        return True

    def presign_renewed(self, view: View) -> None:
        """The session a presign refresh brought counts as tried too."""
        self._presign_tried = view.key

    def _settle(self, policy: Policy, view: View, now: float, last: _Attempt | None) -> View:
        if view.expires_ts is None or view.expires_ts - now >= policy.min_remaining:
            return view
        outcome = last.outcome if last is not None else "failed"
        left = int(view.expires_ts - now)
        raise RefreshFailed(
            f"credentials {mask_key(view.key)} ({self.source}) expire at "
            f"{_instant(view.expires_at)}, {left} s from now, inside min_remaining "
            f"{int(policy.min_remaining)} s, and the refresh "
            f"{_what(outcome, last.cause if last else '')}: "
            "not signing with credentials that would die in flight",
            outcome=outcome,
            session_expires_at=view.expires_at,
        )

    def report_unknown(self, key: str | None) -> None:
        """Temporary credentials with no expiry to read: said once per key, never guessed."""
        if self._unknown_reported == key:
            return
        self._unknown_reported = key
        logger.warning(
            "credentials %s (%s) carry a session token but no expiry (for env credentials, "
            "set AWS_CREDENTIAL_EXPIRATION): presigned URLs signed with them are not bounded",
            mask_key(key),
            self.source,
        )


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _describe(exc: BaseException) -> str:
    """The exception's class and, for AWS errors, the error code: never its text, which
    for a credential_process can carry the process's output."""
    code = (
        getattr(exc, "response", {}).get("Error", {}).get("Code")
        if hasattr(exc, "response")
        else None
    )
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def _what(outcome: str, cause: str) -> str:
    if outcome == "short":
        return (
            "brought a session shorter than min_remaining (the role's session duration is "
            "below it: lower min_remaining or raise the duration)"
        )
    if outcome == "same":
        return (
            "handed back the same session (a credential cache answers with it until its own "
            "window): not renewed"
        )
    return f"failed ({cause})" if cause else "failed"


def _instant(value: datetime | None) -> str:
    return format_instant(value.astimezone(UTC)) if value is not None else "unknown"
