"""The scan loop behind ``credaudit serve``: scans in one background thread, publishes
immutable snapshots.

Scrapes never wait for a scan: the HTTP threads only read ``ScanLoop.snapshot``, a reference
swapped in one assignment once a scan is done, so a metadata endpoint that never answers
slows the next snapshot, never ``/metrics``.  One worker thread does every scan, so two never
overlap (enix/x509-certificate-exporter#255: overlapping slow collections ran a host out of
memory); a SIGHUP or a tick that arrives during a scan asks for one more scan after it, not a
second one beside it.

Expiry series stay after expiry (ssl_exporter#37, blackbox_exporter#423: an "expiring soon"
alert that resolves because the series vanished is the failure to avoid).  A scan keeps every
expired credential its source still holds; a credential whose source disappeared after it
expired (a cache file cleaned up, a container gone) is carried over from the previous snapshot
for ``RETAIN_EXPIRED`` after its expiry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from credaudit.errors import InputError
from credaudit.model import CredentialView, ScanReport

# The fixed reasons of credaudit_scan_errors_total: a scan that raised, a target that could not
# be built (the --pid process is gone, the --env-file unreadable), a credential source that
# could not be read (CA702), a metadata probe that failed, a clock check without an answer.
ERROR_REASONS = ("scan", "target", "source", "probe", "clock")
RETAIN_EXPIRED = timedelta(hours=24)


@dataclass(frozen=True)
class Snapshot:
    """What the exporter knows after its latest scan; never changed once published."""

    started: float  # Unix time the exporter started
    report: ScanReport | None = None  # the latest successful scan (with retained credentials)
    up: bool = False  # the latest scan produced a report
    last_success: float | None = None  # Unix time the latest successful scan finished
    last_finished: float | None = None  # Unix time the latest scan (of any outcome) finished
    duration: float | None = None  # seconds the latest scan took
    scans: int = 0
    errors: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_REASONS, 0))


def error_reasons(report: ScanReport, clock_wanted: bool) -> list[str]:
    """The error reasons a finished scan counts (it still produced a report)."""
    reasons = []
    if any(f.code == "CA702" for f in report.findings):
        reasons.append("source")
    if any(p.status == "failed" for p in report.probes):
        reasons.append("probe")
    if clock_wanted and report.clock is None:
        reasons.append("clock")
    return reasons


def _key(view: CredentialView) -> tuple[str | None, str, str]:
    return (view.profile, view.source, view.origin)


def retain_expired(previous: ScanReport | None, current: ScanReport) -> ScanReport:
    """``current`` plus the previous snapshot's expired credentials that vanished from it."""
    if previous is None:
        return current
    now = current.evaluated_at
    present = {_key(v) for v in current.credentials}
    kept = [
        view
        for view in previous.credentials
        if view.expires_at is not None
        and view.expires_at <= now
        and now - view.expires_at <= RETAIN_EXPIRED
        and _key(view) not in present
    ]
    if not kept:
        return current
    return replace(current, credentials=[*current.credentials, *kept])


class ScanLoop:
    """Runs ``scan`` at start-up and then every ``interval`` seconds, in one thread."""

    def __init__(
        self,
        scan: Callable[[], ScanReport],
        interval: float,
        *,
        clock_wanted: bool = False,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._scan = scan
        self.interval = interval
        self._clock_wanted = clock_wanted
        self._wall = wall
        self._monotonic = monotonic
        self._log = log or (lambda _line: None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._scanning = threading.Lock()
        self._thread: threading.Thread | None = None
        self.snapshot = Snapshot(started=wall())

    def run_once(self) -> Snapshot:
        """One scan, published as the new snapshot (callers never overlap: a lock holds
        a second caller until the first is done)."""
        with self._scanning:
            previous = self.snapshot
            begun = self._monotonic()
            reasons: list[str] = []
            report: ScanReport | None = None
            try:
                report = self._scan()
            except InputError as exc:
                reasons.append("target")
                self._log(f"credaudit serve: scan failed: {exc}")
            except Exception as exc:  # the loop outlives one bad scan; the reason is counted
                reasons.append("scan")
                self._log(f"credaudit serve: scan failed: internal error {type(exc).__name__}")
            duration = self._monotonic() - begun
            finished = self._wall()
            if report is not None:
                reasons += error_reasons(report, self._clock_wanted)
                report = retain_expired(previous.report, report)
            errors = dict(previous.errors)
            for reason in reasons:
                errors[reason] = errors.get(reason, 0) + 1
            self.snapshot = Snapshot(
                started=previous.started,
                report=report if report is not None else previous.report,
                up=report is not None,
                last_success=finished if report is not None else previous.last_success,
                last_finished=finished,
                duration=duration,
                scans=previous.scans + 1,
                errors=errors,
            )
            return self.snapshot

    def _run(self) -> None:
        while not self._stopping.is_set():
            begun = self._monotonic()
            self.run_once()
            self._wake.wait(max(0.0, self.interval - (self._monotonic() - begun)))
            self._wake.clear()

    def start(self) -> None:
        """Start the worker thread; its first scan begins at once."""
        self._thread = threading.Thread(target=self._run, name="credaudit-scan", daemon=True)
        self._thread.start()

    def trigger(self) -> None:
        """Scan now (SIGHUP): ends the current wait, or queues one scan after a running one."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop and wait up to ``timeout`` for a running scan to end."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def health(self) -> tuple[bool, str]:
        """``/healthz``: healthy while the scan thread runs and has finished a scan within
        three intervals (or is still in its first).  A wedged loop is worth a restart; a scan
        that reports errors is not (``credaudit_up`` says so), so it does not fail this."""
        snap = self.snapshot
        if not self.alive():
            return False, "scan loop stopped\n"
        since = snap.last_finished if snap.last_finished is not None else snap.started
        idle = self._wall() - since
        if idle > 3 * self.interval + 60:
            return False, f"no scan finished for {idle:.0f}s\n"
        return True, f"ok: {snap.scans} scans, up={int(snap.up)}\n"
