"""The human table for ``credaudit url``: one row per URL, then its findings.

Keys appear masked and URLs only as host and a shortened path: the full (elided) URL is in
the JSON forms.  Nothing here can print a token or a signature, because the result objects
do not hold them.
"""

from __future__ import annotations

from tabulate import tabulate

from credaudit.durations import format_duration
from credaudit.presign.model import UrlReport, UrlResult

PATH_WIDTH = 40


def _where(row: UrlResult) -> str:
    if row.url is None:
        return "-"
    rest = row.url.split("://", 1)[-1]
    short = rest.split("?", 1)[0]
    return short if len(short) <= PATH_WIDTH else short[: PATH_WIDTH - 1] + "…"


def _remaining(row: UrlResult) -> str:
    if row.remaining_seconds is None:
        return "-"
    if row.remaining_seconds <= 0:
        return f"expired {format_duration(-row.remaining_seconds)} ago"
    return format_duration(row.remaining_seconds)


def _signature(row: UrlResult) -> str:
    if row.signature_valid is None:
        return "-"
    if row.signature_valid:
        return f"ok ({row.signed_method})" if row.signed_method else "ok"
    return "MISMATCH"


def render(report: UrlReport, color: bool = False) -> str:
    rows = [
        [
            r.line if r.line is not None else i + 1,
            _where(r),
            r.access_key_id or "-",
            r.key_kind.value,
            r.account_id or "-",
            "/".join(p for p in (r.service, r.region) if p) or "-",
            r.status,
            _remaining(r),
            r.effective_expires_at.strftime("%Y-%m-%d %H:%M:%SZ")
            if r.effective_expires_at
            else "-",
            _signature(r),
            ",".join(f.code for f in r.findings) or "-",
        ]
        for i, r in enumerate(report.urls)
    ]
    out = [
        tabulate(
            rows,
            headers=[
                "#",
                "url",
                "key",
                "kind",
                "account",
                "service",
                "status",
                "remaining",
                "works until",
                "signature",
                "findings",
            ],
            tablefmt="simple",
        )
    ]
    details = []
    for i, r in enumerate(report.urls):
        for f in r.findings:
            number = r.line if r.line is not None else i + 1
            details.append(f"  #{number} {f.code} {f.severity.value}: {f.title} — {f.message}")
    if details:
        out.append("\nFindings:\n" + "\n".join(details))
    s = report.summary
    statuses = ", ".join(f"{n} {k}" for k, n in sorted(s.by_status.items()))
    out.append(
        f"\n{s.urls} URL(s): {statuses or 'none'}; {s.findings} finding(s)"
        + (f", highest {s.highest.value}" if s.highest else "")
    )
    return "\n".join(out) + "\n"
