"""``scan`` judges the bearer-token files it already reads — the web-identity token file and
the container authorization token file — through ``credaudit.tokens``: its findings carry the
same codes and messages as ``credaudit token --file`` on the same file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from credaudit.cli import cli
from tests.tokens.helpers import T0, claims, rs256, unsigned

AT = "2026-11-22T09:00:00Z"


def _scan(tmp_path: Path, env: dict[str, str]) -> list[dict[str, object]]:
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            "--no-network",
            "--env-file",
            str(env_file),
            "--home",
            str(home),
            "--at",
            AT,
            "--format",
            "json",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    findings: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return findings


def _token_messages(path: Path) -> dict[str, str]:
    result = CliRunner().invoke(cli, ["token", "--file", str(path), "--at", AT, "--format", "json"])
    return {f["code"]: f["message"] for f in json.loads(result.stdout)["findings"]}


def test_a_web_identity_token_from_the_future_is_ca803_in_both(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(rs256(claims(iat=T0 + 600, exp=T0 + 4200, aud="sts.amazonaws.com")))
    found = _scan(
        tmp_path,
        {
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/app",
        },
    )
    ca803 = [f for f in found if f["code"] == "CA803"]
    assert len(ca803) == 1
    assert ca803[0]["message"] == f"{token_file}: {_token_messages(token_file)['CA803']}"


def test_an_unsigned_web_identity_token_is_ca806_in_both(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(unsigned(claims(exp=T0 + 3600)))
    found = _scan(
        tmp_path,
        {
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/app",
        },
    )
    assert [f["message"] for f in found if f["code"] == "CA806"] == [
        f"{token_file}: {_token_messages(token_file)['CA806']}"
    ]


def test_an_expired_pod_identity_token_is_ca801_in_both(tmp_path: Path) -> None:
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(rs256(claims(exp=T0 - 7200, aud="pods.eks.amazonaws.com")))
    found = _scan(
        tmp_path,
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        },
    )
    ca801 = [f for f in found if f["code"] == "CA801"]
    assert len(ca801) == 1
    where = f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {token_file}"
    assert ca801[0]["message"] == f"{where}: {_token_messages(token_file)['CA801']}"


def test_an_opaque_ecs_token_adds_nothing(tmp_path: Path) -> None:
    token_file = tmp_path / "tok"
    token_file.write_text("some-opaque-ecs-token")
    found = _scan(
        tmp_path,
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        },
    )
    assert not [f for f in found if str(f["code"]).startswith("CA8")]
