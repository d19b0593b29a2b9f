"""The rule catalogue: one entry per code of RULES.md, and the one way to make a finding.

Codes and meanings are fixed (CI configurations and suppressions depend on them).  The long
form of each rule — what, why, example, fix, the wrong fix — is its page in ``docs/rules/``,
which ``credaudit explain`` prints; the catalogue keeps the short texts a finding carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from credaudit.model import DetailValue, Finding, FindingView, Location, Severity


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    title: str
    fix: str
    source: str  # the botocore function or document the rule rests on


_C, _H, _M, _L, _I = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)

RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "CA101",
            "credential-expired",
            _C,
            "Credential has expired and cannot be refreshed",
            "Obtain fresh credentials from a refreshable source (a role profile, SSO, instance "
            "or container role) instead of exported or pasted session keys.",
            "botocore credentials.py: Credentials (static), RefreshableCredentials.refresh_needed",
        ),
        Rule(
            "CA102",
            "static-session-outlived",
            _H,
            "Static temporary credential expires before the run ends",
            "Let the SDK refresh: use a role profile (role_arn + source_profile or "
            "credential_source) or the platform's role instead of a fixed session token, or "
            "split the work so each part fits the session.",
            "botocore credentials.py: EnvProvider, SharedCredentialProvider (static Credentials)",
        ),
        Rule(
            "CA103",
            "near-expiry",
            _M,
            "Credential has less than the minimum remaining lifetime",
            "Refresh the session now (re-run the login or assume-role step) or switch to a "
            "refreshable source.",
            "botocore credentials.py: Credentials",
        ),
        Rule(
            "CA104",
            "mfa-session-not-renewable",
            _H,
            "MFA role session cannot be renewed in-process",
            "Run long jobs under a role that needs no MFA prompt (a machine role), or keep the "
            "run within one session duration and raise duration_seconds up to the role's "
            "MaxSessionDuration.",
            "botocore credentials.py: create_mfa_serial_refresher",
        ),
        Rule(
            "CA105",
            "duration-beyond-ceiling",
            _H,
            "Requested session duration is outside what STS accepts",
            "Set duration_seconds within 900..MaxSessionDuration (at most 3600 on a chained "
            "role), or raise the role's MaxSessionDuration.",
            "STS AssumeRole DurationSeconds; IAM CreateRole MaxSessionDuration",
        ),
        Rule(
            "CA106",
            "cache-never-reused",
            _L,
            "Cached session is never reused: every call assumes the role again",
            "Set duration_seconds above 900 (3600 is STS's default) so the cached session "
            "outlives botocore's 15-minute expiry window.",
            "botocore credentials.py: CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS",
        ),
        Rule(
            "CA107",
            "sso-login-required",
            _H,
            "SSO token expires and cannot be refreshed",
            "Run `aws sso login` before the job, and use an sso_session profile (refreshable "
            "token) instead of a legacy sso_start_url profile; raise the permission set's "
            "session duration for long runs.",
            "botocore tokens.py: SSOTokenProvider; utils.py: SSOTokenLoader",
        ),
        Rule(
            "CA108",
            "web-identity-token-stale",
            _H,
            "Web-identity token file is expired or is not being refreshed",
            "Check that the kubelet (or whatever writes the token) still projects it: the pod's "
            "service-account token volume, the EKS pod-identity webhook, the file's path.",
            "botocore credentials.py: AssumeRoleWithWebIdentityProvider; EKS UG token rotation",
        ),
        Rule(
            "CA201",
            "dwell-exceeds-lifetime-floor",
            _H,
            "Signed requests will be sent after their credentials died",
            "Sign just before sending (sign at dequeue, not at enqueue), shorten the queue "
            "dwell, or cap retries so that signing delay + dwell + retries stays under the "
            "credential's guaranteed remaining life.",
            "botocore credentials.py: RefreshableCredentials (_DEFAULT_MANDATORY_REFRESH_TIMEOUT)",
        ),
        Rule(
            "CA202",
            "stale-token-retries",
            _M,
            "Retries resend a request signed with credentials that will have expired",
            "Re-sign each retry with fresh credentials (let the SDK retry rather than replaying "
            "a signed request), and bound the retry budget below the credential's life.",
            "botocore retries: signing happens per attempt only inside the SDK",
        ),
        Rule(
            "CA301",
            "url-outlives-session",
            _H,
            "Presigned URL outlives the session that signed it",
            "Sign with credentials whose session lasts at least as long as the promise, or set "
            "the URL's expiry to the session's remaining life.",
            "S3 UG: presigned URLs signed with temporary credentials expire with the token",
        ),
        Rule(
            "CA302",
            "url-session-unknown",
            _M,
            "Presigned URL signed by a session of unknown lifetime",
            "Re-sign from a session at least as long as the promised TTL, or bind the URL's "
            "TTL to the session (--session-expires states it when you know it).",
            "S3 UG: presigned URLs signed with temporary credentials expire with the token",
        ),
        Rule(
            "CA303",
            "url-expired",
            _C,
            "Presigned URL has expired",
            "Generate a new URL.",
            "S3: 403 AccessDenied 'Request has expired' / 400 ExpiredToken",
        ),
        Rule(
            "CA304",
            "url-expires-too-soon",
            _M,
            "Presigned URL will expire sooner than required",
            "Generate the URL later, or from a longer session, with an expiry that covers the "
            "time it must work.",
            "S3 UG: presigned URL expiry",
        ),
        Rule(
            "CA305",
            "url-invalid-expiry",
            _H,
            "Presigned URL has an expiry S3 rejects",
            "Use an X-Amz-Expires between 1 and 604800 seconds (7 days).",
            "S3 API: Authenticating Requests Using Query Parameters",
        ),
        Rule(
            "CA306",
            "url-future-dated",
            _M,
            "Presigned URL is dated in the future",
            "Fix the signer's clock (NTP); S3 refuses requests dated more than 15 minutes ahead.",
            "AWS Common Errors: RequestExpired / RequestInTheFuture",
        ),
        Rule(
            "CA307",
            "url-malformed",
            _H,
            "Presigned URL is malformed",
            "Generate the URL again with an SDK; do not edit or truncate signed query strings.",
            "botocore auth.py: SigV4QueryAuth, HmacV1QueryAuth",
        ),
        Rule(
            "CA308",
            "url-signature-mismatch",
            _H,
            "Presigned URL signature does not match the key",
            "Check the URL was not altered in transit and that the key is the one that signed "
            "it; generate a new URL.",
            "botocore auth.py: SigV4Auth.signature",
        ),
        Rule(
            "CA309",
            "url-long-term-key",
            _M,
            "Presigned URL was signed with a long-term key",
            "Sign with a role session instead of an IAM user's key: a leaked URL then dies with "
            "the session and names no long-lived key.",
            "S3 UG: presigned URL lifetimes per credential type",
        ),
        Rule(
            "CA401",
            "source-shadowed",
            _M,
            "A higher-precedence source hides the configured one",
            "Remove the leftover higher-precedence credentials (unset AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; delete stale keys from the profile) so "
            "the intended refreshable source is used.",
            "botocore credentials.py: create_credential_resolver",
        ),
        Rule(
            "CA402",
            "unexpected-account",
            _H,
            "Credentials belong to an unexpected account",
            "Select the profile or role of the expected account.",
            "IAM UG: access key id prefixes; STS GetAccessKeyInfo",
        ),
        Rule(
            "CA403",
            "no-credentials",
            _H,
            "No source yields credentials",
            "Configure a source for this profile (a role, SSO, or the platform's role) or fix "
            "the profile name.",
            "botocore credentials.py: CredentialResolver.load_credentials",
        ),
        Rule(
            "CA404",
            "long-term-keys",
            _M,
            "Long-term access keys are in use",
            "Replace the IAM user key with a role: an instance or container role, IRSA / Pod "
            "Identity, SSO, or a role profile.",
            "IAM UG: best practices (temporary credentials)",
        ),
        Rule(
            "CA501",
            "imds-unreachable",
            _H,
            "Instance metadata service does not answer",
            "Check the instance's metadata options (HttpEndpoint enabled), network policies "
            "that block 169.254.169.254, and AWS_EC2_METADATA_DISABLED.",
            "botocore utils.py: InstanceMetadataFetcher",
        ),
        Rule(
            "CA502",
            "imds-hop-limit",
            _H,
            "IMDSv2 token response cannot reach this container (hop limit)",
            "Raise the instance's HttpPutResponseHopLimit to 2 (aws ec2 "
            "modify-instance-metadata-options), or give the container its own role.",
            "EC2 UG: instance metadata options, hop limit",
        ),
        Rule(
            "CA503",
            "imds-credentials-stale",
            _H,
            "Instance role credentials are stale",
            "Check the instance's role association and the metadata service's health; botocore "
            "keeps extending and using stale instance credentials, so AWS answers ExpiredToken.",
            "botocore utils.py: InstanceMetadataFetcher._evaluate_expiration",
        ),
        Rule(
            "CA504",
            "container-endpoint-failed",
            _H,
            "Container credential endpoint fails",
            "Check the task or pod's role association, the agent (ECS agent, EKS Pod Identity "
            "Agent) and the authorization token file.",
            "botocore credentials.py: ContainerProvider",
        ),
        Rule(
            "CA505",
            "container-uri-rejected",
            _H,
            "Container credential URI names a host botocore refuses",
            "Use https, a loopback address, or the ECS/EKS agent addresses (169.254.170.2, "
            "169.254.170.23, fd00:ec2::23).",
            "botocore utils.py: ContainerMetadataFetcher._validate_allowed_url",
        ),
        Rule(
            "CA601",
            "clock-skew",
            _M,
            "Local clock is skewed",
            "Synchronise the clock (chrony / systemd-timesyncd against the Amazon Time Sync "
            "Service); botocore does not correct skew.",
            "IAM UG: SigV4 five-minute window; boto/boto3#1252",
        ),
        Rule(
            "CA701",
            "credential-file-exposed",
            _M,
            "Credential file is readable or writable by others",
            "chmod 600 the file (and 700 its directory).",
            "AWS CLI writes caches with mode 0600",
        ),
        Rule(
            "CA702",
            "source-unreadable",
            _M,
            "Credential source could not be read",
            "Fix or remove the file: botocore will fail on it too, or silently skip it.",
            "botocore configloader.py, utils.py: JSONFileCache",
        ),
        Rule(
            "CA801",
            "token-expired",
            _C,
            "Bearer token has expired",
            "Get a new token from the issuer (client_credentials, refresh, or a new login) just "
            "before the work, and check the host's clock if it expired early.",
            "RFC 7519 §4.1.4 (exp); RFC 6750 §3.1 invalid_token; RFC 7662 §2.2 (active)",
        ),
        Rule(
            "CA802",
            "token-outlived",
            _H,
            "Bearer token expires before the work that carries it ends",
            "Fetch a token per unit of work (or refresh it before each request), shorten the "
            "run, queue dwell and retries, or ask the issuer for a longer token within policy.",
            "RFC 7519 §4.1.4 (exp); RFC 6749 §1.5 refresh_token",
        ),
        Rule(
            "CA803",
            "token-not-yet-valid",
            _M,
            "Bearer token is not valid yet: a clock is off",
            "Synchronise the clocks of the issuer and of this host (chrony, systemd-timesyncd); "
            "give validators a small leeway (30-60 s), not a large one.",
            "RFC 7519 §4.1.5 (nbf), §4.1.6 (iat); jpadilla/pyjwt#854",
        ),
        Rule(
            "CA804",
            "token-malformed",
            _H,
            "Token is malformed",
            "Send the token exactly as the issuer returned it: no quotes, no line breaks, no "
            "truncation, no URL-encoding.",
            "RFC 7515 §7.1 (compact serialisation); RFC 6750 §2.1 b64token; PyJWT DecodeError",
        ),
        Rule(
            "CA805",
            "authorization-header-malformed",
            _H,
            "Authorization header is not 'Bearer <token>'",
            "Send exactly 'Authorization: Bearer <token>': the scheme, one space, the token.",
            "RFC 6750 §2.1 (Authorization Request Header Field), §3.1 invalid_request",
        ),
        Rule(
            "CA806",
            "token-signature-invalid",
            _H,
            "Token signature does not verify with the named keys",
            "Get a fresh token from the real issuer; verify with the issuer's current JWKS; "
            "never accept alg none or let a token pick its own key or algorithm.",
            "RFC 8725 §3.1 (algorithm verification), §3.10 (jku/x5u/kid); InvalidSignatureError",
        ),
        Rule(
            "CA807",
            "token-wrong-audience",
            _H,
            "Token was issued for another audience, issuer, type or scope",
            "Request the token for this resource (the right audience or resource indicator, "
            "scope and issuer) instead of reusing one issued for another service.",
            "RFC 7519 §4.1.3 (aud); RFC 9068 §4; PyJWT InvalidAudienceError",
        ),
        Rule(
            "CA808",
            "token-lifetime-excessive",
            _M,
            "Token lives longer than the policy allows, or never expires",
            "Issue short-lived access tokens (15-60 min) and renew them; give API keys an "
            "expiration and rotate them.",
            "RFC 9068 §5; Elasticsearch create API key (expiration: api_key never expires)",
        ),
        Rule(
            "CA809",
            "refresh-token-unusable",
            _H,
            "Refresh token cannot renew the access token for the whole work",
            "Get a new token pair before the refresh token's 24 h run out (Elasticsearch), "
            "refresh exactly once per pair, or use a grant that can be repeated.",
            "Elasticsearch get token API (refresh_token: 24 h, single use); "
            "elastic/elasticsearch#39631",
        ),
        Rule(
            "CA810",
            "token-service-lifetime",
            _H,
            "Token service lifetime is shorter than the work, or out of range",
            "Set xpack.security.authc.token.timeout between 1s and 1h and renew tokens within "
            "the work; for longer work, refresh or use an API key with an expiration.",
            "Elasticsearch TokenService: xpack.security.authc.token.timeout",
        ),
        Rule(
            "CA811",
            "token-service-disabled",
            _H,
            "Token service is off: bearer tokens will be refused",
            "Enable TLS on the HTTP layer (xpack.security.http.ssl.enabled: true), which turns "
            "the token service on, or set xpack.security.authc.token.enabled: true with it.",
            "Elasticsearch TokenService: xpack.security.authc.token.enabled",
        ),
        Rule(
            "CA901",
            "expired-session-used",
            _H,
            "Requests were sent with a session after its expiry",
            "Let the SDK refresh the session (a role profile, the platform's role) and re-sign "
            "each request with the credentials current when it is sent.",
            "reference/incident-log-facts.md §3: ExpiredToken, ExpiredTokenException",
        ),
        Rule(
            "CA902",
            "stale-token-retries",
            _M,
            "Retries re-sent a request with the same dead session",
            "Treat ExpiredToken as non-retryable with the same credentials: refresh, re-sign, "
            "then retry.",
            "botocore retryhandler.py / retries/standard.py: ExpiredToken is not retried",
        ),
        Rule(
            "CA903",
            "refresh-gap",
            _H,
            "A session expired while in use and the next one was minted only later",
            "Refresh ahead of expiry (botocore's advisory window) and alert on failed refreshes; "
            "find why the refresh path (STS, IMDS, the container agent, SSO) was down.",
            "botocore credentials.py: RefreshableCredentials._protected_refresh",
        ),
        Rule(
            "CA904",
            "dwell-past-expiry",
            _H,
            "A request was signed while its session was valid and sent after it expired",
            "Sign at dequeue, not at enqueue, or bound the queue's dwell below the session's "
            "remaining life.",
            "botocore endpoint.py: the Sending http request line carries X-Amz-Date",
        ),
        Rule(
            "CA905",
            "presigned-url-outlived-session",
            _H,
            "A presigned URL failed because the session that signed it expired first",
            "Presign with long-term credentials of a dedicated IAM user, or keep X-Amz-Expires "
            "within the session's remaining life.",
            "S3 UG: a presigned URL expires when the credentials that signed it do",
        ),
        Rule(
            "CA906",
            "wrong-credential-source",
            _H,
            "The failures say wrong credentials, not expired ones",
            "Find which key chain the runtime really uses (credaudit scan on that host) and fix "
            "the source order; do not broaden IAM permissions.",
            "reference/incident-log-facts.md §3: InvalidClientTokenId, InvalidAccessKeyId",
        ),
        Rule(
            "CA907",
            "clock-skew-evidence",
            _M,
            "The sender's clock (or its signing time) was off the service's",
            "Synchronise the sender's clock (chrony / the Amazon Time Sync Service) and sign "
            "just before sending.",
            "IAM UG: SigV4 five-minute window; S3 RequestTimeTooSkewed",
        ),
        Rule(
            "CA908",
            "log-unreadable",
            _M,
            "A log file or record could not be read",
            "Fix or re-fetch the file (a truncated download, a rotated file mid-write); the "
            "analysis went on without it.",
            "CloudTrail delivery file format; S3 server access log format",
        ),
        # -- CA95x: a fleet seen together (credaudit fleet) --------------------------------
        Rule(
            "CA951",
            "fleet-expiry-cluster",
            _H,
            "Credentials on many hosts expire or must refresh at one instant",
            "Refresh by remaining lifetime with jitter (Go's ExpiryWindowJitterFrac, the "
            "credaudit guard) and stagger when hosts mint their sessions (random start delays, "
            "RandomizedDelaySec=), so the fleet's expiries spread out.",
            "botocore credentials.py: _DEFAULT_ADVISORY_REFRESH_TIMEOUT; aws-sdk-go-v2 "
            "aws.CredentialsCache ExpiryWindowJitterFrac",
        ),
        Rule(
            "CA952",
            "fleet-clock-skew",
            _M,
            "Host clock is off beyond the skew margin",
            "Synchronise the host's clock (chrony or systemd-timesyncd against the Amazon Time "
            "Sync Service); botocore signs with the local clock and never corrects it.",
            "IAM UG: SigV4 five-minute window; boto/boto3#1252",
        ),
        Rule(
            "CA953",
            "fleet-host-silent",
            _M,
            "Host stopped reporting",
            "Check the host's credaudit timer, service or pod (and the host itself): its "
            "credentials are not being audited.",
            "credaudit serve and scan --format prometheus: credaudit_scan_timestamp_seconds",
        ),
    )
}


def rule(code: str) -> Rule:
    try:
        return RULES[code]
    except KeyError:
        raise KeyError(f"unknown rule code {code}") from None


def make_finding(
    code: str,
    *,
    subject: str,
    message: str,
    severity: Severity | None = None,
    remediation: str | None = None,
    profile: str | None = None,
    location: Location | None = None,
    details: dict[str, DetailValue] | None = None,
) -> Finding:
    """Build a Finding for ``code``: title and default fix come from the catalogue."""
    entry = rule(code)
    return Finding(
        code=code,
        severity=severity or entry.severity,
        title=entry.title,
        subject=subject,
        message=message,
        remediation=remediation or entry.fix,
        profile=profile,
        location=location,
        details=details or {},
    )


_new = object.__new__


def view(code: str, message: str, severity: Severity | None = None) -> FindingView:
    """The ``FindingView`` of ``code`` with ``message``: title, fix and (unless given)
    severity from the catalogue.  The bulk outputs build one or two a record, so its fields
    are written straight into the instance's own ``__dict__`` (the frozen ``__init__`` sets
    each through ``object.__setattr__``; assigning a new ``__dict__`` costs half as much
    again, as the dict then shares no keys).  A test holds the result equal to
    ``__init__``'s, field order included (orjson writes that order)."""
    entry = RULES[code]
    built = _new(FindingView)
    fields = built.__dict__
    fields["code"] = code
    fields["severity"] = severity or entry.severity
    fields["title"] = entry.title
    fields["message"] = message
    fields["remediation"] = entry.fix
    return built


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by code and subject, so output is stable."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.code, f.subject, f.message))
