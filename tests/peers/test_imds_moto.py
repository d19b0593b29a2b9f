"""The real peer: moto server's instance-metadata endpoint, read by credaudit and by botocore.

Both tools are pointed at the same endpoint through ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` in
a scrubbed environment (this machine sets AWS_CA_BUNDLE and possibly more).  credaudit must
report the role and the expiry botocore's own ``iam-role`` provider reads, and its chain must
pick the provider ``get_credentials().method`` picks, also when a container endpoint (a
local stub: moto has none) is configured next to it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from credaudit.analysis.budget import Budget
from credaudit.cli import cli
from credaudit.durations import parse_instant
from credaudit.scan import run_scan
from credaudit.sources import imds
from tests.helpers_home import make_home
from tests.stubs.servers import credentials_document, respond, serving

pytestmark = pytest.mark.peer
# moto loads its backends lazily on the first request (hundreds of ms on a busy machine);
# these tests compare answers with botocore's, so they give the probes time to spare.
PROBE_TIMEOUT = timedelta(seconds=5)


def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict[str, str]:
    """Scrub this process's AWS environment and set only ``env`` (botocore reads os.environ)."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "BOTO")):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    full = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        **env,
    }
    for key, value in full.items():
        monkeypatch.setenv(key, value)
    return full


def botocore_credentials() -> tuple[str | None, object]:
    import botocore.session

    creds = botocore.session.Session().get_credentials()
    return (creds.method if creds is not None else None), creds


def _same_document_expiry(ours: datetime, theirs: datetime) -> bool:
    """moto stamps each credentials response with its own ``now + 1 day`` (whole seconds), so
    two reads of the endpoint a moment apart may differ by a second: within two seconds is the
    same document's expiry, where a misread (a time zone, a field) is off by hours."""
    return abs(ours - theirs) <= timedelta(seconds=2)


def test_same_role_and_expiry_as_botocore(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from botocore.utils import InstanceMetadataFetcher

    url = moto_endpoint + "/"
    env = bare_env(monkeypatch, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=url)
    home = make_home(tmp_path, env, now=datetime.now(UTC), probe_timeout=PROBE_TIMEOUT)
    (obs,) = imds.collect(home.target)
    assert obs.details["probe"] == "ran", obs.details
    assert obs.details["imds_version"] == "v2"

    theirs = InstanceMetadataFetcher(
        config={"ec2_metadata_service_endpoint": url}
    ).retrieve_iam_role_credentials()
    assert obs.details["role_name"] == theirs["role_name"]
    assert obs.access_key_id == theirs["access_key"]
    assert obs.expires_at is not None
    assert _same_document_expiry(obs.expires_at, parse_instant(theirs["expiry_time"]))
    assert obs.expires_at - datetime.now(UTC) > timedelta(hours=23)  # moto: always 24 h

    method, creds = botocore_credentials()
    assert method == "iam-role"
    assert obs.access_key_id == creds.access_key  # type: ignore[attr-defined]
    assert _same_document_expiry(obs.expires_at, creds._expiry_time)  # type: ignore[attr-defined]


def test_scan_chain_picks_iam_role_like_botocore(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = bare_env(monkeypatch, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=moto_endpoint + "/")
    method, _ = botocore_credentials()
    report = run_scan(
        make_home(tmp_path, env, now=datetime.now(UTC), probe_timeout=PROBE_TIMEOUT).target,
        Budget(),
    )
    (entry,) = report.chain
    assert entry.resolved is not None
    assert entry.resolved.source == method == "iam-role"
    assert [asdict(p) for p in report.probes] == [
        {"name": "imds", "status": "ran", "detail": moto_endpoint + "/"}
    ]
    assert not [f for f in report.findings if f.code.startswith("CA5")]


def test_container_endpoint_wins_over_imds_like_botocore(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def handle(_req, conn):  # type: ignore[no-untyped-def]
        respond(conn, 200, json.dumps(credentials_document(timedelta(hours=1))))

    with serving(handle) as container:
        env = bare_env(
            monkeypatch,
            tmp_path,
            AWS_EC2_METADATA_SERVICE_ENDPOINT=moto_endpoint + "/",
            AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url + "creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="container-auth",
        )
        method, creds = botocore_credentials()
        report = run_scan(
            make_home(tmp_path, env, now=datetime.now(UTC), probe_timeout=PROBE_TIMEOUT).target,
            Budget(),
        )
    (entry,) = report.chain
    assert entry.resolved is not None
    assert entry.resolved.source == method == "container-role"
    assert {p.name: p.status for p in report.probes} == {"container": "ran", "imds": "ran"}
    winner = report.credentials[0]
    assert winner.access_key_id == "ASIA…VV7A"
    assert creds.access_key == "ASIAY34FZKBOKMUTVV7A"  # type: ignore[attr-defined]


def test_cli_scan_against_moto_reports_the_probe(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = bare_env(monkeypatch, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=moto_endpoint + "/")
    result = CliRunner(env=env).invoke(
        cli, ["scan", "--format", "json", "--home", env["HOME"], "--probe-timeout", "5s"]
    )
    document = json.loads(result.output)
    assert document["chain"][0]["resolved"]["source"] == "iam-role"
    assert document["probes"][0]["status"] == "ran"
    assert "SecretAccessKey" not in result.output
