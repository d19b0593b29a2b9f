"""What every rule group sees: the target, the budget, the observations and the chain.

Rule groups are modules under ``credaudit/analysis/`` exporting
``evaluate(ctx: ScanContext) -> list[Finding]``; the scan runs each group in
``RULE_GROUPS`` order.  A group reads the context and returns findings: it never reads
files, the network or the clock itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from credaudit.analysis.budget import Budget
from credaudit.model import ChainEntry, Observation
from credaudit.target import Target

RULE_GROUPS: tuple[str, ...] = (
    "credaudit.analysis.source_rules",  # CA702, CA701: the sources themselves
    "credaudit.analysis.chain_rules",  # CA401, CA403, CA404
    "credaudit.analysis.lifetime_rules",  # CA101-CA108, CA201, CA202
    "credaudit.analysis.endpoint_rules",  # CA501-CA505 (network sources)
    "credaudit.analysis.clock_rules",  # CA601
)


@dataclass(frozen=True)
class ScanContext:
    target: Target
    budget: Budget
    observations: list[Observation]
    chain: list[ChainEntry]
    # Observations the chain resolved per profile (the winner, with its evidence attached).
    winners: dict[str, Observation] = field(default_factory=dict)
    # A measured clock offset (local - reference), when the clock was checked.
    clock_offset: timedelta | None = None
    clock_uncertainty: timedelta | None = None

    @property
    def now(self) -> datetime:
        return self.target.clock.now()

    def by_source(self, *sources: str) -> list[Observation]:
        return [o for o in self.observations if o.source in sources]
