"""A token's record and findings: its lifetime against the Budget, and what a server checks.

One function, ``judge``: a Candidate (what the reader found) becomes a TokenRecord (what
credaudit concludes).  The time rules follow RFC 7519: a token MUST NOT be accepted on or
after ``exp``, nor before ``nbf``; a future ``iat`` is clock skew (PyJWT ≥ 2.6 rejects it).
The skew margin stands for this host's own clock error: a token past ``exp`` by less than the
margin is reported as outliving the work (CA802), beyond it as expired (CA801).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from credaudit.analysis.budget import Budget
from credaudit.analysis.rules import view
from credaudit.durations import format_duration, whole_seconds
from credaudit.eks import EKS_TOKEN_PREFIX
from credaudit.model import FindingView, Severity, format_instant
from credaudit.tokens.header import B64TOKEN, api_key_id
from credaudit.tokens.jwt_segments import DecodedJwt, decode, looks_like_jwt
from credaudit.tokens.keys import KeySet, ignored_headers
from credaudit.tokens.model import TokenRecord
from credaudit.tokens.readers import Candidate

DEFAULT_MAX_LIFETIME = timedelta(hours=1)
# Elasticsearch: a refresh token works for 24 hours, once (reference §4).
ES_REFRESH_LIFETIME = timedelta(hours=24)
ES_SERVICE_TOKEN_PREFIX = "AAEAAWVsYXN0aWMv"  # noqa: S105 - a public prefix, 00 01 00 01 "elastic/"
_NOT_CHECKED = (
    "not checked: no keys named (--jwks, --public-key, --secret-env or --issuer --online)"
)


@dataclass(frozen=True)
class Expectations:
    """What the resource that receives the token expects (CA807)."""

    audience: tuple[str, ...] = ()
    issuer: str | None = None
    scopes: tuple[str, ...] = ()
    typ: str | None = None


@dataclass(frozen=True)
class Introspection:
    """An RFC 7662 answer, reduced to what feeds the record."""

    active: bool
    exp: float | None = None
    iat: float | None = None
    scope: str | None = None
    client_id: str | None = None
    error: str | None = None


@dataclass
class Context:
    now: datetime
    budget: Budget = field(default_factory=Budget)
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME
    keys: KeySet | None = None
    expect: Expectations = field(default_factory=Expectations)
    introspect: Callable[[str], Introspection] | None = None
    # Worked out once per run from the budget, not once per token.
    horizon: timedelta = field(init=False)
    required: timedelta = field(init=False)
    skewed_future: datetime = field(init=False)  # now + skew margin: later is clock skew
    skewed_past: datetime = field(init=False)  # now - skew margin: an exp before is expired
    work_ends: datetime = field(init=False)  # now + horizon
    max_lifetime_seconds: float = field(init=False)

    def __post_init__(self) -> None:
        self.horizon = self.budget.horizon
        self.required = timedelta(seconds=self.budget.view().required_seconds())
        skew = self.budget.skew_margin
        self.skewed_future, self.skewed_past = self.now + skew, self.now - skew
        self.work_ends = self.now + self.horizon
        self.max_lifetime_seconds = self.max_lifetime.total_seconds()


def fingerprint(token: str) -> str:
    # The first 6 bytes' hex is hexdigest()[:12], without hex-encoding the other 26.
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()[:6].hex()


def masked(token: str) -> str:
    """``eyJh…Qx9w (812 chars)``: enough to recognise, never enough to use."""
    if len(token) >= 24:
        return f"{token[:4]}…{token[-4:]} ({len(token)} chars)"
    return f"… ({len(token)} chars)"


def _instant(value: object) -> datetime | str:
    """A NumericDate as an instant; a string says why it is not one.  (The bulk path's claims
    try the plain-int case in ``_time_claim`` first and come here only when it fails.)"""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "is not a NumericDate"
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return "is out of range"


class _Judgement:
    """The findings and status of one record as they are worked out."""

    __slots__ = ("findings", "invalid", "now", "record")

    def __init__(self, record: TokenRecord, now: datetime) -> None:
        self.record = record
        self.now = now
        self.findings: list[FindingView] = []
        self.invalid = False

    def add(self, code: str, message: str, severity: Severity | None = None) -> None:
        self.findings.append(view(code, message, severity))


def judge(candidate: Candidate, ctx: Context) -> TokenRecord:
    """The record for one candidate; never raises for any input."""
    token = candidate.token
    record = TokenRecord(
        line=candidate.line,
        found_in=candidate.found_in,
        kind=None,
        fingerprint=fingerprint(token) if token else None,
        masked=masked(token) if token else None,
        location=candidate.location,
        key_id=candidate.key_id,
        notes=list(candidate.notes) if candidate.notes else [],
    )
    j = _Judgement(record, ctx.now)
    header = candidate.header
    if header is not None:
        record.header_valid = header.valid
        record.header_note = header.reason or None
        if not header.valid:
            j.add("CA805", f"Authorization header: {header.reason}")
    if candidate.blank:
        record.status = "none"
        record.notes.append(candidate.problem or "no token")
        return _finish(j)
    if token is None and candidate.kind_hint != "api-key":
        if header is None or header.valid:
            j.add("CA804", candidate.problem or "no token found")
        record.status = "invalid"
        return _finish(j)
    record.kind = _kind(candidate, token)
    decoded: DecodedJwt | None = None
    if token is not None and record.kind == "jwt":
        decoded = _jwt(token, j)
    elif token is not None and header is None and not B64TOKEN.fullmatch(token):
        j.invalid = True
        j.add("CA804", "characters outside b64token (RFC 6750 §2.1): spaces, quotes or commas")
    if record.kind == "api-key" and token is not None and record.key_id is None:
        record.key_id = api_key_id(token)
    if decoded is not None:
        _claims(decoded, j, ctx)
        _signature(decoded, j, ctx)
    elif token is not None and record.kind == "opaque" and token.startswith(EKS_TOKEN_PREFIX):
        _eks(token, j)
    elif record.kind in ("opaque", "elasticsearch"):
        record.signature_note = "opaque token: nothing to verify locally (use --introspect)"
    if candidate.invalidated:
        j.invalid = True
        j.add("CA801", "Elasticsearch says this API key is invalidated", Severity.CRITICAL)
    if token is not None and ctx.introspect is not None:
        _introspected(ctx.introspect(token), j)
    _answer_times(candidate, j, ctx)
    _timing(candidate, j, ctx)
    return _finish(j)


def _kind(candidate: Candidate, token: str | None) -> Any:
    if candidate.kind_hint == "api-key":
        return "api-key"
    if token is not None and looks_like_jwt(token):
        return "jwt"
    if candidate.kind_hint == "elasticsearch" or (
        token is not None and token.startswith(ES_SERVICE_TOKEN_PREFIX)
    ):
        return "elasticsearch"
    return "opaque"


def _eks(token: str, j: _Judgement) -> None:
    """An EKS token holds a presigned STS URL: its times are the URL's, read by the one
    presigned-URL parser (15 minutes after X-Amz-Date, as the cluster counts).  Imported
    here: the presign package is not needed at start-up for the tokens that are not these."""
    from credaudit.presign.parse import parse as parse_presigned

    parsed = parse_presigned(token)
    record = j.record
    if parsed.problems or parsed.expires_at is None:
        j.invalid = True
        problem = parsed.problems[0][1] if parsed.problems else "it states no X-Amz-Date"
        j.add("CA804", f"EKS token ({EKS_TOKEN_PREFIX}) is not a presigned STS URL: {problem}")
        return
    record.issued_at, record.expires_at = parsed.signed_at, parsed.expires_at
    record.notes.append(
        "EKS token: a presigned STS GetCallerIdentity URL, accepted for 15 minutes after its "
        "X-Amz-Date (credaudit url shows it)"
    )
    record.signature_note = (
        "EKS token: check it with credaudit url --verify --header x-k8s-aws-id:CLUSTER"
    )


def _jwt(token: str, j: _Judgement) -> DecodedJwt | None:
    decoded = decode(token)
    if isinstance(decoded, str):
        j.invalid = True
        if decoded.startswith("a JWE"):
            j.invalid = False
            j.record.notes.append(decoded)
            return None
        j.add("CA804", f"not a valid JWT: {decoded}")
        return None
    get = decoded.header.get
    record = j.record
    value = get("alg")
    record.algorithm = value if isinstance(value, str) else None
    value = get("typ")
    record.type = value if isinstance(value, str) else None
    value = get("kid")
    if isinstance(value, str):
        record.key_id = value
    return decoded


def _claims(decoded: DecodedJwt, j: _Judgement, ctx: Context) -> None:
    claims = decoded.claims
    record = j.record
    get = claims.get
    value = get("iss")
    if isinstance(value, str):
        record.iss = value
    value = get("sub")
    if isinstance(value, str):
        record.sub = value
    value = get("client_id")
    if isinstance(value, str):
        record.client_id = value
    aud = get("aud")
    if isinstance(aud, str):
        record.aud = [aud]
    elif isinstance(aud, list):
        record.aud = [a for a in aud if isinstance(a, str)]
    scope = claims.get("scope")
    if isinstance(scope, str):
        record.scope = scope
    elif isinstance(claims.get("scp"), list):
        record.scope = " ".join(s for s in claims["scp"] if isinstance(s, str))
    # Each time claim as an instant; written out rather than looped over names and set with
    # setattr (three claims a token, the hottest lines of the bulk path).
    if "exp" in claims:
        record.expires_at = _time_claim(claims["exp"], "exp", j)
    if "iat" in claims:
        record.issued_at = _time_claim(claims["iat"], "iat", j)
    if "nbf" in claims:
        record.not_before = _time_claim(claims["nbf"], "nbf", j)
    expect = ctx.expect
    if expect.audience or expect.issuer is not None or expect.scopes or expect.typ is not None:
        _expectations(j, expect)


def _time_claim(value: object, claim: str, j: _Judgement) -> datetime | None:
    """A NumericDate claim as an instant; CA804 (and None) when it is not one."""
    if type(value) is int:  # the common case: no bool, no float to check for
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    instant = _instant(value)
    if isinstance(instant, str):
        j.invalid = True
        j.add("CA804", f"the {claim} claim {instant}")
        return None
    return instant


def _expectations(j: _Judgement, expect: Expectations) -> None:
    record = j.record
    wrong: list[str] = []
    if expect.audience and not set(expect.audience) & set(record.aud or ()):
        wrong.append(f"aud {record.aud or 'missing'} does not name {' or '.join(expect.audience)}")
    if (
        expect.issuer is not None
        and record.iss != expect.issuer.rstrip("/")
        and (record.iss != expect.issuer)
    ):
        wrong.append(f"iss {record.iss or 'missing'!s} is not {expect.issuer}")
    if expect.scopes:
        have = set((record.scope or "").split())
        missing = [s for s in expect.scopes if s not in have]
        if missing:
            wrong.append(f"scope lacks {' '.join(missing)}")
    if expect.typ is not None and not _typ_matches(record.type, expect.typ):
        wrong.append(f"typ {record.type or 'missing'} is not {expect.typ}")
    if wrong:
        j.invalid = True
        j.add("CA807", "; ".join(wrong))


def _typ_matches(have: str | None, want: str) -> bool:
    """RFC 9068 §2.1: ``at+jwt``; media types compare case-insensitively, with or without
    the ``application/`` prefix (RFC 7515 §4.1.9)."""
    if have is None:
        return False

    def norm(value: str) -> str:
        value = value.lower()
        return value[12:] if value.startswith("application/") else value

    return norm(have) == norm(want)


def _signature(decoded: DecodedJwt, j: _Judgement, ctx: Context) -> None:
    record = j.record
    ignored = ignored_headers(decoded.header)
    if ignored:
        record.notes.append(
            f"header names keys ({', '.join(ignored)}): never fetched nor trusted (RFC 8725 §3.10)"
        )
    alg = decoded.header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        record.signature_valid = False
        record.signature_note = (
            "alg none: an unsigned token is never valid (RFC 8725 §3.1)"
            if isinstance(alg, str)
            else "the header has no alg"
        )
        j.invalid = True
        j.add("CA806", record.signature_note)
        return
    if ctx.keys is None:
        record.signature_note = _NOT_CHECKED
        return
    valid, why = ctx.keys.verify(decoded)
    record.signature_valid = valid
    record.signature_note = why
    if not valid:
        j.invalid = True
        j.add("CA806", why)


def _introspected(answer: Introspection, j: _Judgement) -> None:
    record = j.record
    if answer.error is not None:
        record.notes.append(f"introspection failed: {answer.error}")
        return
    if answer.exp is not None:
        exp = _instant(answer.exp)
        if isinstance(exp, datetime):
            record.expires_at = exp
    if answer.iat is not None:
        iat = _instant(answer.iat)
        if isinstance(iat, datetime):
            record.issued_at = iat
    record.scope = answer.scope if answer.scope is not None else record.scope
    record.client_id = answer.client_id if answer.client_id is not None else record.client_id
    if answer.active:
        record.notes.append("introspection: active")
        return
    record.notes.append("introspection: inactive")
    if record.kind == "jwt" and record.expires_at is not None and record.expires_at > j.now:
        # Resource servers check JWTs themselves; many issuers (oidc-provider among them) do
        # not store JWT access tokens and answer inactive for every one of them.
        record.notes.append(
            "introspection says inactive before exp: revoked, or the issuer does not "
            "introspect its JWT access tokens (oidc-provider does not)"
        )
        return
    j.invalid = True
    j.add(
        "CA801",
        "the issuer's introspection answers active: false (expired or revoked: RFC 7662 "
        "gives no reason)",
    )


def _answer_times(candidate: Candidate, j: _Judgement, ctx: Context) -> None:
    """Times an API answer states rather than the token: expires_in, API key expiration."""
    record = j.record
    if candidate.expires_at is not None and record.expires_at is None:
        record.expires_at = candidate.expires_at
    if candidate.kind_hint == "api-key" and candidate.issued_at is not None:
        record.issued_at = record.issued_at or candidate.issued_at
    if candidate.expires_in is not None and record.expires_at is None:
        if candidate.issued_at is None:
            record.notes.append(
                f"expires_in {int(candidate.expires_in)} s, but the issue time is unknown "
                "(give --issued-at, or read the answer from a file: its mtime is used)"
            )
            record.lifetime_seconds = int(candidate.expires_in)
        else:
            record.issued_at = candidate.issued_at
            record.expires_at = candidate.issued_at + timedelta(seconds=candidate.expires_in)
    if candidate.never_expires:
        j.add(
            "CA808",
            "the API key has no expiration: by default Elasticsearch API keys never expire",
        )


def _timing(candidate: Candidate, j: _Judgement, ctx: Context) -> None:
    record = j.record
    now = ctx.now
    exp, iat, nbf = record.expires_at, record.issued_at, record.not_before
    if exp is not None:
        start = iat or nbf
        if start is not None:
            record.lifetime_seconds = whole_seconds(exp - start)
        record.remaining_seconds = whole_seconds(exp - now)
    if nbf is not None and nbf > ctx.skewed_future:
        j.add(
            "CA803",
            f"nbf is {format_duration(nbf - now)} in the future (beyond the "
            f"{format_duration(ctx.budget.skew_margin)} skew margin): a clock is off",
        )
    if iat is not None and iat > ctx.skewed_future and candidate.expires_in is None:
        j.add(
            "CA803",
            f"iat is {format_duration(iat - now)} in the future: clock skew between issuer and "
            "this host (PyJWT ≥ 2.6 rejects it as ImmatureSignatureError)",
        )
    if record.kind == "jwt" and exp is None and not j.invalid and record.algorithm:
        j.add("CA808", "the JWT has no exp claim: it never expires")
    elif (
        record.kind != "api-key"
        and record.lifetime_seconds is not None
        and record.lifetime_seconds > ctx.max_lifetime_seconds
    ):
        j.add(
            "CA808",
            f"lives {format_duration(record.lifetime_seconds)}, longer than the "
            f"{format_duration(ctx.max_lifetime)} policy (--max-lifetime)",
        )
    refresh_ok = _refresh(candidate, j, ctx)
    expired = exp is not None and exp <= now
    if exp is not None and exp <= ctx.skewed_past:
        j.add("CA801", f"expired {format_duration(now - exp)} ago (exp {format_instant(exp)})")
    elif exp is not None and exp < ctx.work_ends and not refresh_ok:
        need = format_duration(ctx.horizon)
        left = (
            f"expired {format_duration(now - exp)} ago, within the skew margin"
            if expired
            else f"expires in {format_duration(exp - now)}"
        )
        j.add("CA802", f"{left}, but the work needs {need} (run + dwell + retries + skew)")
        if candidate.refresh_token is False:
            # A token answer that could carry a refresh token and does not (RULES.md CA809:
            # "missing where the work outlives the access token"); CA802 says the access
            # token dies, CA809 that nothing came with it to renew it.
            j.add(
                "CA809",
                f"the answer carries no refresh token, and the work runs "
                f"{format_duration(ctx.work_ends - exp)} past the access token's exp "
                f"({format_instant(exp)}): only a new grant renews it",
            )
    if j.invalid:
        record.status = "invalid"
    elif expired:
        record.status = "expired"
    elif nbf is not None and nbf > now:
        record.status = "not-yet-valid"
    elif exp is None:
        record.status = "valid" if record.kind == "jwt" or candidate.never_expires else "unknown"
    elif exp - now < ctx.required:
        record.status = "expiring"
    else:
        record.status = "valid"
    if record.kind in ("opaque", "elasticsearch") and exp is None:
        record.notes.append("opaque token: its expiry is not inside it (use --introspect)")


def _refresh(candidate: Candidate, j: _Judgement, ctx: Context) -> bool:
    """Whether a refresh token covers the work (CA809 when it cannot)."""
    if not candidate.refresh_token:
        return False
    record = j.record
    if record.kind != "elasticsearch" or candidate.issued_at is None:
        record.notes.append("a refresh token came with it: the client can renew")
        return True
    until = candidate.issued_at + ES_REFRESH_LIFETIME
    record.refresh_expires_at = until
    now = ctx.now
    if until <= now:
        j.add(
            "CA809",
            f"the refresh token expired {format_duration(now - until)} ago "
            "(Elasticsearch: 24 h after the token was issued)",
        )
        return False
    if until < now + ctx.horizon:
        j.add(
            "CA809",
            f"the refresh token works until {format_instant(until)} (24 h, once), "
            f"before the work ends in {format_duration(ctx.horizon)}",
        )
        return True  # it renews the access token until then: CA809 says the rest
    record.notes.append("refresh token: usable once, within 24 h of issue")
    return True


def _finish(j: _Judgement) -> TokenRecord:
    """The record with its findings, the most severe first: ``--format jsonl`` decides
    whether a record fails ``--fail-on`` from its first finding alone."""
    if len(j.findings) > 1:
        j.findings.sort(key=lambda f: (-f.severity.rank, f.code))
    j.record.findings = j.findings
    return j.record
