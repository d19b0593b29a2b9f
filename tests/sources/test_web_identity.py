"""Web-identity token files: found via env and profiles, decoded unverified, never kept."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from credaudit.report.json import to_json
from credaudit.sources import web_identity
from tests.helpers_home import NOW, make_home

IAT = NOW - timedelta(minutes=10)
EXP = NOW + timedelta(minutes=50)


def _token(**claims: Any) -> str:
    payload: dict[str, Any] = {
        "iss": "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
        "aud": "sts.amazonaws.com",
        "sub": "system:serviceaccount:default:app",
        "iat": int(IAT.timestamp()),
        "exp": int(EXP.timestamp()),
    }
    payload.update(claims)
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None}, "k" * 32, algorithm="HS256"
    )


def _write_token(path: Path, token: str, mtime: datetime = IAT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    os.chmod(path, 0o644)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def test_env_token(tmp_path: Path) -> None:
    token_path = tmp_path / "var" / "token"
    token = _token()
    _write_token(token_path, token)
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_path)})
    [obs] = web_identity.collect(fake.target)
    assert obs.source == "web-identity-token"
    assert obs.origin == str(token_path)
    assert obs.profile is None
    assert obs.file_mode == 0o644
    assert obs.expires_at == EXP
    assert obs.issued_at == IAT
    assert obs.problems == ()
    assert obs.details == {
        "token_file": str(token_path),
        "from_env": True,
        "mtime": IAT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "age_seconds": 600,
        "audience": "sts.amazonaws.com",
        "issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
        "lifetime_seconds": 3600,
    }
    dumped = to_json(obs) + repr(obs)
    assert token not in dumped
    assert token.split(".")[2] not in dumped
    assert "system:serviceaccount" not in dumped


def test_profiles_and_dedup(tmp_path: Path) -> None:
    shared = tmp_path / "shared-token"
    own = tmp_path / "own-token"
    _write_token(shared, _token(aud=["a", "b"]))
    _write_token(own, _token(exp=None))
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(shared)})
    fake.write(
        ".aws/config",
        f"[profile one]\nrole_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = {shared}\n"
        f"[profile two]\nrole_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = {own}\n",
    )
    env_obs, two = web_identity.collect(fake.target)
    assert (env_obs.profile, env_obs.details["from_env"]) == (None, True)
    assert env_obs.details["audience"] == "a,b"
    assert (two.profile, two.details["from_env"]) == ("two", False)
    assert two.expires_at is None
    assert two.details["lifetime_seconds"] is None
    assert [p.message for p in two.problems] == [f"{own}: JWT has no exp claim"]


def test_missing_file(tmp_path: Path) -> None:
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/credaudit/token"})
    [obs] = web_identity.collect(fake.target)
    assert obs.problems[0].code == "CA702"
    assert obs.problems[0].message == "/nonexistent/credaudit/token: token file not found"


def test_not_a_jwt(tmp_path: Path) -> None:
    path = tmp_path / "token"
    _write_token(path, "sometoken-secret-value")
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(path)})
    [obs] = web_identity.collect(fake.target)
    assert obs.problems[0].code == "CA702"
    assert "not a JWT" in obs.problems[0].message
    assert "sometoken-secret-value" not in to_json(obs)
    assert obs.file_mode == 0o644


def test_three_parts_but_garbage(tmp_path: Path) -> None:
    path = tmp_path / "token"
    _write_token(path, "aaa.bbb.ccc")
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(path)})
    [obs] = web_identity.collect(fake.target)
    assert obs.problems[0].message == f"{path}: not a JWT (cannot decode header or payload)"


def test_bad_claim_types(tmp_path: Path) -> None:
    path = tmp_path / "token"
    _write_token(path, _token(exp="tomorrow", iat=10**20))
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(path)})
    [obs] = web_identity.collect(fake.target)
    messages = [p.message for p in obs.problems]
    assert f"{path}: JWT exp is not a number" in messages
    assert f"{path}: JWT iat is out of range" in messages


def test_tilde_path_is_not_expanded_like_botocore(tmp_path: Path) -> None:
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": "~/token"})
    _write_token(fake.home / "token", _token())
    [obs] = web_identity.collect(fake.target)
    assert "not absolute" in obs.problems[0].message


def test_root_mapping(tmp_path: Path) -> None:
    """With --root, the in-target path is reported but the file is read under the root."""
    from dataclasses import replace

    root = tmp_path / "image"
    _write_token(root / "var/run/token", _token())
    fake = make_home(tmp_path, env={"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"})
    target = replace(fake.target, root=root)
    [obs] = web_identity.collect(target)
    assert obs.origin == "/var/run/token"
    assert obs.expires_at == EXP


def test_nothing_configured(tmp_path: Path) -> None:
    assert web_identity.collect(make_home(tmp_path).target) == []
