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
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric

from credaudit import __version__
from credaudit.model import CredentialView, ScanReport

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

        when = GaugeMetricFamily(
            "credaudit_scan_timestamp_seconds",
            "When credaudit evaluated this host (Unix time; the --at instant if given).",
        )
        when.add_metric([], report.evaluated_at.timestamp())
        yield when

        failed = GaugeMetricFamily(
            "credaudit_scan_failed",
            "1 when a finding reached --fail-on (the gate would fail), else 0.",
            labels=["fail_on"],
        )
        failed.add_metric([report.summary.fail_on.value], 1.0 if report.summary.failed else 0.0)
        yield failed

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

        findings = GaugeMetricFamily(
            "credaudit_findings",
            "Findings of the scan by code, severity and profile (see `credaudit explain CODE`).",
            labels=["code", "severity", "profile"],
        )
        counts = Counter((f.code, f.severity.value, f.profile or "") for f in report.findings)
        for (code, severity, profile), count in sorted(counts.items()):
            findings.add_metric([code, severity, profile], float(count))
        yield findings

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


def render(report: ScanReport) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScanCollector(report))
    return generate_latest(registry).decode("utf-8")
