"""The lifetime arithmetic, rule by rule, at its boundaries.

Each test builds a host (tests/helpers_home.py), scans it at a fixed instant with a budget,
and checks which codes fire; boundary pairs (one second either side) pin the comparisons so
an off-by-one or a flipped inequality fails a test.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from credaudit.analysis.budget import Budget
from credaudit.model import Finding, Severity
from credaudit.scan import run_scan
from credaudit.sources.cli_cache import assume_role_cache_key
from tests.helpers_home import NOW, FakeHome, make_home


def iso(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan(home: FakeHome, **budget: timedelta) -> list[Finding]:
    return run_scan(home.target, Budget(**budget)).findings


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def env_home(tmp_path: Path, expires_in: timedelta) -> FakeHome:
    return make_home(
        tmp_path,
        env={
            "AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A",
            "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_SESSION_TOKEN": "t",
            "AWS_CREDENTIAL_EXPIRATION": iso(expires_in),
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        network=False,
    )


# --- static credentials: CA101, CA102, CA103, CA201, CA202 ------------------------------


def test_expired_static_is_ca101_critical(tmp_path: Path) -> None:
    [finding] = [f for f in scan(env_home(tmp_path, timedelta(seconds=-1))) if f.code == "CA101"]
    assert finding.severity is Severity.CRITICAL
    assert "cannot refresh" in finding.message


@pytest.mark.parametrize(("left", "fires"), [(7199, True), (7200, False)])
def test_ca102_at_the_run_time_boundary(tmp_path: Path, left: int, fires: bool) -> None:
    found = codes(scan(env_home(tmp_path, timedelta(seconds=left)), run_time=timedelta(hours=2)))
    assert ("CA102" in found) is fires


@pytest.mark.parametrize(("left", "fires"), [(899, True), (900, False)])
def test_ca103_below_min_remaining(tmp_path: Path, left: int, fires: bool) -> None:
    found = codes(
        scan(env_home(tmp_path, timedelta(seconds=left)), min_remaining=timedelta(minutes=15))
    )
    assert ("CA103" in found) is fires


def test_static_dispatch_counts_from_the_end_of_the_run(tmp_path: Path) -> None:
    # 1 h left, 50 min run: the last request is signed at 50 min and waits 15 min: dead.
    home = env_home(tmp_path, timedelta(hours=1))
    found = codes(scan(home, run_time=timedelta(minutes=50), queue_dwell=timedelta(minutes=15)))
    assert "CA201" in found and "CA102" not in found
    ok = codes(scan(home, run_time=timedelta(minutes=50), queue_dwell=timedelta(minutes=10)))
    assert "CA201" not in ok


def test_retries_that_push_past_the_expiry_are_ca202_not_ca201(tmp_path: Path) -> None:
    home = env_home(tmp_path, timedelta(hours=1))
    found = codes(
        scan(
            home,
            run_time=timedelta(minutes=50),
            queue_dwell=timedelta(minutes=5),
            retry_budget=timedelta(minutes=6),
        )
    )
    assert "CA202" in found and "CA201" not in found


# --- refreshable credentials: the 600 s floor, CA104-CA106 -------------------------------


def role_home(tmp_path: Path, extra: str = "", chained: bool = False) -> FakeHome:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    source = "mid" if chained else "base"
    home.write(
        ".aws/config",
        "[profile job]\nrole_arn = arn:aws:iam::123456789012:role/job\n"
        f"source_profile = {source}\n{extra}\n"
        "[profile mid]\nrole_arn = arn:aws:iam::123456789012:role/mid\nsource_profile = base\n",
    )
    home.write(
        ".aws/credentials",
        "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n",
    )
    return home.with_target(profile="job")


@pytest.mark.parametrize(("dwell", "fires"), [(600, False), (601, True)])
def test_refreshable_floor_is_botocores_600_seconds(
    tmp_path: Path, dwell: int, fires: bool
) -> None:
    found = codes(
        scan(role_home(tmp_path), queue_dwell=timedelta(seconds=dwell), run_time=timedelta(hours=8))
    )
    assert ("CA201" in found) is fires
    assert "CA102" not in found  # a refreshing role outlives any run


@pytest.mark.parametrize(
    ("duration", "chained", "expected"),
    [
        (899, False, {"CA105", "CA106"}),
        (900, False, {"CA106"}),
        (901, False, set()),
        (43200, False, set()),
        (43201, False, {"CA105"}),
        (3600, True, set()),
        (3601, True, {"CA105"}),
    ],
)
def test_duration_ceilings(
    tmp_path: Path, duration: int, chained: bool, expected: set[str]
) -> None:
    found = codes(scan(role_home(tmp_path, f"duration_seconds = {duration}", chained)))
    assert found & {"CA105", "CA106"} == expected


def test_mfa_role_cannot_outlive_one_session(tmp_path: Path) -> None:
    home = role_home(
        tmp_path, "mfa_serial = arn:aws:iam::123456789012:mfa/me\nduration_seconds = 3600"
    )
    # one hour session, failing once under 600 s remain: 50 minutes of usable life
    assert "CA104" in codes(scan(home, run_time=timedelta(minutes=50, seconds=1)))
    assert "CA104" not in codes(scan(home, run_time=timedelta(minutes=50)))


def test_mfa_role_uses_the_cached_sessions_remaining_life(tmp_path: Path) -> None:
    home = role_home(tmp_path, "mfa_serial = arn:aws:iam::123456789012:mfa/me")
    key = assume_role_cache_key(
        "arn:aws:iam::123456789012:role/job", mfa_serial="arn:aws:iam::123456789012:mfa/me"
    )
    home.write(
        f".aws/cli/cache/{key}.json",
        {
            "Credentials": {
                "AccessKeyId": "ASIAY34FZKBOKMUTVV7A",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": iso(timedelta(minutes=20)).replace("Z", "UTC"),
            }
        },
    )
    report = run_scan(home.target, Budget(run_time=timedelta(minutes=30)))
    [ca104] = [f for f in report.findings if f.code == "CA104"]
    assert "fails after 10m" in ca104.message
    assert report.credentials[0].remaining_seconds == 1200


# --- SSO and web identity: CA107, CA108 ---------------------------------------------------


def sso_home(tmp_path: Path, token: dict[str, object] | None, legacy: bool) -> FakeHome:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    start = "https://corp.awsapps.com/start"
    if legacy:
        cfg = f"[profile dev]\nsso_start_url = {start}\nsso_region = us-east-1\n"
        name = start
    else:
        cfg = (
            f"[profile dev]\nsso_session = corp\n[sso-session corp]\nsso_start_url = {start}\n"
            "sso_region = us-east-1\n"
        )
        name = "corp"
    cfg = cfg.replace(
        "[profile dev]\n", "[profile dev]\nsso_account_id = 123456789012\nsso_role_name = R\n"
    )
    home.write(".aws/config", cfg)
    if token is not None:
        home.write(
            f".aws/sso/cache/{hashlib.sha1(name.encode()).hexdigest()}.json", json.dumps(token)
        )
    return home.with_target(profile="dev")


def test_no_sso_token_means_login_required(tmp_path: Path) -> None:
    assert "CA107" in codes(scan(sso_home(tmp_path, None, legacy=False)))


def test_legacy_sso_token_expiring_within_the_run(tmp_path: Path) -> None:
    token = {
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "a",
        "expiresAt": iso(timedelta(hours=1)),
    }
    home = sso_home(tmp_path, token, legacy=True)
    assert "CA107" in codes(scan(home, run_time=timedelta(hours=2)))
    assert "CA107" not in codes(scan(home, run_time=timedelta(minutes=30)))


def test_refreshable_sso_token_is_fine_until_its_registration_ends(tmp_path: Path) -> None:
    token = {
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "a",
        "expiresAt": iso(timedelta(hours=1)),
        "refreshToken": "r",
        "clientId": "c",
        "clientSecret": "s",
        "registrationExpiresAt": iso(timedelta(days=30)),
    }
    assert "CA107" not in codes(
        scan(sso_home(tmp_path, token, legacy=False), run_time=timedelta(hours=8))
    )
    token["registrationExpiresAt"] = iso(timedelta(hours=2))
    found = scan(sso_home(tmp_path, token, legacy=False), run_time=timedelta(hours=8))
    assert any(f.code == "CA107" and "registration" in f.message for f in found)


def _jwt(iat: timedelta, exp: timedelta) -> str:
    import jwt as pyjwt

    claims = {
        "iat": int((NOW + iat).timestamp()),
        "exp": int((NOW + exp).timestamp()),
        "aud": "sts.amazonaws.com",
        "iss": "https://oidc.example",
    }
    return pyjwt.encode(claims, "k" * 32, algorithm="HS256")


def test_expired_web_identity_token_is_ca108_critical(tmp_path: Path) -> None:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    token = home.write("token", _jwt(timedelta(hours=-25), timedelta(hours=-1)))
    home.write(
        ".aws/config",
        f"[default]\nrole_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = {token}\n",
    )
    [f] = [f for f in scan(home) if f.code == "CA108"]
    assert f.severity is Severity.CRITICAL


@pytest.mark.parametrize(("ttl", "fires"), [(3599, False), (3601, True)])
def test_url_ttl_against_a_static_session(tmp_path: Path, ttl: int, fires: bool) -> None:
    found = scan(env_home(tmp_path, timedelta(hours=1)), url_ttl=timedelta(seconds=ttl))
    assert any(f.code == "CA301" and f.severity is Severity.HIGH for f in found) is fires


@pytest.mark.parametrize(("ttl", "fires"), [(600, False), (601, True)])
def test_url_ttl_against_a_refreshable_role_is_medium(
    tmp_path: Path, ttl: int, fires: bool
) -> None:
    found = scan(role_home(tmp_path), url_ttl=timedelta(seconds=ttl))
    assert any(f.code == "CA301" and f.severity is Severity.MEDIUM for f in found) is fires
