"""Hosts' summaries from a Prometheus server's HTTP API (``credaudit fleet --prometheus URL``):
the same series ``credaudit serve`` and ``scan --format prometheus`` export, as the server
last saw them.

Every query is ``last_over_time(…[lookback])``, so a host that stopped reporting still shows
with its last scan instant (and CA953 says so) instead of vanishing.  A host is the value of
the ``host_label`` target label (``instance`` when a series has none).  Requests go through
the bounded HTTP client of the probes: one deadline, a size cap, no redirects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from credaudit.fleet.hosts import MAX_SECONDS, host_group
from credaudit.fleet.model import HostCredential, HostSummary
from credaudit.sources.http_probe import Deadline, ProbeError, public_url, request

MAX_ANSWER = 64 * 1024 * 1024


class PrometheusError(Exception):
    """The server could not be asked or did not answer a query: one line."""


def _query(base: str, expr: str, at: datetime, deadline: Deadline) -> list[dict[str, Any]]:
    url = f"{base.rstrip('/')}/api/v1/query?" + urlencode({"query": expr, "time": at.timestamp()})
    try:
        answer = request("GET", url, deadline, max_body=MAX_ANSWER)
    except ProbeError as exc:
        raise PrometheusError(f"--prometheus {public_url(base)}: {exc.detail}") from None
    result = parse_answer(answer.body)
    if result is None:
        raise PrometheusError(
            f"--prometheus {public_url(base)}: the query failed (HTTP {answer.status})"
        )
    return result


def parse_answer(body: bytes) -> list[dict[str, Any]] | None:
    """The vector of a successful ``/api/v1/query`` answer; None for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("status") != "success":
        return None
    inner = data.get("data")
    result = inner.get("result") if isinstance(inner, dict) else None
    if not isinstance(result, list):
        return None
    return [item for item in result if isinstance(item, dict)]


def _samples(
    items: list[dict[str, Any]], host_label: str
) -> Iterator[tuple[str, dict[str, str], float]]:
    for item in items:
        labels = item.get("metric")
        value = item.get("value")
        if not isinstance(labels, dict) or not isinstance(value, list) or len(value) != 2:
            continue
        host = labels.get(host_label) or labels.get("instance")
        try:
            number = float(value[1])
        except (TypeError, ValueError):
            continue
        if abs(number) > MAX_SECONDS:  # no instant or offset this far out (year 5138)
            continue
        if host and not math.isnan(number):  # NaN is no instant
            yield str(host), {str(k): str(v) for k, v in labels.items()}, number


def hosts_from_prometheus(
    base: str,
    *,
    at: datetime,
    host_label: str = "host",
    lookback: timedelta = timedelta(days=1),
    timeout: float = 30.0,
) -> list[HostSummary]:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrometheusError(f"--prometheus {public_url(base)}: not an http(s) URL")
    deadline = Deadline(timeout)
    window = f"[{int(lookback.total_seconds())}s]"

    def ask(metric: str) -> Iterator[tuple[str, dict[str, str], float]]:
        return _samples(_query(base, f"last_over_time({metric}{window})", at, deadline), host_label)

    hosts: dict[str, HostSummary] = {}
    for host, labels, value in ask("credaudit_scan_timestamp_seconds"):
        reported = datetime.fromtimestamp(value, UTC)
        known = hosts.get(host)
        if known is None or reported > known.reported_at:
            origin = f"{public_url(base)} {labels.get('job', '')}/{labels.get('instance', '')}"
            hosts[host] = HostSummary(
                host=host, group=host_group(host), reported_at=reported, origin=origin
            )
    for host, labels, value in ask("credaudit_credential_expiry_timestamp_seconds"):
        if host in hosts:
            hosts[host].credentials.append(
                HostCredential(
                    profile=labels.get("profile") or None,
                    source=labels.get("source", ""),
                    origin=labels.get("origin", ""),
                    refreshable=labels.get("refreshable") == "true",
                    expires_at=datetime.fromtimestamp(value, UTC),
                )
            )
    for host, _labels, value in ask("credaudit_clock_offset_seconds"):
        if host in hosts:
            hosts[host].clock_offset_seconds = value
    for host, _labels, value in ask("credaudit_clock_uncertainty_seconds"):
        if host in hosts:
            hosts[host].clock_uncertainty_seconds = value
    return sorted(hosts.values(), key=lambda h: h.host)
