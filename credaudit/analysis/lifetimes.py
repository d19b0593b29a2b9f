"""What each credential source can live and whether it renews, with the source of each figure.

The policy rules decide from configuration alone, so every figure they hold a budget against
must be a documented limit, not a guess: each constant below names where it comes from
(reference/aws-credential-facts.md §1, §2, §4).  Where AWS documents no figure (ECS task
roles, Lambda), ``session`` is None and the rules say "unknown" instead of inventing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from credaudit.analysis.budget import MANDATORY_REFRESH

# STS API Reference, AssumeRole DurationSeconds (botocore data sts/2011-06-15/service-2.json).
STS_MIN_DURATION = timedelta(seconds=900)
STS_DEFAULT_DURATION = timedelta(seconds=3600)
# IAM API Reference, CreateRole MaxSessionDuration: 3600..43200, default 3600.
ROLE_MAX_SESSION_DEFAULT = timedelta(seconds=3600)
ROLE_MAX_SESSION_CEILING = timedelta(seconds=43200)
# STS AssumeRole: "role chaining limits ... to a maximum of one hour".
CHAINED_ROLE_MAX = timedelta(seconds=3600)
# botocore AssumeRoleWithWebIdentityProvider passes no DurationSeconds: STS default applies.
WEB_IDENTITY_SESSION = timedelta(seconds=3600)
# IAM Identity Center UG "Set session duration": permission sets 1 h (default) .. 12 h; the
# roles it creates get MaxSessionDuration 12 h.
PERMISSION_SET_MIN = timedelta(hours=1)
PERMISSION_SET_MAX = timedelta(hours=12)
# The access-portal (sign-in) session the SSO token belongs to: "CLI-based sessions ...
# remains at 8 hours" (archived Identity Center UG; listed as Unconfirmed in the reference).
# Policies state their own with ``duration``; 8 h is only the default.
SSO_SESSION_DEFAULT = timedelta(hours=8)
# STS GetSessionToken / GetFederationToken: 900 / 43200 / 129600 (root: 3600 max).
SESSION_TOKEN_MIN = timedelta(seconds=900)
SESSION_TOKEN_DEFAULT = timedelta(seconds=43200)
SESSION_TOKEN_MAX = timedelta(seconds=129600)
# STS AssumeRoot: 0 / 900 / 900.
ASSUME_ROOT_MAX = timedelta(seconds=900)
# Longest any STS temporary credential can live (GetSessionToken max): beyond it, no
# non-refreshable temporary credential can possibly last.
LONGEST_TEMPORARY = SESSION_TOKEN_MAX
# botocore RefreshableCredentials: the life a refreshable credential is guaranteed to have
# left when it signs (below 600 s every caller blocks on a refresh).
REFRESH_FLOOR = MANDATORY_REFRESH
# EKS UG: projected service-account token expirationSeconds 86400, refreshed by the kubelet.
PROJECTED_TOKEN_LIFETIME = timedelta(seconds=86400)


@dataclass(frozen=True)
class Lifetime:
    """What one source gives: how long a session lives and whether the SDK renews it.

    ``session`` is the life of one credential set when it is known from the configuration
    (a requested duration, botocore's fixed web-identity hour); ``ceiling`` the longest it
    could possibly be; ``refreshable`` whether the SDK gets new credentials in-process.
    """

    source: str
    session: timedelta | None
    ceiling: timedelta
    refreshable: bool
    renews: str
    citation: str


SOURCE_FACTS: dict[str, Lifetime] = {
    "env": Lifetime(
        "env",
        None,
        LONGEST_TEMPORARY,
        False,
        "never: botocore re-reads the same variables (EnvProvider)",
        "botocore credentials.py: EnvProvider; STS GetSessionToken max 129600 s",
    ),
    "assume-role": Lifetime(
        "assume-role",
        STS_DEFAULT_DURATION,
        ROLE_MAX_SESSION_CEILING,
        True,
        "in-process by botocore (AssumeRoleProvider), except with mfa_serial",
        "STS AssumeRole DurationSeconds 900..MaxSessionDuration; IAM CreateRole 3600..43200",
    ),
    "sso": Lifetime(
        "sso",
        None,
        PERMISSION_SET_MAX,
        True,
        "role credentials in-process while the SSO token is valid (SSOProvider); the token "
        "itself ends with the access-portal session",
        "IAM Identity Center UG 'Set session duration': permission sets 1 h default, 12 h max",
    ),
    "web-identity": Lifetime(
        "web-identity",
        WEB_IDENTITY_SESSION,
        WEB_IDENTITY_SESSION,
        True,
        "in-process; the token file is re-read on every refresh",
        "botocore AssumeRoleWithWebIdentityProvider (no DurationSeconds: STS default 3600 s)",
    ),
    "pod-identity": Lifetime(
        "pod-identity",
        None,
        ROLE_MAX_SESSION_CEILING,
        True,
        "in-process from the EKS Pod Identity Agent (ContainerProvider)",
        "EKS UG 'Understand how EKS Pod Identity works'; session length not documented",
    ),
    "ecs-task": Lifetime(
        "ecs-task",
        None,
        ROLE_MAX_SESSION_CEILING,
        True,
        "in-process from the ECS agent (ContainerProvider)",
        "SDK & Tools Reference 'Container credential provider'; lifetime not documented",
    ),
    "instance-profile": Lifetime(
        "instance-profile",
        None,
        ROLE_MAX_SESSION_CEILING,
        True,
        "by the platform; new credentials appear at least 5 min before the old expire",
        "EC2 UG 'Retrieve security credentials from instance metadata'",
    ),
    "lambda": Lifetime(
        "lambda",
        None,
        ROLE_MAX_SESSION_CEILING,
        False,
        "never in-process: static environment variables without an expiry",
        "Lambda DG 'Defined runtime environment variables'; lifetime not documented",
    ),
    "process": Lifetime(
        "process",
        None,
        LONGEST_TEMPORARY,
        True,
        "in-process when the output has Expiration (ProcessProvider)",
        "botocore credentials.py: ProcessProvider",
    ),
    "static-keys": Lifetime(
        "static-keys",
        None,
        timedelta.max,
        False,
        "never: long-term IAM user keys do not expire",
        "IAM UG 'Manage access keys for IAM users'",
    ),
    "static-session": Lifetime(
        "static-session",
        None,
        LONGEST_TEMPORARY,
        False,
        "never: a session token pasted into a config file is static",
        "botocore credentials.py: SharedCredentialProvider, ConfigProvider",
    ),
}


def facts(source: str) -> Lifetime:
    return SOURCE_FACTS[source]
