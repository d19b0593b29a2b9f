"""The human table for ``credaudit token``: one row per token with its remaining-life bar
against the budget, then the settings audited and the findings.

Tokens appear as fingerprint and masked form only: the records hold nothing more.
"""

from __future__ import annotations

from tabulate import tabulate

from credaudit.durations import format_duration
from credaudit.report.table import life_bar
from credaudit.tokens.model import TokenRecord, TokenReport


def _signature(row: TokenRecord) -> str:
    if row.signature_valid is None:
        return "not checked" if row.kind == "jwt" else "-"
    return "ok" if row.signature_valid else "INVALID"


def _header(row: TokenRecord) -> str:
    if row.header_valid is None:
        return "-"
    return "ok" if row.header_valid else "BAD"


def _expires(row: TokenRecord) -> str:
    return row.expires_at.strftime("%Y-%m-%d %H:%M:%SZ") if row.expires_at else "-"


def render(report: TokenReport, color: bool = False) -> str:
    need = report.budget.required_seconds()
    shown = [r for r in report.tokens if r.kind is not None or r.findings]
    rows = [
        [
            r.found_in,
            r.kind or "-",
            r.masked or "-",
            r.algorithm or "-",
            r.status,
            _expires(r),
            life_bar(r.remaining_seconds, need, False, color)
            if r.remaining_seconds is not None
            else ("never expires" if r.kind == "jwt" and r.expires_at is None else "unknown"),
            _signature(r),
            _header(r),
            ",".join(f.code for f in r.findings) or "-",
        ]
        for r in shown
    ]
    out = []
    if rows:
        out.append(
            tabulate(
                rows,
                headers=[
                    "found in",
                    "kind",
                    "token",
                    "alg",
                    "status",
                    "expires",
                    "remaining vs budget",
                    "signature",
                    "header",
                    "findings",
                ],
                tablefmt="simple",
            )
        )
    for svc in report.token_services:
        timeout = format_duration(svc.timeout_seconds) if svc.timeout_seconds is not None else "?"
        state = "on" if svc.token_service_enabled else "off"
        out.append(
            f"\nElasticsearch token service ({svc.path}): {state}, {svc.enabled_by}; "
            f"tokens live {timeout}{'' if svc.timeout_setting else ' (default)'}"
        )
    if report.keys == "none" and any(r.kind == "jwt" for r in report.tokens):
        out.append(
            "\nSignatures were NOT checked: name keys with --jwks, --public-key, --secret-env "
            "or --issuer --online."
        )
    details = [
        f"  {f.subject}: {f.code} {f.severity.value}: {f.title} — {f.message}"
        for f in report.findings
    ]
    if details:
        out.append("\nFindings:\n" + "\n".join(details))
    s = report.summary
    statuses = ", ".join(f"{n} {k}" for k, n in sorted(s.by_status.items()) if k != "none")
    out.append(
        f"\n{s.tokens} token(s): {statuses or 'none'}; {s.findings} finding(s)"
        + (f", highest {s.highest.value}" if s.highest else "")
        + f"; budget {format_duration(need)}"
    )
    return "\n".join(out).lstrip("\n") + "\n"
