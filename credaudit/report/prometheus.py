"""``--format prometheus``: the scan as Prometheus metrics, for node_exporter's textfile
collector (or any scrape that serves the file).

A fleet already has Prometheus and its alerting; credaudit writes one file per host and lets
the alert rules in ``deploy/prometheus/credaudit-alerts.yml`` do the rest.  Expiries are
exported as Unix timestamps, not as "seconds remaining": a textfile is read long after it was
written, and ``expiry - time()`` stays right between runs where a remaining-seconds gauge
would be stale the moment it was written.  Labels carry only what is stable and not secret:
profile, botocore source, origin, key kind, account.  Never the key id itself (it changes
with every session, which would churn series) and never a path's contents.

The text is produced by prometheus-client's own exposition code, so escaping and format
follow the client library rather than hand-written string handling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric

from credaudit import __version__
from credaudit.model import CredentialView, ScanReport
from credaudit.report.json import escape_surrogates

CREDENTIAL_LABELS = ["profile", "source", "origin", "kind", "refreshable", "account_id"]


def credential_labels(view: CredentialView) -> list[str]:
    return [
        view.profile or "",
        view.source,
        view.origin,
        view.kind.value,
        "true" if view.refreshable else "false",
        view.account_id or "",
    ]


def build_info() -> InfoMetricFamily:
    build = InfoMetricFamily("credaudit_build", "The credaudit version that wrote this.")
    build.add_metric([], {"version": __version__})
    return build


class ScanCollector:
    """Yields the metric families of one report (`credaudit serve` reuses it per snapshot)."""

    def __init__(self, report: ScanReport) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        report = self.report
        yield build_info()

        yield _evaluated(report, "this host")

        yield gate_metric(report)

        info = GaugeMetricFamily(
            "credaudit_credential_info",
            "One series per credential credaudit found; the value is always 1.",
            labels=CREDENTIAL_LABELS,
        )
        expiry = GaugeMetricFamily(
            "credaudit_credential_expiry_timestamp_seconds",
            "When the credential expires (Unix time), where its expiry is known.",
            labels=CREDENTIAL_LABELS,
        )
        required = GaugeMetricFamily(
            "credaudit_credential_required_lifetime_seconds",
            "How long a credential must still live when work starts, for the budget "
            "(run time + signing delay + queue dwell + retries + skew, at least min remaining).",
            labels=CREDENTIAL_LABELS,
        )
        need = float(report.budget.required_seconds())
        for view in report.credentials:
            labels = credential_labels(view)
            info.add_metric(labels, 1.0)
            if view.expires_at is not None:
                expiry.add_metric(labels, view.expires_at.timestamp())
                required.add_metric(labels, need)
        yield info
        yield expiry
        yield required

        chain = GaugeMetricFamily(
            "credaudit_chain_resolved",
            '1 for the source botocore would use for each profile; 0 with source="none" '
            "when it would find no credentials.",
            labels=["profile", "source"],
        )
        for entry in report.chain:
            if entry.resolved is not None:
                chain.add_metric([entry.profile, entry.resolved.source], 1.0)
            else:
                chain.add_metric([entry.profile, "none"], 0.0)
        yield chain

        yield findings_metric(report)

        probes = GaugeMetricFamily(
            "credaudit_probe_status",
            "What each network probe did: 1 for its status (ran, skipped or failed).",
            labels=["probe", "status"],
        )
        for probe in report.probes:
            probes.add_metric([probe.name, probe.status], 1.0)
        yield probes

    def describe(self) -> list[Any]:
        return []  # no registration-time collect: the report is rendered once


def _evaluated(report: Any, what: str) -> GaugeMetricFamily:
    when = GaugeMetricFamily(
        "credaudit_scan_timestamp_seconds",
        f"When credaudit evaluated {what} (Unix time; the --at instant if given).",
    )
    when.add_metric([], report.evaluated_at.timestamp())
    return when


def gate_metric(report: Any, name: str = "credaudit_scan_failed") -> GaugeMetricFamily:
    """The gate's verdict: 1 when a finding reached --fail-on, else 0 (every report kind)."""
    failed = GaugeMetricFamily(
        name,
        "1 when a finding reached --fail-on (the gate would fail), else 0.",
        labels=["fail_on"],
    )
    failed.add_metric([report.summary.fail_on.value], 1.0 if report.summary.failed else 0.0)
    return failed


