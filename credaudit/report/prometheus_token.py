"""``credaudit token --format prometheus``: tokens' expiries as metrics, for the textfile
collector, in the shape of the scan's metrics (``report/prometheus.py``).

Expiries are Unix timestamps for the same reason as there: the file is read long after it
was written.  Labels carry what is stable and not secret — where the token was found, its
kind, its issuer — never its fingerprint (a new token every hour would churn series) and
never the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from credaudit.report.prometheus import build_info, findings_metric, gate_metric
from credaudit.tokens.model import TokenReport

TOKEN_LABELS = ["found_in", "kind", "issuer"]


class TokenCollector:
    def __init__(self, report: TokenReport) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        report = self.report
        yield build_info()
        when = GaugeMetricFamily(
            "credaudit_token_check_timestamp_seconds",
            "When credaudit evaluated these tokens (Unix time; the --at instant if given).",
        )
        when.add_metric([], report.evaluated_at.timestamp())
        yield when
        yield gate_metric(report, "credaudit_token_check_failed")
        status = GaugeMetricFamily(
            "credaudit_token_status",
            "One series per token found, labelled with its status; the value is always 1.",
            labels=[*TOKEN_LABELS, "status"],
        )
        expiry = GaugeMetricFamily(
            "credaudit_token_expiry_timestamp_seconds",
            "When the token expires (Unix time), where its expiry is known.",
            labels=TOKEN_LABELS,
        )
        required = GaugeMetricFamily(
            "credaudit_token_required_lifetime_seconds",
            "How long a token must still live when work starts, for the budget.",
        )
        required.add_metric([], float(report.budget.required_seconds()))
        signature = GaugeMetricFamily(
            "credaudit_token_signature_valid",
            "1 when the signature verified with the operator's keys, 0 when it did not; "
            "absent when not checked.",
            labels=TOKEN_LABELS,
        )
        for record in report.tokens:
            if record.kind is None:
                continue
            # A claim is attacker-controlled text: a lone surrogate in it is escaped with every
            # label by prometheus.render (the exposition is UTF-8).
            labels = [record.found_in, record.kind, record.iss or ""]
            status.add_metric([*labels, record.status], 1.0)
            if record.expires_at is not None:
                expiry.add_metric(labels, record.expires_at.timestamp())
            if record.signature_valid is not None:
                signature.add_metric(labels, 1.0 if record.signature_valid else 0.0)
        yield status
        yield expiry
        yield required
        yield signature
        service = GaugeMetricFamily(
            "credaudit_token_service_enabled",
            "1 when elasticsearch.yml leaves the token service on, else 0.",
            labels=["path"],
        )
        timeout = GaugeMetricFamily(
            "credaudit_token_service_timeout_seconds",
            "The token service's access-token lifetime (xpack.security.authc.token.timeout).",
            labels=["path"],
        )
        for svc in report.token_services:
            service.add_metric([svc.path], 1.0 if svc.token_service_enabled else 0.0)
            if svc.timeout_seconds is not None:
                timeout.add_metric([svc.path], float(svc.timeout_seconds))
        yield service
        yield timeout
        yield findings_metric(report)  # the same family, labels and help as scan's

    def describe(self) -> list[Any]:
        return []
