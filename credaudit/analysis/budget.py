"""The time budget work needs from a credential, and the arithmetic held against it.

All spans are timedeltas.  The budget comes from CLI flags or a policy file; the analysis
asks it one question per rule: how long must a credential live from now for this work to
finish, and how long must it live after it signs a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from credaudit.durations import whole_seconds
from credaudit.model import BudgetView

# botocore credentials.py: RefreshableCredentials windows (reference §2).
ADVISORY_REFRESH = timedelta(seconds=900)
MANDATORY_REFRESH = timedelta(seconds=600)
# botocore CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS
CACHE_EXPIRY_WINDOW = timedelta(seconds=900)


@dataclass(frozen=True)
class Budget:
    run_time: timedelta = timedelta(0)
    queue_dwell: timedelta = timedelta(0)
    signing_delay: timedelta = timedelta(0)
    retry_budget: timedelta = timedelta(0)
    url_ttl: timedelta = timedelta(0)
    min_remaining: timedelta = timedelta(minutes=15)
    skew_margin: timedelta = timedelta(0)

    @property
    def dispatch(self) -> timedelta:
        """Time from getting credentials to the last send of a signed request."""
        return self.signing_delay + self.queue_dwell + self.retry_budget

    @property
    def horizon(self) -> timedelta:
        """How long from now a non-refreshable credential must stay valid.

        The run keeps using the credential for ``run_time``; the last request it signs may
        still wait ``dispatch`` before AWS sees it; the clock may be ``skew_margin`` off.
        """
        return self.run_time + self.dispatch + self.skew_margin

    def with_skew(self, measured: timedelta) -> Budget:
        """The budget with a measured clock offset added to the margin."""
        return Budget(
            self.run_time,
            self.queue_dwell,
            self.signing_delay,
            self.retry_budget,
            self.url_ttl,
            self.min_remaining,
            self.skew_margin + abs(measured),
        )

    def view(self) -> BudgetView:
        s = whole_seconds
        return BudgetView(
            run_time=s(self.run_time),
            queue_dwell=s(self.queue_dwell),
            signing_delay=s(self.signing_delay),
            retry_budget=s(self.retry_budget),
            url_ttl=s(self.url_ttl),
            min_remaining=s(self.min_remaining),
            skew_margin=s(self.skew_margin),
        )