def findings_metric(report: Any) -> GaugeMetricFamily:
    findings = GaugeMetricFamily(
        "credaudit_findings",
        "Findings by code, severity and profile (see `credaudit explain CODE`).",
        labels=["code", "severity", "profile"],
    )
    counts = Counter((f.code, f.severity.value, f.profile or "") for f in report.findings)
    for (code, severity, profile), count in sorted(counts.items()):
        findings.add_metric([code, severity, profile], float(count))
    return findings


URL_LABELS = ["service", "region", "key_kind", "status"]


class UrlCollector:
    """``url --format prometheus``: URLs grouped by service, region, key kind and status.

    A URL is unbounded text and a run may hold a million, so no URL is a label: each group
    exports how many URLs it holds and the earliest real expiry among them (the URL's own
    expiry or its signing session's, whichever comes first).
    """

    def __init__(self, report: Any) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        report = self.report
        yield build_info()
        yield _evaluated(report, "the URLs")
        count = GaugeMetricFamily(
            "credaudit_urls", "Presigned URLs checked, by group.", labels=URL_LABELS
        )
        earliest = GaugeMetricFamily(
            "credaudit_url_expiry_timestamp_seconds",
            "The earliest real expiry in the group (Unix time): the URL's X-Amz-Expires or its "
            "signing session's expiry, whichever comes first.",
            labels=URL_LABELS,
        )
        counts: Counter[tuple[str, str, str, str]] = Counter()
        soonest: dict[tuple[str, str, str, str], float] = {}
        for url in report.urls:
            key = (url.service or "", url.region or "", url.key_kind.value, url.status)
            counts[key] += 1
            if url.effective_expires_at is not None:
                at = url.effective_expires_at.timestamp()
                soonest[key] = min(at, soonest.get(key, at))
        for key, number in sorted(counts.items()):
            count.add_metric(list(key), float(number))
            if key in soonest:
                earliest.add_metric(list(key), soonest[key])
        yield count
        yield earliest
        yield findings_metric(report)


class CheckCollector:
    """``check --format prometheus``: each policy workload's credential, as a session minted
    at the check's instant would live (workload names come from the policy file: bounded)."""

    def __init__(self, report: Any) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        report = self.report
        yield build_info()
        yield _evaluated(report, "the policy")
        labels = ["workload", "source", "refreshable"]
        expiry = GaugeMetricFamily(
            "credaudit_workload_expiry_timestamp_seconds",
            "When a session the workload gets at the check's instant expires (Unix time), "
            "where its lifetime is known.",
            labels=labels,
        )
        required = GaugeMetricFamily(
            "credaudit_workload_required_lifetime_seconds",
            "How long the workload's credential must live when its work starts, for its budget.",
            labels=labels,
        )
        at = report.evaluated_at.timestamp()
        for workload in report.workloads:
            values = [workload.name, workload.source, "true" if workload.refreshable else "false"]
            if workload.session_seconds is not None:
                expiry.add_metric(values, at + workload.session_seconds)
            required.add_metric(values, float(workload.budget.required_seconds()))
        yield expiry
        yield required
        yield gate_metric(report)
        yield findings_metric(report)


def render(report: Any) -> str:
    """The exposition of a scan, url, check or token report (by its ``kind``)."""
    collector: UrlCollector | CheckCollector | ScanCollector | TokenCollector
    if report.kind == "token":
        from credaudit.report.prometheus_token import TokenCollector

        collector = TokenCollector(report)
    elif report.kind == "url":
        collector = UrlCollector(report)
    elif report.kind == "check":
        collector = CheckCollector(report)
    else:
        collector = ScanCollector(report)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Escaped(collector))
    return generate_latest(registry).decode("utf-8")


def escaped_labels(metrics: Iterable[Metric]) -> Iterator[Metric]:
    """The metrics with every label value as ``escape_surrogates`` writes it: a lone
    surrogate (a claim's JSON escape, command-line bytes that are not UTF-8 in a profile
    name) would fail the exposition's UTF-8 encoding.  ``--format prometheus`` and
    ``credaudit serve`` both pass their families through here."""
    for metric in metrics:
        metric.samples = [
            sample._replace(
                labels={name: escape_surrogates(value) for name, value in sample.labels.items()}
            )
            for sample in metric.samples
        ]
        yield metric


class _Escaped:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def collect(self) -> Iterator[Metric]:
        return escaped_labels(self.inner.collect())
