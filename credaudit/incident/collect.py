"""The reduction every engine applies to the normalised events: what the analysis needs, in
memory that grows with sessions and failing requests, never with records.

A successful request only moves its credential's first/last-seen and count; a failing one (and
one sent long after it was signed) is kept whole, because the findings rest on each of them.
A successful request known only by its requester ARN (an S3 access log line) is counted and
nothing more: no session's figures rest on it (S3 lines tie to sessions by ARN and time only
when they failed), so a table of them per ARN would grow with sessions for nothing.
Accumulators merge, so a process pool or Spark can reduce files apart and combine the parts;
the result does not depend on the order of files or records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from credaudit.incident.events import Activity, Event, Session, Unreadable, Use

# A request sent this long after it was signed is kept even when it succeeded: it is evidence
# of queueing (and what the dwell finding measures when it failed).
KEEP_DWELL = timedelta(seconds=60)
K = TypeVar("K")
_SEEN_TABLES = ("by_key", "stated")


@dataclass(slots=True)
class Seen:
    count: int
    first: datetime
    last: datetime

    def add(self, at: datetime) -> None:
        self.count += 1
        if at < self.first:
            self.first = at
        elif at > self.last:
            self.last = at

    def merge(self, other: Seen) -> None:
        self.count += other.count
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)


@dataclass
class Accumulator:
    minted: dict[str, Session] = field(default_factory=dict)  # by access key id
    keyless: list[Session] = field(default_factory=list)
    kept: list[Use] = field(default_factory=list)
    by_key: dict[str, Seen] = field(default_factory=dict)
    stated: dict[tuple[str | None, datetime], Seen] = field(default_factory=dict)
    # Sessions seen in use and not (yet) minted, by access key id: never a minted one.
    observed: dict[str, tuple[str | None, datetime | None]] = field(default_factory=dict)
    problems: list[Unreadable] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    files: int = 0
    # The expiries of the sessions above (derived, not pickled): a log's stated expiry that
    # one of them already accounts for adds nothing the analysis reads (``stated`` only
    # makes a session of an expiry no minted one has), so it is not kept.
    expiries: set[datetime] = field(default_factory=set, repr=False, compare=False)

    def add_all(self, events: Iterable[Event]) -> Accumulator:
        add = self.add
        for event in events:
            add(event)
        return self

    def add(self, event: Event) -> None:
        if isinstance(event, Use):
            self._use(event)
        elif isinstance(event, Activity):
            self._activity(event)
        elif isinstance(event, Session):
            self._session(event)
        else:
            self.problems.append(event)

    def _session(self, session: Session) -> None:
        if session.key is None:
            self.keyless.append(session)
        else:
            known = self.minted.get(session.key)
            if known is not None and (known.expires_at is not None or session.expires_at is None):
                return
            self.minted[session.key] = session
            self.observed.pop(session.key, None)
        if session.expires_at is not None:
            self.expiries.add(session.expires_at)

    def compact(self) -> Accumulator:
        """Drop the stated expiries that sessions read since they were stated account for
        (each is dropped as it is stated once its session is known; this catches the ones
        stated first).  The analysis' answer is the same with or without them."""
        expiries = self.expiries
        for name in [name for name in self.stated if name[1] in expiries]:
            del self.stated[name]
        return self

    def _use(self, use: Use) -> None:
        self.records[use.source] += 1
        if use.error or (use.signed_at is not None and use.at - use.signed_at > KEEP_DWELL):
            self.kept.append(use)
        if use.stated_expiry is not None and use.stated_expiry not in self.expiries:
            _bump(self.stated, (use.subject, use.stated_expiry), use.at)
        if use.key:
            _bump(self.by_key, use.key, use.at)
            self._observe(use.key, use.arn, use.creation)

    def _activity(self, act: Activity) -> None:
        self.records[act.source] += act.count
        if act.stated_expiry is not None and act.stated_expiry not in self.expiries:
            _merge_seen(
                self.stated,
                {(act.subject, act.stated_expiry): Seen(act.count, act.first, act.last)},
            )
        key = act.key
        if not key:
            return
        known = self.by_key.get(key)
        if known is None:
            self.by_key[key] = Seen(act.count, act.first, act.last)
        else:
            known.count += act.count
            known.first = min(known.first, act.first)
            known.last = max(known.last, act.last)
        self._observe(key, act.arn, act.creation)

    def _observe(self, key: str, arn: str | None, creation: datetime | None) -> None:
        # A session (not a long-term key): one with a creation date, or an ASIA key id.
        if (
            key not in self.observed
            and key not in self.minted
            and (creation is not None or (arn and key.startswith("ASIA")))
        ):
            self.observed[key] = (arn, creation)

    def __getstate__(self) -> dict[str, Any]:
        # Parts cross process boundaries (the pool, Spark): the Seen tables as plain tuples
        # pickle in C, not through a slotted dataclass's Python-level state per entry.
        state = dict(self.__dict__)
        del state["expiries"]
        for name in _SEEN_TABLES:
            state[name] = {k: (s.count, s.first, s.last) for k, s in state[name].items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in _SEEN_TABLES:
            state[name] = {k: Seen(*v) for k, v in state[name].items()}
        self.__dict__.update(state)
        self.expiries = {
            s.expires_at for s in (*self.minted.values(), *self.keyless) if s.expires_at is not None
        }

    def merge(self, other: Accumulator) -> Accumulator:
        for session in (*other.minted.values(), *other.keyless):
            self._session(session)
        self.kept.extend(other.kept)
        _merge_seen(self.by_key, other.by_key)
        _merge_seen(self.stated, other.stated)
        for key, value in other.observed.items():
            if key not in self.minted:
                self.observed.setdefault(key, value)
        self.problems.extend(other.problems)
        self.records.update(other.records)
        self.files += other.files
        return self.compact()


def _bump(table: dict[K, Seen], name: K, at: datetime) -> None:
    seen = table.get(name)
    if seen is None:
        table[name] = Seen(1, at, at)
    else:
        seen.add(at)


def _merge_seen(mine: dict[K, Seen], theirs: dict[K, Seen]) -> None:
    for name, seen in theirs.items():
        known = mine.get(name)
        if known is None:
            mine[name] = Seen(seen.count, seen.first, seen.last)
        else:
            known.merge(seen)
