"""CA401, CA403 and CA404: what the chain's outcome says about the host."""

from __future__ import annotations

from pathlib import Path

from credaudit.analysis.budget import Budget
from credaudit.scan import run_scan
from tests.helpers_home import make_home

ROLE_CONFIG = (
    "[profile job]\nrole_arn = arn:aws:iam::123456789012:role/job\nsource_profile = base\n"
)
BASE_CREDS = "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n"
LEFTOVER = {
    "AWS_ACCESS_KEY_ID": "ASIAY34FZKBOKMUTVV7A",
    "AWS_SECRET_ACCESS_KEY": "s",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def test_leftover_env_keys_shadow_the_role_selected_by_aws_profile(tmp_path: Path) -> None:
    home = make_home(tmp_path, env={**LEFTOVER, "AWS_PROFILE": "job"}, network=False)
    home.write(".aws/config", ROLE_CONFIG)
    home.write(".aws/credentials", BASE_CREDS)
    report = run_scan(home.target, Budget())
    [entry] = report.chain
    assert entry.resolved is not None and entry.resolved.source == "env"
    assert [s.source for s in entry.shadowed] == ["assume-role"]
    [ca401] = [f for f in report.findings if f.code == "CA401"]
    assert "assume-role" in ca401.message and "unset AWS_ACCESS_KEY_ID" in ca401.remediation


def test_explicit_profile_is_not_shadowed_by_env(tmp_path: Path) -> None:
    home = make_home(tmp_path, env=LEFTOVER, network=False)
    home.write(".aws/config", ROLE_CONFIG)
    home.write(".aws/credentials", BASE_CREDS)
    report = run_scan(home.with_target(profile="job").target, Budget())
    assert report.chain[0].resolved is not None
    assert report.chain[0].resolved.source == "assume-role"
    assert "CA401" not in {f.code for f in report.findings}


def test_static_over_static_is_not_ca401(tmp_path: Path) -> None:
    home = make_home(tmp_path, env=LEFTOVER, network=False)
    home.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n",
    )
    report = run_scan(home.target, Budget())
    assert [s.source for s in report.chain[0].shadowed] == ["shared-credentials-file"]
    assert "CA401" not in {f.code for f in report.findings}


def test_nothing_resolves_is_ca403_with_botocores_reason(tmp_path: Path) -> None:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    home.write(
        ".aws/config", "[profile job]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = gone\n"
    )
    report = run_scan(home.with_target(profile="job").target, Budget())
    [ca403] = [f for f in report.findings if f.code == "CA403"]
    assert 'source_profile "gone"' in ca403.message


def test_missing_profile_is_ca403_profile_not_found(tmp_path: Path) -> None:
    home = make_home(
        tmp_path, env={"AWS_PROFILE": "nope", "AWS_EC2_METADATA_DISABLED": "true"}, network=False
    )
    report = run_scan(home.target, Budget())
    assert "ProfileNotFound" in (report.chain[0].error or "")
    assert {f.code for f in report.findings} == {"CA403"}


def test_long_term_key_in_use_is_ca404_and_account_is_decoded(tmp_path: Path) -> None:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    home.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = s\n",
    )
    report = run_scan(home.target, Budget())
    assert "CA404" in {f.code for f in report.findings}
    assert report.credentials[0].account_id == "609629065308"
    assert report.credentials[0].access_key_id == "AKIA…VV7A"


def test_world_readable_credentials_file_is_ca701(tmp_path: Path) -> None:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    path = home.write(".aws/credentials", BASE_CREDS, mode=0o644)
    report = run_scan(home.target, Budget())
    [ca701] = [f for f in report.findings if f.code == "CA701"]
    assert ca701.subject == str(path) and "0644" in ca701.message
    home.write(".aws/credentials", BASE_CREDS, mode=0o600)
    assert "CA701" not in {f.code for f in run_scan(home.target, Budget()).findings}


def test_cli_cache_file_0644_is_ca701(tmp_path: Path) -> None:
    home = make_home(tmp_path, env={"AWS_EC2_METADATA_DISABLED": "true"}, network=False)
    path = home.write(
        ".aws/cli/cache/abc.json",
        '{"Credentials": {"AccessKeyId": "ASIAY34FZKBOKMUTVV7A", '
        '"SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T13:00:00UTC"}}',
        mode=0o644,
    )
    report = run_scan(home.target, Budget())
    assert any(f.code == "CA701" and f.subject == str(path) for f in report.findings)


def test_unprobed_container_endpoint_wins_without_an_error(tmp_path: Path) -> None:
    """--no-network: botocore would commit to the container provider; we cannot tell whether
    its fetch works, so it wins with an unknown expiry instead of failing or falling through."""
    home = make_home(
        tmp_path,
        env={
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        network=False,
    )
    report = run_scan(home.target, Budget())
    [entry] = report.chain
    assert entry.resolved is not None and entry.resolved.source == "container-role"
    assert entry.error is None
    assert "CA403" not in {f.code for f in report.findings}
