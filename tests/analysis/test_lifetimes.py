"""The lifetime figures the policy rules rest on, checked against botocore's own data."""

from __future__ import annotations

from datetime import timedelta

import botocore.credentials
import botocore.session
import pytest

from credaudit.analysis import lifetimes as lt
from credaudit.analysis.budget import CACHE_EXPIRY_WINDOW

SESSION = botocore.session.get_session()


def duration_range(service: str, operation: str, member: str) -> tuple[int, int]:
    shape = SESSION.get_service_model(service).operation_model(operation).input_shape
    meta = shape.members[member].metadata
    return int(meta["min"]), int(meta["max"])


@pytest.mark.parametrize(
    ("operation", "low", "high"),
    [
        ("AssumeRole", lt.STS_MIN_DURATION, lt.ROLE_MAX_SESSION_CEILING),
        ("AssumeRoleWithWebIdentity", lt.STS_MIN_DURATION, lt.ROLE_MAX_SESSION_CEILING),
        ("GetSessionToken", lt.SESSION_TOKEN_MIN, lt.SESSION_TOKEN_MAX),
        ("GetFederationToken", lt.SESSION_TOKEN_MIN, lt.SESSION_TOKEN_MAX),
        ("AssumeRoot", timedelta(0), lt.ASSUME_ROOT_MAX),
    ],
)
def test_sts_duration_ranges_match_botocore_models(
    operation: str, low: timedelta, high: timedelta
) -> None:
    assert duration_range("sts", operation, "DurationSeconds") == (
        int(low.total_seconds()),
        int(high.total_seconds()),
    )


def test_iam_max_session_duration_range() -> None:
    assert duration_range("iam", "CreateRole", "MaxSessionDuration") == (
        int(lt.ROLE_MAX_SESSION_DEFAULT.total_seconds()),
        int(lt.ROLE_MAX_SESSION_CEILING.total_seconds()),
    )


def test_refresh_floor_and_cache_window_are_botocores() -> None:
    creds = botocore.credentials.RefreshableCredentials
    assert timedelta(seconds=creds._mandatory_refresh_timeout) == lt.REFRESH_FLOOR
    assert (
        timedelta(
            seconds=botocore.credentials.CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS
        )
        == CACHE_EXPIRY_WINDOW
    )


def test_every_policy_source_has_cited_facts() -> None:
    from credaudit.policy import SOURCES

    for source in SOURCES:
        fact = lt.facts(source)
        assert fact.citation and fact.renews
        assert fact.session is None or fact.session <= fact.ceiling
    # The in-process renewal claims that the rules depend on.
    assert not lt.facts("env").refreshable and not lt.facts("lambda").refreshable
    assert lt.facts("assume-role").refreshable and lt.facts("web-identity").refreshable
    assert lt.facts("web-identity").session == timedelta(hours=1)
