"""The CLI role-credential cache source, and cache keys checked against botocore itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    AssumeRoleWithWebIdentityCredentialFetcher,
    Credentials,
    SSOCredentialFetcher,
)
from hypothesis import example, given
from hypothesis import strategies as st

from credaudit.keys import fingerprint
from credaudit.model import KeyKind
from credaudit.report.json import to_json
from credaudit.sources import cli_cache
from tests.helpers_home import make_home

CACHE = ".aws/cli/cache"
TOKEN = "FQoGZXIvYXdzEXAMPLETOKENvalue0123456789"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

names = st.text(max_size=40)
arns = st.one_of(
    st.builds(
        lambda a, n: f"arn:aws:iam::{a}:role/{n}", st.from_regex(r"\d{12}", fullmatch=True), names
    ),
    st.text(max_size=60),
)


def _never_called(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("the key must be computed without creating a client")


def _assume_role_extra(
    session: str | None, external_id: str | None, mfa: str | None, duration: int | None
) -> dict[str, object]:
    # exactly what AssumeRoleProvider._load_creds_via_assume_role builds
    extra: dict[str, object] = {}
    if session is not None:
        extra["RoleSessionName"] = session
    if external_id is not None:
        extra["ExternalId"] = external_id
    if mfa is not None:
        extra["SerialNumber"] = mfa
    if duration is not None:
        extra["DurationSeconds"] = duration
    return extra


@given(
    arn=arns,
    session=st.none() | names,
    external_id=st.none() | names,
    mfa=st.none() | names,
    duration=st.none() | st.integers(min_value=0, max_value=129600),
)
@example(
    arn="arn:aws:iam::123456789012:role/ünïcode/path",
    session="",
    external_id="",
    mfa=None,
    duration=900,
)
@example(
    arn="arn:aws:iam::123456789012:role/r", session=None, external_id=None, mfa=None, duration=None
)
def test_assume_role_key_matches_botocore(
    arn: str, session: str | None, external_id: str | None, mfa: str | None, duration: int | None
) -> None:
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=_never_called,
        source_credentials=Credentials("AKIAEXAMPLE", "secret"),
        role_arn=arn,
        extra_args=_assume_role_extra(session, external_id, mfa, duration),
    )
    ours = cli_cache.assume_role_cache_key(
        arn,
        role_session_name=session,
        external_id=external_id,
        mfa_serial=mfa,
        duration_seconds=duration,
    )
    assert ours == fetcher._create_cache_key()


@given(arn=arns, session=st.none() | names)
@example(arn="arn:aws:iam::123456789012:role/web", session="")
def test_web_identity_key_matches_botocore(arn: str, session: str | None) -> None:
    extra = {} if session is None else {"RoleSessionName": session}
    fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
        client_creator=_never_called,
        web_identity_token_loader=lambda: "token",
        role_arn=arn,
        extra_args=extra,
    )
    assert cli_cache.web_identity_cache_key(arn, session) == fetcher._create_cache_key()


@given(
    account=st.from_regex(r"\d{12}", fullmatch=True) | names,
    role=names,
    session=st.none() | names,
    start_url=st.none() | names,
)
@example(
    account="123456789012", role="Admin", session="", start_url="https://d-1.awsapps.com/start"
)
def test_sso_role_key_matches_botocore(
    account: str, role: str, session: str | None, start_url: str | None
) -> None:
    fetcher = SSOCredentialFetcher(
        start_url=start_url,
        sso_region="us-east-1",
        role_name=role,
        account_id=account,
        client_creator=_never_called,
        sso_session_name=session,
    )
    ours = cli_cache.sso_role_cache_key(account, role, session_name=session, start_url=start_url)
    assert ours == fetcher._create_cache_key()


def test_key_differs_when_duration_set() -> None:
    arn = "arn:aws:iam::123456789012:role/r"
    assert cli_cache.assume_role_cache_key(arn) != cli_cache.assume_role_cache_key(
        arn, duration_seconds=3600
    )


def _entry(expiration: str, **extra: object) -> dict[str, object]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIAY34FZKBOKMUTVV7A",
            "SecretAccessKey": SECRET,
            "SessionToken": TOKEN,
            "Expiration": expiration,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROA:s",
            "Arn": "arn:aws:sts::123456789012:assumed-role/r/s",
        },
        **extra,
    }


def test_assume_role_entry(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    path = fake.write(f"{CACHE}/abc123.json", _entry("2030-01-01T13:00:00UTC"))
    [obs] = cli_cache.collect(fake.target)
    assert obs.source == "cli-cache"
    assert obs.origin == str(path)
    assert obs.location is not None and obs.location.path == str(path)
    assert obs.file_mode == 0o600
    assert obs.expires_at == datetime(2030, 1, 1, 13, tzinfo=UTC)
    assert obs.refreshable is False
    assert obs.details == {
        "cache_key": "abc123",
        "provider_type": "assume-role",
        "assumed_role_arn": "arn:aws:sts::123456789012:assumed-role/r/s",
    }
    assert obs.key_kind is KeyKind.TEMPORARY
    assert obs.access_key_masked == "ASIA…VV7A"
    assert obs.session_token_fingerprint == fingerprint(TOKEN)
    assert obs.has_secret is True
    assert obs.account_id is not None and len(obs.account_id) == 12
    assert obs.problems == ()


def test_sso_entry_with_account_id(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    body = {
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLE1234567",
            "SecretAccessKey": SECRET,
            "SessionToken": TOKEN,
            "Expiration": "2030-01-01T12:30:00Z",
            "AccountId": "111122223333",
        },
    }
    fake.write(f"{CACHE}/k.json", body)
    [obs] = cli_cache.collect(fake.target)
    assert obs.details["provider_type"] == "sso"
    assert obs.details["assumed_role_arn"] is None
    assert obs.account_id == "111122223333"
    assert obs.expires_at == datetime(2030, 1, 1, 12, 30, tzinfo=UTC)


def test_no_secret_leaves_in_dump(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/k.json", _entry("2030-01-01T13:00:00Z"))
    [obs] = cli_cache.collect(fake.target)
    dumped = to_json(obs) + repr(obs)
    assert SECRET not in dumped
    assert TOKEN not in dumped
    assert "ASIAY34FZKBOKMUTVV7A" not in dumped


def test_bad_timestamp_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/k.json", _entry("notatimestamp"))
    [obs] = cli_cache.collect(fake.target)
    assert obs.expires_at is None
    assert [p.code for p in obs.problems] == ["CA702"]
    assert "Credentials.Expiration is not a timestamp" in obs.problems[0].message
    assert "notatimestamp" not in obs.problems[0].message


def test_unparseable_file_keeps_mode_and_names_file(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    path = fake.write(
        f"{CACHE}/broken.json", '{"Credentials": {"SessionToken": "' + TOKEN, mode=0o644
    )
    [obs] = cli_cache.collect(fake.target)
    assert obs.file_mode == 0o644
    assert obs.problems[0].code == "CA702"
    assert obs.problems[0].message == f"{path}: not valid JSON"
    assert TOKEN not in to_json(obs)


def test_mode_0644_is_kept(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/k.json", _entry("2030-01-01T13:00:00Z"), mode=0o644)
    [obs] = cli_cache.collect(fake.target)
    assert obs.file_mode == 0o644
    assert obs.problems == ()


def test_oversized_file(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/big.json", b" " * (2 * 1024 * 1024))
    [obs] = cli_cache.collect(fake.target)
    assert "file too large" in obs.problems[0].message


def test_symlink_to_fifo_does_not_hang(tmp_path: Path) -> None:
    import os

    fake = make_home(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (fake.home / CACHE).mkdir(parents=True)
    (fake.home / CACHE / "pipe.json").symlink_to(fifo)
    [obs] = cli_cache.collect(fake.target)
    assert obs.problems[0].message.endswith("not a regular file")


def test_non_object_json_and_missing_credentials(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(f"{CACHE}/a.json", "[1, 2]")
    fake.write(f"{CACHE}/b.json", {"ResponseMetadata": {}})
    a, b = cli_cache.collect(fake.target)
    assert a.problems[0].message.endswith("JSON list, expected an object")
    assert "no Credentials object" in b.problems[0].message


def test_missing_dir_and_other_files_ignored(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    assert cli_cache.collect(fake.target) == []
    fake.write(f"{CACHE}/notes.txt", "hello")
    assert cli_cache.collect(fake.target) == []


def test_cache_dir_is_a_file(tmp_path: Path) -> None:
    fake = make_home(tmp_path)
    fake.write(".aws/cli/cache", "x")
    [obs] = cli_cache.collect(fake.target)
    assert obs.problems[0].message.endswith("not a directory")


def test_entry_written_by_botocore_json_file_cache(tmp_path: Path) -> None:
    """The exact bytes botocore's JSONFileCache writes (datetime → ``...UTC``) parse back."""
    from botocore.utils import JSONFileCache

    fake = make_home(tmp_path)
    cache = JSONFileCache(str(fake.home / CACHE))
    expiration = datetime(2030, 1, 1, 12, 45, tzinfo=UTC)
    key = cli_cache.assume_role_cache_key("arn:aws:iam::123456789012:role/r")
    body = _entry("x")
    body["Credentials"]["Expiration"] = expiration  # type: ignore[index]
    cache[key] = body
    raw = json.loads((fake.home / CACHE / f"{key}.json").read_text())
    assert raw["Credentials"]["Expiration"].endswith("UTC")
    [obs] = cli_cache.collect(fake.target)
    assert obs.details["cache_key"] == key
    assert obs.expires_at == expiration
