"""What the guard raises.  Messages carry masked key ids and instants, never a secret."""

from __future__ import annotations

from datetime import datetime


class GuardError(Exception):
    """Base of everything ``credaudit.guard`` raises, so a service can catch the guard alone."""


class PresignOutlivesSession(GuardError):
    """``presign="refuse"``: the URL would outlive the session that signs it."""

    def __init__(
        self, message: str, *, requested: int, session_expires_at: datetime | None
    ) -> None:
        super().__init__(message)
        self.requested = requested
        self.session_expires_at = session_expires_at


class RefreshFailed(GuardError):
    """The credentials are inside ``min_remaining`` and could not be renewed, so nothing is
    signed with them: the work would die in flight with ``ExpiredToken``."""

    def __init__(self, message: str, *, outcome: str, session_expires_at: datetime | None) -> None:
        super().__init__(message)
        # "failed" (the refresh raised), "same" (the same session came back) or "short"
        # (a new session, but already inside min_remaining)
        self.outcome = outcome
        self.session_expires_at = session_expires_at
