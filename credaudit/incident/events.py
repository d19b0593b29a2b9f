"""The normalised events every reader yields: a minted session, a request (a use), an unreadable
input.  They are plain slotted dataclasses so that a process pool or Spark can pickle them and
the analysis never knows which log they came from.

Secrets never enter them: a session token or a secret key is read past, never stored; the access
key id is kept whole (to correlate) and rendered masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Session:
    """A session as its minting (CloudTrail) or its use (a stated expiry, a debug log) shows it."""

    key: str | None
    principal: str
    origin: str
    arn: str | None = None
    minted_at: datetime | None = None
    expires_at: datetime | None = None
    minted_by: str | None = None
    how: str = "minted"  # minted | observed | stated


@dataclass(slots=True)
class Use:
    """One request as a log saw it.  ``at`` is when the service saw it (or the log line's time);
    ``retry_key`` names the logical request so that re-sends of it can be counted."""

    at: datetime
    origin: str
    source: str  # cloudtrail | s3-access | sdk-debug | app
    key: str | None = None
    arn: str | None = None
    service: str | None = None
    operation: str | None = None
    request_id: str | None = None
    retry_key: str | None = None
    error: str | None = None
    message: str | None = field(default=None, repr=False)
    signed_at: datetime | None = None
    presigned: bool = False
    url_expires_at: datetime | None = None
    url_ttl_seconds: int | None = None
    stated_expiry: datetime | None = None
    skew_seconds: int | None = None
    subject: str | None = None
    creation: datetime | None = None  # the session's creationDate, when the log states it


@dataclass(slots=True)
class Activity:
    """Successful calls of one credential in one file, summarised: a delivery file holds
    thousands of them and the analysis needs only how many, the first and the last (and the
    session's creation date).  Failures are never summarised: each is a ``Use``."""

    source: str
    origin: str
    key: str | None
    arn: str | None
    count: int
    first: datetime
    last: datetime
    creation: datetime | None = None
    stated_expiry: datetime | None = None
    subject: str | None = None


@dataclass(slots=True)
class Unreadable:
    """A file or record that could not be read: CA908, and the run goes on."""

    origin: str
    message: str


Event = Session | Use | Activity | Unreadable
