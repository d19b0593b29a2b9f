"""Sources: one module per place a process gets AWS credentials from.

Each module exports ``collect(target) -> list[Observation]`` and never raises out of it: a
file it cannot read becomes an observation carrying a ``Problem`` (CA702), so one bad file
never stops a scan.  Modules are imported lazily, by name, so that a scan that needs only the
local files never pays for the network sources' imports; a new source is one module plus one
line in ``SOURCE_MODULES``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable

from credaudit.model import Location, Observation, Problem
from credaudit.target import Target

logger = logging.getLogger(__name__)

# Order matters only for output stability; the chain decides precedence.
SOURCE_MODULES: tuple[str, ...] = (
    "env",
    "profiles",
    "cli_cache",
    "sso_cache",
    "login_cache",
    "web_identity",
    "process",
    "imds",
    "container",
)

Collector = Callable[[Target], list[Observation]]


def _collector(name: str) -> Collector | None:
    try:
        module = importlib.import_module(f"credaudit.sources.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"credaudit.sources.{name}":
            return None
        raise
    collect: Collector = module.collect
    return collect


def collect_all(target: Target, names: Iterable[str] = SOURCE_MODULES) -> list[Observation]:
    """Run every source against the target; an unexpected error in one becomes a CA702."""
    observations: list[Observation] = []
    for name in names:
        try:
            # Inside the guard: a source that cannot even import (a broken optional
            # dependency) costs only itself and is reported like a crash, as a CA702.
            collect = _collector(name)
            if collect is None:
                continue
            observations.extend(collect(target))
        except Exception as exc:  # a bug in one source must not cost the whole scan
            logger.debug("source %s failed", name, exc_info=True)
            observations.append(
                Observation(
                    source=name,
                    origin=f"source:{name}",
                    problems=(
                        Problem(
                            code="CA702",
                            message=f"internal error in source {name}: {type(exc).__name__}",
                        ),
                    ),
                )
            )
    return observations


def unreadable(source: str, path: str, reason: str, profile: str | None = None) -> Observation:
    """The observation a source returns for a file it could not read or parse."""
    return Observation(
        source=source,
        origin=path,
        profile=profile,
        location=Location(path=path),
        problems=(Problem(code="CA702", message=f"{path}: {reason}"),),
    )
