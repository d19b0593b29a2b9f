"""The scan pipeline as a library call: Target → sources → chain → rule groups → ScanReport.

``run_scan`` is what ``credaudit scan`` and ``credaudit require`` call; it reads nothing the
Target does not name and returns plain data.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from credaudit.analysis.budget import Budget
from credaudit.analysis.context import RULE_GROUPS, ScanContext
from credaudit.analysis.rules import sort_findings
from credaudit.chain import CHAIN_ORDER, resolve
from credaudit.model import (
    ChainEntry,
    ClockReading,
    CredentialView,
    Finding,
    Observation,
    ProbeStatus,
    ScanReport,
    Severity,
    Summary,
)
from credaudit.sources import awsconfig, collect_all
from credaudit.target import Target

Evaluator = Callable[[ScanContext], list[Finding]]


def profiles_to_resolve(target: Target, known: list[str]) -> list[awsconfig.ProfileChoice]:
    """The profile the process would use, plus every other one with --all-profiles."""
    selected = awsconfig.selected_profile(target)
    wanted = [selected]
    if target.all_profiles:
        wanted += [
            awsconfig.ProfileChoice(name, explicit=True, named=True)
            for name in sorted(known)
            if name != selected.name
        ]
    return wanted


def _rule_groups() -> list[Evaluator]:
    groups: list[Evaluator] = []
    for name in RULE_GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        groups.append(module.evaluate)
    return groups


def _credential_views(ctx: ScanContext, chain: list[ChainEntry]) -> list[CredentialView]:
    """One row per resolved credential, plus key-holding sources that lost the chain."""
    views: list[CredentialView] = []
    shown: set[str] = set()

    def view(obs: Observation, profile: str | None) -> CredentialView:
        remaining = (
            int((obs.expires_at - ctx.now).total_seconds()) if obs.expires_at is not None else None
        )
        role = obs.details.get("role_arn") or obs.details.get("assumed_role_arn")
        return CredentialView(
            profile=profile,
            source=obs.source,
            origin=obs.origin,
            access_key_id=obs.access_key_masked,
            account_id=obs.account_id,
            kind=obs.key_kind,
            expires_at=obs.expires_at,
            remaining_seconds=remaining,
            refreshable=obs.refreshable,
            role_arn=str(role) if role else None,
            budget_seconds=int(ctx.budget.horizon.total_seconds()),
        )

    for entry in chain:
        winner = ctx.winners.get(entry.profile)
        if winner is not None:
            views.append(view(winner, entry.profile))
            shown.add(winner.origin)
    for obs in ctx.observations:
        if obs.source in CHAIN_ORDER and obs.access_key_id and obs.origin not in shown:
            shown.add(obs.origin)
            views.append(view(obs, obs.profile))
    return views


def summarize(findings: list[Finding], credentials: int, fail_on: Severity) -> Summary:
    counts = Counter(f.severity.value for f in findings)
    highest = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return Summary(
        credentials=credentials,
        findings=len(findings),
        by_severity={s.value: counts.get(s.value, 0) for s in Severity},
        highest=highest,
        fail_on=fail_on,
        failed=any(f.severity.at_least(fail_on) for f in findings),
    )


def run_scan(
    target: Target,
    budget: Budget,
    *,
    fail_on: Severity = Severity.HIGH,
    clock_offset: timedelta | None = None,
    clock_uncertainty: timedelta | None = None,
) -> ScanReport:
    observations = collect_all(target)
    known = list(awsconfig.load(target).profiles)
    chain, winners = resolve(observations, profiles_to_resolve(target, known), known)
    effective = budget.with_skew(clock_offset) if clock_offset is not None else budget
    ctx = ScanContext(
        target=target,
        budget=effective,
        observations=observations,
        chain=chain,
        winners=winners,
        clock_offset=clock_offset,
        clock_uncertainty=clock_uncertainty,
    )
    findings: list[Finding] = []
    for evaluate in _rule_groups():
        findings.extend(evaluate(ctx))
    findings = sort_findings(_dedupe(findings))
    credentials = _credential_views(ctx, chain)
    return ScanReport(
        evaluated_at=target.clock.now(),
        target=target.describe(),
        budget=effective.view(),
        credentials=credentials,
        chain=chain,
        findings=findings,
        probes=_probes(observations),
        summary=summarize(findings, len(credentials), fail_on),
        host=target.host,
        clock=_clock_reading(clock_offset, clock_uncertainty),
    )


def _clock_reading(offset: timedelta | None, uncertainty: timedelta | None) -> ClockReading | None:
    if offset is None:
        return None
    spread = uncertainty.total_seconds() if uncertainty is not None else 0.0
    return ClockReading(
        offset_seconds=round(offset.total_seconds(), 3), uncertainty_seconds=round(spread, 3)
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.code, finding.subject, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _probes(observations: list[Observation]) -> list[ProbeStatus]:
    try:
        from credaudit.sources.http_probe import probe_statuses
    except ModuleNotFoundError:
        return []
    return probe_statuses(observations)
