"""elasticsearch.yml, as far as the token service goes (reference §4).

The file accepts dotted and nested keys alike (``xpack.security.authc.token.timeout: 20m``
or the same under ``xpack: security: …``), so it is read with a YAML library and flattened.
The token service is on when ``xpack.security.authc.token.enabled`` says so, and otherwise
only when TLS is on for the HTTP layer; its ``timeout`` defaults to 20 minutes and must lie
between 1 s and 1 h, or the node refuses to start.  A setting read here never carries a
secret, but a keystore-style value in the file might: nothing but the settings named below is
ever echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import make_finding
from credaudit.durations import format_duration
from credaudit.model import Finding, Location
from credaudit.tokens.model import TokenServiceView

ENABLED = "xpack.security.authc.token.enabled"
TIMEOUT = "xpack.security.authc.token.timeout"
HTTP_SSL = "xpack.security.http.ssl.enabled"
SECURITY = "xpack.security.enabled"
DEFAULT_TIMEOUT = timedelta(minutes=20)
MIN_TIMEOUT, MAX_TIMEOUT = timedelta(seconds=1), timedelta(hours=1)
_TIME = re.compile(r"(\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)")
_UNITS = {
    "nanos": 1e-9,
    "micros": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
}


@dataclass(frozen=True)
class SettingsAudit:
    view: TokenServiceView | None
    findings: list[Finding]


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "a.c": 2}`` → ``{"a.b": 1, "a.c": 2}``."""
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for key, value in doc.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(flatten(value, name))
            else:
                out[name] = value
    return out


def es_time(value: object) -> timedelta | None:
    """An Elasticsearch time value (``20m``, ``500ms``, ``1h``); None when it is not one
    (a bare number has no unit, and Elasticsearch refuses it)."""
    match = _TIME.fullmatch(str(value).strip()) if not isinstance(value, bool) else None
    if match is None:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def audit_settings(data: bytes, path: str, budget: Budget) -> SettingsAudit:
    """The token service's state and its findings; an unreadable file is one CA702-like
    input error (raised as ``ValueError`` with the reason) — the caller names the file."""
    import yaml

    try:
        doc = yaml.safe_load(data.decode("utf-8")) if data.strip() else {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"not valid YAML{where}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ValueError("not a YAML mapping of settings")
    settings = flatten(doc)
    loc = Location(path=path)
    subject = f"settings {path}"
    findings: list[Finding] = []
    security = _bool(settings.get(SECURITY))
    ssl = _bool(settings.get(HTTP_SSL))
    explicit = _bool(settings.get(ENABLED))
    if explicit is not None:
        enabled, enabled_by = explicit, "explicit"
    else:
        enabled = ssl is True
        enabled_by = "default (TLS on the HTTP layer)" if enabled else "default (no HTTP TLS)"

    def add(code: str, message: str) -> None:
        findings.append(make_finding(code, subject=subject, message=message, location=loc))

    if security is False:
        add("CA811", f"{SECURITY}: false — no realm runs, and no token service with it")
    elif explicit is False:
        add("CA811", f"{ENABLED}: false — bearer tokens get 401")
    elif explicit is None and not enabled:
        add(
            "CA811",
            f"{ENABLED} is not set and {HTTP_SSL} is not true: the token service is off "
            "by default without TLS on the HTTP layer",
        )
    elif explicit is True and ssl is not True:
        add(
            "CA811",
            f"{ENABLED}: true without {HTTP_SSL}: true — a production-mode node fails its "
            "bootstrap check and does not start",
        )
    raw_timeout = settings.get(TIMEOUT)
    timeout = DEFAULT_TIMEOUT if raw_timeout is None else es_time(raw_timeout)
    if raw_timeout is not None and timeout is None:
        add(
            "CA810",
            f"{TIMEOUT}: {str(raw_timeout)[:40]!r} is not a time value: the node refuses to start",
        )
    elif timeout is not None and not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        add(
            "CA810",
            f"{TIMEOUT}: {raw_timeout} is outside 1s..1h: the node refuses to start",
        )
    elif timeout is not None and timeout < budget.horizon and enabled:
        add(
            "CA810",
            f"tokens live {format_duration(timeout)} ({TIMEOUT}"
            f"{'' if raw_timeout is not None else ', default'}), but the work needs "
            f"{format_duration(budget.horizon)}: a token taken at the start dies mid-run",
        )
    view = TokenServiceView(
        path=path,
        security_enabled=security,
        http_ssl_enabled=ssl,
        token_service_enabled=enabled and security is not False,
        enabled_by=enabled_by,
        timeout_seconds=int(timeout.total_seconds()) if timeout is not None else None,
        timeout_setting=str(raw_timeout) if raw_timeout is not None else None,
    )
    return SettingsAudit(view, findings)
