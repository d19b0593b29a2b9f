"""Find the session behind a presigned URL's access key id.

A URL signed with temporary credentials dies with the session that signed it, and the URL
does not say when that is (reference §5).  Every scan source that saw a key together with
its expiry — the CLI cache, exported env credentials, an SSO role cache, instance or
container credentials — can answer; this module asks them all once and indexes the answer
by access key id so a million-line check costs one dict lookup per URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from credaudit.model import Observation
from credaudit.target import Target

logger = logging.getLogger(__name__)

# Network sources, asked only when the target allows probes; absent modules are skipped.
NETWORK_SOURCES = ("imds", "container")


def session_index(observations: Iterable[Observation]) -> dict[str, datetime]:
    """{access key id: session expiry}; when several sources hold one key, the earliest wins."""
    index: dict[str, datetime] = {}
    for observation in observations:
        key = observation.access_key_id
        expires = observation.expires_at
        if not key or expires is None:
            continue
        known = index.get(key)
        if known is None or expires < known:
            index[key] = expires
    return index


def find_sessions(target: Target) -> dict[str, datetime]:
    """Ask every scan source on ``target`` (network ones only when allowed)."""
    from credaudit.sources import SOURCE_MODULES, collect_all

    names = list(SOURCE_MODULES)
    if target.network:
        names.extend(n for n in NETWORK_SOURCES if n not in names)
    observations: list[Observation] = []
    for name in names:
        try:
            observations.extend(collect_all(target, (name,)))
        except Exception:  # a source that cannot even be imported must not cost the check
            logger.debug("session lookup: source %s failed", name, exc_info=True)
    return session_index(observations)
