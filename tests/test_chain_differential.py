"""credaudit's chain must pick the provider botocore picks.

Hypothesis builds random hosts (env vars, config and credentials files, web-identity token
files, credential_process commands, SSO sessions, role chains, explicit or env-selected
profiles) with the metadata service disabled, and both tools resolve them: botocore through
``Session().get_credentials().method`` (or the exception it raises), credaudit through
``run_scan``'s chain.  They must agree on the winner, on "nothing", and on "error".
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.clock import Clock
from credaudit.scan import run_scan
from credaudit.target import Target

NAMES = ["default", "alpha", "beta", "gamma"]
ROLE = "arn:aws:iam::123456789012:role/r"

profile_kinds = st.sampled_from(
    [
        "empty",
        "static-config",
        "static-creds",
        "static-both",
        "partial-creds",
        "role-source",
        "role-credsource-env",
        "role-nosource",
        "role-bad-credsource",
        "sso-legacy",
        "sso-session",
        "sso-partial",
        "sso-missing-session",
        "web-identity",
        "web-identity-no-role",
        "process",
        "region-only",
    ]
)


@st.composite
def hosts(draw: st.DrawFn) -> dict[str, Any]:
    present = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1, max_size=4))
    # Role profiles are drawn more often: a role chain is where precedence is subtle.
    kinds = st.one_of(profile_kinds, st.sampled_from(["role-source", "static-creds"]))
    profiles = {name: draw(kinds) for name in present}
    sources = {name: draw(st.sampled_from([*present, "missing"])) for name in present}
    env: dict[str, str] = {}
    if draw(st.booleans()):
        env["AWS_ACCESS_KEY_ID"] = "ASIAENVKEY0000000001"
        if draw(st.integers(0, 4)):
            env["AWS_SECRET_ACCESS_KEY"] = "envsecret"
        if draw(st.booleans()):
            env["AWS_SESSION_TOKEN"] = "envtoken"
    selector = draw(st.sampled_from(["none", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "explicit"]))
    chosen = draw(st.one_of(st.sampled_from(present), st.sampled_from([*NAMES, "missing"])))
    if draw(st.integers(0, 3)) == 0:
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "TOKENFILE"
        if draw(st.booleans()):
            env["AWS_ROLE_ARN"] = ROLE
    return {
        "profiles": profiles,
        "sources": sources,
        "env": env,
        "selector": selector,
        "chosen": chosen,
    }


def _write_host(home: Path, host: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    token = home / "token.jwt"
    token.write_text("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.")
    script = home / "proc.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'ASIAPROC000000000001',"
        " 'SecretAccessKey': 'x', 'SessionToken': 'y'}))\n"
    )
    config: list[str] = [
        "[sso-session corp]",
        "sso_start_url = https://corp.awsapps.com/start",
        "sso_region = us-east-1",
        "",
    ]
    creds: list[str] = []
    for name, kind in host["profiles"].items():
        header = "[default]" if name == "default" else f"[profile {name}]"
        src = host["sources"][name]
        lines: list[str] = []
        cred_lines: list[str] = []
        if kind in ("static-config", "static-both"):
            lines += ["aws_access_key_id = AKIACONFIG0000000001", "aws_secret_access_key = s"]
        if kind in ("static-creds", "static-both"):
            cred_lines += ["aws_access_key_id = AKIACREDS00000000001", "aws_secret_access_key = s"]
        if kind == "partial-creds":
            cred_lines += ["aws_access_key_id = AKIACREDS00000000002"]
        if kind == "role-source":
            lines += [f"role_arn = {ROLE}", f"source_profile = {src}"]
        if kind == "role-credsource-env":
            lines += [f"role_arn = {ROLE}", "credential_source = Environment"]
        if kind == "role-nosource":
            lines += [f"role_arn = {ROLE}"]
        if kind == "role-bad-credsource":
            lines += [f"role_arn = {ROLE}", "credential_source = Nowhere"]
        if kind == "sso-legacy":
            lines += [
                "sso_start_url = https://legacy.awsapps.com/start",
                "sso_region = us-east-1",
                "sso_account_id = 123456789012",
                "sso_role_name = Admin",
            ]
        if kind == "sso-session":
            lines += [
                "sso_session = corp",
                "sso_account_id = 123456789012",
                "sso_role_name = Admin",
            ]
        if kind == "sso-partial":
            lines += ["sso_account_id = 123456789012"]
        if kind == "sso-missing-session":
            lines += ["sso_session = nope", "sso_account_id = 1", "sso_role_name = R"]
        if kind == "web-identity":
            lines += [f"web_identity_token_file = {token}", f"role_arn = {ROLE}"]
        if kind == "web-identity-no-role":
            lines += [f"web_identity_token_file = {token}"]
        if kind == "process":
            lines += [f"credential_process = {sys.executable} {script}"]
        if kind == "region-only":
            lines += ["region = eu-west-1"]
        config += [header, *lines, ""]
        if cred_lines:
            creds += [f"[{name}]", *cred_lines, ""]
    (aws / "config").write_text("\n".join(config))
    (aws / "credentials").write_text("\n".join(creds))
    env = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LOGIN_CACHE_DIRECTORY": str(home / "login"),
        **{k: (str(token) if v == "TOKENFILE" else v) for k, v in host["env"].items()},
    }
    explicit: str | None = None
    if host["selector"] == "explicit":
        explicit = host["chosen"]
    elif host["selector"] != "none":
        env[host["selector"]] = host["chosen"]
    return env, explicit


def _botocore(env: dict[str, str], explicit: str | None) -> str:
    import botocore.session

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        session = botocore.session.Session(profile=explicit)
        creds = session.get_credentials()
        return "none" if creds is None else str(creds.method)
    except Exception as exc:
        return f"error:{type(exc).__name__}"
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _credaudit(
    env: dict[str, str],
    explicit: str | None,
    home: Path,
    network: bool = False,
    probe_timeout: timedelta = timedelta(seconds=1),
) -> tuple[str, str | None]:
    target = Target(
        root=Path("/"),
        home=PurePosixPath(str(home)),
        env=env,
        clock=Clock(datetime(2026, 11, 22, 4, 0, tzinfo=UTC)),
        profile=explicit,
        network=network,
        probe_timeout=probe_timeout,
    )
    entry = run_scan(target, Budget()).chain[0]
    if entry.resolved is not None:
        return entry.resolved.source, None
    return ("error" if entry.error else "none"), entry.error


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(host=hosts())
def test_winner_matches_botocore(
    host: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    env, explicit = _write_host(home, host)
    expected = _botocore(env, explicit)
    got, why = _credaudit(env, explicit, home)
    expected_kind = "error" if expected.startswith("error:") else expected
    event(f"botocore: {expected}")
    assert got == expected_kind, (
        f"botocore: {expected}, credaudit: {got} ({why})\nhost: {json.dumps(host, indent=1)}"
    )


def test_explicit_profile_drops_env_but_aws_profile_does_not(tmp_path: Path) -> None:
    host = {
        "profiles": {"alpha": "static-creds"},
        "sources": {"alpha": "alpha"},
        "env": {"AWS_ACCESS_KEY_ID": "ASIAENVKEY0000000001", "AWS_SECRET_ACCESS_KEY": "s"},
        "selector": "AWS_PROFILE",
        "chosen": "alpha",
    }
    env, explicit = _write_host(tmp_path, host)
    assert _credaudit(env, explicit, tmp_path)[0] == "env" == _botocore(env, explicit)
    assert (
        _credaudit(env, "alpha", tmp_path)[0]
        == "shared-credentials-file"
        == _botocore(env, "alpha")
    )
