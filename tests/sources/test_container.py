"""The container-endpoint source: URI rules as botocore's, the token file, and a local endpoint.

Only loopback is ever contacted: cases that name 169.254.170.2 (RELATIVE_URI) or a
refused host run with the network off, which still judges the URI and the token file.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.analysis.context import ScanContext
from credaudit.analysis.endpoint_rules import evaluate
from credaudit.model import Finding, Observation
from credaudit.report.json import to_json
from credaudit.sources import container
from credaudit.sources.http_probe import probe_statuses
from tests.helpers_home import make_home
from tests.stubs.servers import (
    SECRET_KEY,
    SESSION_TOKEN,
    Request,
    credentials_document,
    respond,
    serving,
    serving_made,
    silent,
)

AUTH = "Bearer-FAKE-CONTAINER-AUTH-never-printed"
LIVENESS = 5.0


def findings(tmp_path: Path, observations: list[Observation]) -> list[Finding]:
    target = make_home(tmp_path, now=datetime.now(UTC)).target
    return evaluate(
        ScanContext(target=target, budget=Budget(), observations=observations, chain=[])
    )


def assert_clean(observations: list[Observation], found: list[Finding]) -> None:
    text = " ".join(to_json(o) + repr(o) for o in observations)
    text += " ".join(to_json(f) for f in found)
    for secret in (AUTH, SECRET_KEY, SESSION_TOKEN):
        assert secret not in text


def endpoint(status: int = 200, body: object = None):  # type: ignore[no-untyped-def]
    def handle(_req: Request, conn) -> None:  # type: ignore[no-untyped-def]
        payload = body if body is not None else credentials_document(timedelta(hours=1))
        respond(conn, status, payload if isinstance(payload, str) else json.dumps(payload))

    return handle


def collect(tmp_path: Path, env: dict[str, str], **target: object) -> list[Observation]:
    home = make_home(tmp_path, env, now=datetime.now(UTC), **target)
    start = time.monotonic()
    found = container.collect(home.target)
    assert time.monotonic() - start < LIVENESS
    return found


def test_not_configured_yields_nothing(tmp_path: Path) -> None:
    assert collect(tmp_path, {}) == []


def test_full_uri_with_token_file_serves_credentials(tmp_path: Path) -> None:
    token_file = tmp_path / "eks-token"
    token_file.write_text(AUTH)
    with serving(endpoint()) as server:
        (obs,) = collect(
            tmp_path,
            {
                container.FULL_URI: server.url + "v1/credentials?id=x",
                container.AUTH_TOKEN_FILE: str(token_file),
                container.AUTH_TOKEN: "the-env-token-loses",
            },
        )
    assert obs.details["probe"] == "ran"
    assert obs.details["auth"] == "token-file"
    assert obs.details["endpoint"] == server.url + "v1/credentials"  # query dropped
    assert obs.source == "container-role" and obs.refreshable
    assert obs.access_key_id == "ASIAY34FZKBOKMUTVV7A"
    assert obs.expires_at is not None
    assert server.requests[0].headers["authorization"] == AUTH  # the file wins
    assert server.requests[0].headers["accept"] == "application/json"
    found = findings(tmp_path, [obs])
    assert found == []
    assert_clean([obs], found)
    assert probe_statuses([obs])[0].status == "ran"


def test_env_token_used_without_file(tmp_path: Path) -> None:
    with serving(endpoint()) as server:
        (obs,) = collect(tmp_path, {container.FULL_URI: server.url, container.AUTH_TOKEN: AUTH})
    assert server.requests[0].headers["authorization"] == AUTH
    assert obs.details["auth"] == "token"
    assert_clean([obs], [])


def test_relative_uri_wins_and_goes_to_the_ecs_agent(tmp_path: Path) -> None:
    (obs,) = collect(
        tmp_path,
        {container.RELATIVE_URI: "/v2/credentials/abc", container.FULL_URI: "http://example.com/"},
        network=False,
    )
    assert obs.details["endpoint"] == "http://169.254.170.2/v2/credentials/abc"
    assert obs.details["kind"] == "ecs"
    assert obs.details["probe"] == "skipped"
    assert findings(tmp_path, [obs]) == []


def test_missing_token_file_is_ca504_even_offline(tmp_path: Path) -> None:
    (obs,) = collect(
        tmp_path,
        {
            container.FULL_URI: "http://169.254.170.23/v1/credentials",
            container.AUTH_TOKEN_FILE: str(tmp_path / "gone"),
        },
        network=False,
    )
    assert obs.details["probe"] == "failed"
    assert obs.details["failure"] == "token-file"
    assert obs.details["kind"] == "eks-pod-identity"
    found = findings(tmp_path, [obs])
    assert [f.code for f in found] == ["CA504"]
    assert "no such file" in found[0].message


def test_token_file_with_newline_is_refused_like_botocore(tmp_path: Path) -> None:
    token_file = tmp_path / "tok"
    token_file.write_text(AUTH + "\n")
    with serving(endpoint()) as server:
        (obs,) = collect(
            tmp_path, {container.FULL_URI: server.url, container.AUTH_TOKEN_FILE: str(token_file)}
        )
        assert server.requests == []  # botocore raises before sending
    assert obs.details["failure"] == "token-file"
    assert "line break" in str(obs.details["probe_detail"])
    assert_clean([obs], findings(tmp_path, [obs]))


@pytest.mark.parametrize(
    "uri",
    [
        "http://example.com/creds",
        "http://169.254.169.254/",
        "http://10.0.0.1/",
        "http://[fd00:ec2::24]/",
    ],
)
def test_refused_hosts_are_ca505(tmp_path: Path, uri: str) -> None:
    (obs,) = collect(tmp_path, {container.FULL_URI: uri})  # never contacted: refused first
    assert obs.details["failure"] == "uri-rejected"
    assert obs.details["probe"] == "skipped"
    found = findings(tmp_path, [obs])
    assert [f.code for f in found] == ["CA505"]


@pytest.mark.parametrize("status", [401, 500])
def test_endpoint_error_is_ca504(tmp_path: Path, status: int) -> None:
    with serving(endpoint(status, "denied")) as server:
        (obs,) = collect(tmp_path, {container.FULL_URI: server.url, container.AUTH_TOKEN: AUTH})
    assert obs.details["failure"] == f"http-{status}"
    found = findings(tmp_path, [obs])
    assert [f.code for f in found] == ["CA504"]
    assert_clean([obs], found)


def test_bad_json_and_missing_fields_are_ca504(tmp_path: Path) -> None:
    for body in ("{not json", {"AccessKeyId": "ASIA", "Expiration": "2030-01-01T00:00:00Z"}):
        with serving(endpoint(200, body)) as server:
            (obs,) = collect(tmp_path, {container.FULL_URI: server.url})
        assert obs.details["failure"] == "bad-document"
        assert [f.code for f in findings(tmp_path, [obs])] == ["CA504"]


def test_hanging_endpoint_ends_at_the_deadline(tmp_path: Path) -> None:
    with serving_made(silent) as server:
        (obs,) = collect(tmp_path, {container.FULL_URI: server.url})
    assert obs.details["failure"] == "unreachable"
    assert [f.code for f in findings(tmp_path, [obs])] == ["CA504"]


def _botocore_allows(uri: str) -> bool:
    from botocore.utils import ContainerMetadataFetcher

    try:
        ContainerMetadataFetcher()._validate_allowed_url(uri)
    except ValueError:
        return False
    return True


HOSTS = st.sampled_from(
    [
        "127.0.0.1",
        "127.5.6.7",
        "[::1]",
        "localhost",
        "LOCALHOST",
        "169.254.170.2",
        "169.254.170.23",
        "[fd00:ec2::23]",
        "[FD00:EC2::23]",
        "169.254.169.254",
        "example.com",
        "10.0.0.1",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    host=HOSTS,
    port=st.sampled_from(["", ":80", ":8080"]),
    path=st.text(alphabet="/abc?=&", max_size=10),
)
def test_uri_rule_matches_botocore(scheme: str, host: str, port: str, path: str) -> None:
    uri = f"{scheme}://{host}{port}{path}" if scheme else f"{host}{port}{path}"
    assert container.uri_allowed(uri) == _botocore_allows(uri)


@settings(max_examples=60, deadline=None)
@given(
    body=st.one_of(
        st.text(max_size=200),
        st.dictionaries(
            st.sampled_from(["AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"]),
            st.one_of(st.text(max_size=25), st.integers(), st.none()),
        ).map(json.dumps),
    )
)
def test_fuzzed_container_answers_never_raise(body: str) -> None:
    import tempfile

    with serving(endpoint(200, body)) as server, tempfile.TemporaryDirectory() as tmp:
        # The answer is what is under test, not the deadline: a loaded CI machine once took
        # longer than the default 1 s to answer one example, a timeout reported unreachable.
        (obs,) = collect(
            Path(tmp), {container.FULL_URI: server.url}, probe_timeout=timedelta(seconds=4)
        )
    assert obs.details["probe"] in ("ran", "failed")
    if obs.details["probe"] == "ran":
        assert obs.expires_at is not None and obs.access_key_id is not None
    else:
        assert obs.details["failure"] == "bad-document"
