"""CA951–CA953 over hosts' summaries: expiry clusters, clock skew, silent hosts.

A host's credential is an event at the instant the fleet feels it: a static credential at its
expiry (requests fail with ExpiredToken), a refreshable one at botocore's advisory refresh, 15
minutes before expiry (``_DEFAULT_ADVISORY_REFRESH_TIMEOUT``: every process of every host asks
STS, SSO or the metadata service at once).  A cluster is a ``window`` holding events of at
least ``min_hosts`` distinct hosts; the sweep finds the window with the most hosts, reports it,
and looks again among the events left, so one spike is one finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from credaudit.analysis.clock_rules import severity_for
from credaudit.analysis.rules import make_finding, sort_findings
from credaudit.durations import format_duration
from credaudit.fleet.model import EventKind, ExpiryEvent, FleetReport, HostSummary
from credaudit.model import Finding, Severity, format_instant
from credaudit.scan import summarize

ADVISORY_REFRESH = timedelta(minutes=15)  # botocore credentials.py
MAX_NAMED_HOSTS = 20
JITTER_ADVICE = (
    "Refresh by remaining lifetime with jitter, as Go's aws.CredentialsCache does with "
    "ExpiryWindowJitterFrac (and the credaudit guard), and stagger when hosts mint their "
    "sessions (random start delays, systemd RandomizedDelaySec=), so the expiries spread out."
)


def events_of(hosts: Iterable[HostSummary], now: datetime) -> list[ExpiryEvent]:
    """Every future instant a host's credential expires or must refresh, in time order."""
    events = []
    for host in hosts:
        for credential in host.credentials:
            kind: EventKind = "refresh" if credential.refreshable else "expiry"
            early = ADVISORY_REFRESH if credential.refreshable else timedelta()
            at = credential.expires_at - early
            if at >= now:
                events.append(
                    ExpiryEvent(
                        host=host.host,
                        group=host.group,
                        at=at,
                        kind=kind,
                        source=credential.source,
                    )
                )
    return sorted(events, key=lambda e: (e.at, e.host))


def clusters(
    events: list[ExpiryEvent], window: timedelta, min_hosts: int
) -> list[list[ExpiryEvent]]:
    """Disjoint windows of at most ``window`` holding events of ≥ ``min_hosts`` hosts, the
    most crowded first."""
    left = list(events)
    found: list[list[ExpiryEvent]] = []
    while True:
        best: tuple[int, int, int] | None = None  # (hosts, start, end)
        end = 0
        for start in range(len(left)):
            end = max(end, start)
            while end + 1 < len(left) and left[end + 1].at - left[start].at <= window:
                end += 1
            count = len({e.host for e in left[start : end + 1]})
            if count >= min_hosts and (best is None or count > best[0]):
                best = (count, start, end)
        if best is None:
            return found
        _, start, end = best
        found.append(left[start : end + 1])
        del left[start : end + 1]


def _cluster_finding(group: list[ExpiryEvent], window: timedelta) -> Finding:
    hosts = sorted({e.host for e in group})
    first, last = group[0].at, group[-1].at
    kinds: list[str] = sorted({e.kind for e in group})
    what = {"expiry": "expire", "refresh": "must refresh"}.get(
        "+".join(kinds), "expire or must refresh"
    )
    named = ", ".join(hosts[:MAX_NAMED_HOSTS]) + (" …" if len(hosts) > MAX_NAMED_HOSTS else "")
    spread = int((last - first).total_seconds())
    message = (
        f"Credentials on {len(hosts)} hosts {what} within {format_duration(spread)} of "
        f"{format_instant(first)} (window {format_duration(int(window.total_seconds()))}): "
        f"{named}. "
        + (
            "Requests on all of them fail with ExpiredToken at once."
            if "expiry" in kinds
            else "Every host asks its credential provider for new sessions at once."
        )
    )
    return make_finding(
        "CA951",
        subject=f"{len(hosts)} hosts at {format_instant(first)}",
        message=message,
        severity=Severity.HIGH if "expiry" in kinds else Severity.MEDIUM,
        remediation=JITTER_ADVICE,
        details={
            "hosts": len(hosts),
            "host_names": ",".join(hosts),
            "instant": format_instant(first),
            "last_instant": format_instant(last),
            "spread_seconds": spread,
            "window_seconds": int(window.total_seconds()),
            "event": "+".join(kinds),
        },
    )


def _skew_finding(host: HostSummary, margin: timedelta) -> Finding | None:
    if host.clock_offset_seconds is None:
        return None
    offset = host.clock_offset_seconds
    uncertainty = host.clock_uncertainty_seconds or 0.0
    certain = timedelta(seconds=max(0.0, abs(offset) - uncertainty))
    severity = severity_for(certain, margin)
    if severity is None:
        return None
    side = "ahead" if offset > 0 else "behind"
    return make_finding(
        "CA952",
        subject=host.host,
        severity=severity,
        message=f"The clock of {host.host} is {abs(offset):.1f} s {side} (± {uncertainty:.1f} s; "
        f"skew margin {format_duration(int(margin.total_seconds()))}), measured "
        f"{format_instant(host.reported_at)}. SigV4 requests fail beyond 5 minutes.",
        details={
            "host": host.host,
            "offset_seconds": round(offset, 3),
            "uncertainty_seconds": round(uncertainty, 3),
            "margin_seconds": int(margin.total_seconds()),
        },
    )


def _silent_finding(host: HostSummary, now: datetime, silent_after: timedelta) -> Finding | None:
    age = now - host.reported_at
    if age <= silent_after:
        return None
    return make_finding(
        "CA953",
        subject=host.host,
        message=f"The latest report of {host.host} is from {format_instant(host.reported_at)}, "
        f"{format_duration(int(age.total_seconds()))} ago (allowed: "
        f"{format_duration(int(silent_after.total_seconds()))}): its audit, or the host, "
        "stopped. Its expiries here may be stale.",
        details={
            "host": host.host,
            "reported_at": format_instant(host.reported_at),
            "age_seconds": int(age.total_seconds()),
            "allowed_seconds": int(silent_after.total_seconds()),
        },
    )


def analyse(
    hosts: list[HostSummary],
    *,
    now: datetime,
    window: timedelta,
    min_hosts: int,
    skew_margin: timedelta,
    silent_after: timedelta,
    fail_on: Severity,
    inputs: list[str],
) -> FleetReport:
    events = events_of(hosts, now)
    findings = [_cluster_finding(group, window) for group in clusters(events, window, min_hosts)]
    for host in hosts:
        for finding in (_skew_finding(host, skew_margin), _silent_finding(host, now, silent_after)):
            if finding is not None:
                findings.append(finding)
    findings = sort_findings(findings)
    return FleetReport(
        evaluated_at=now,
        inputs=inputs,
        window_seconds=int(window.total_seconds()),
        min_hosts=min_hosts,
        hosts=hosts,
        events=events,
        findings=findings,
        summary=summarize(findings, sum(len(h.credentials) for h in hosts), fail_on),
    )
