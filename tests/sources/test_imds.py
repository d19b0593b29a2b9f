"""The instance-metadata source against local stubs that hang, trickle, flood, lie and rotate.

Each case asserts what the probe reports, the finding the endpoint rules draw from it, and
that collecting ends within a generous liveness bound (never a speed assertion).
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credaudit.analysis.budget import Budget
from credaudit.analysis.context import ScanContext
from credaudit.analysis.endpoint_rules import evaluate
from credaudit.model import Finding, Observation
from credaudit.report.json import to_json
from credaudit.sources import imds
from credaudit.sources.http_probe import probe_statuses
from tests.helpers_home import make_home
from tests.stubs.servers import (
    IMDS_TOKEN,
    SECRET_KEY,
    SESSION_TOKEN,
    credentials_document,
    fake_imds,
    flood,
    serving,
    serving_made,
    silent,
    trickle,
)

LIVENESS = 5.0  # seconds: "the scan ends", not a speed test


def now() -> datetime:
    # The stubs stamp documents with the real clock, so these targets use it too.
    return datetime.now(UTC).replace(microsecond=0)


def collect(
    tmp_path: Path, url: str, probe_timeout: timedelta | None = None, **env: str
) -> tuple[list[Observation], float]:
    settings = {} if probe_timeout is None else {"probe_timeout": probe_timeout}
    home = make_home(
        tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": url, **env}, now=now(), **settings
    )
    start = time.monotonic()
    found = imds.collect(home.target)
    elapsed = time.monotonic() - start
    assert elapsed < LIVENESS
    return found, elapsed


def findings_for(tmp_path: Path, observations: list[Observation]) -> list[Finding]:
    target = make_home(tmp_path, now=now()).target
    return evaluate(
        ScanContext(target=target, budget=Budget(), observations=observations, chain=[])
    )


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def assert_no_secrets(observations: list[Observation], findings: list[Finding] = ()) -> None:  # type: ignore[assignment]
    dumped = " ".join(to_json(o) + repr(o) for o in observations)
    dumped += " ".join(to_json(f) for f in findings)
    for secret in (IMDS_TOKEN, SECRET_KEY, SESSION_TOKEN):
        assert secret not in dumped


def test_v2_success_reads_role_expiry_and_fingerprint(tmp_path: Path) -> None:
    doc = credentials_document(timedelta(hours=6))
    with fake_imds(documents=[doc]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.source == "iam-role"
    assert obs.details["probe"] == "ran"
    assert obs.details["imds_version"] == "v2"
    assert obs.details["role_name"] == "app-role"
    assert obs.details["code"] == "Success" and obs.details["type"] == "AWS-HMAC"
    assert obs.origin == server.url + "latest/meta-data/iam/security-credentials/app-role"
    assert obs.access_key_id == "ASIAY34FZKBOKMUTVV7A"
    assert obs.access_key_masked == "ASIA…VV7A"
    assert obs.refreshable is True
    assert obs.expires_at is not None
    assert obs.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") == doc["Expiration"]
    assert obs.issued_at is not None
    assert obs.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ") == doc["LastUpdated"]
    assert obs.session_token_fingerprint and obs.session_token_fingerprint.startswith("sha256:")
    # The token travelled in the header of every GET, as botocore sends it.
    gets = [
        r for r in server.requests if r.method == "GET" and "x-aws-ec2-metadata-token" in r.headers
    ]
    assert gets and all(r.headers["x-aws-ec2-metadata-token"] == IMDS_TOKEN for r in gets)
    put = next(r for r in server.requests if r.method == "PUT")
    assert put.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    assert findings_for(tmp_path, [obs]) == []
    assert_no_secrets([obs])
    assert probe_statuses([obs])[0].status == "ran"


@pytest.mark.parametrize("status", [403, 404, 405])
def test_token_refused_falls_back_to_v1(tmp_path: Path, status: int) -> None:
    with fake_imds(token=status, v1=True, documents=[credentials_document(timedelta(hours=6))]) as (
        server,
        _,
    ):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["probe"] == "ran"
    assert obs.details["imds_version"] == "v1"


def test_v1_disabled_refuses_the_fallback(tmp_path: Path) -> None:
    with fake_imds(token=404, v1=True, documents=[credentials_document(timedelta(hours=6))]) as (
        server,
        _,
    ):
        (obs,), _ = collect(tmp_path, server.url, AWS_EC2_METADATA_V1_DISABLED="true")
    assert obs.details["probe"] == "failed"
    assert obs.details["failure"] == "v1-disabled"
    assert obs.access_key_id is None


def test_never_answers_is_unreachable_and_ca501(tmp_path: Path) -> None:
    with serving_made(silent) as server:
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["probe"] == "failed"
    assert obs.details["failure"] == "unreachable"
    assert obs.access_key_id is None
    found = findings_for(tmp_path, [obs])
    assert codes(found) == ["CA501"]
    assert server.url in found[0].message
    assert probe_statuses([obs])[0].status == "failed"


def test_refused_connection_is_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    (obs,), _ = collect(tmp_path, url)  # bound, never listened, closed: the port refuses
    assert obs.details["failure"] == "unreachable"
    assert "refused" in str(obs.details["probe_detail"])


def test_trickle_cannot_hold_the_probe(tmp_path: Path) -> None:
    with serving_made(trickle) as server:
        (obs,), elapsed = collect(tmp_path, server.url)
    assert obs.details["probe"] == "failed"
    assert obs.details["failure"] == "unreachable"
    assert "deadline" in str(obs.details["probe_detail"])
    assert elapsed < 3.0


def test_flood_is_capped_in_size_and_memory(tmp_path: Path) -> None:
    with serving(flood()) as server:
        tracemalloc.start()
        try:
            (obs,), _ = collect(tmp_path, server.url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert obs.details["failure"] == "bad-document"
    assert "larger than" in str(obs.details["probe_detail"])
    assert peak < 4 * 1024 * 1024  # a 10 MB body was never held


def test_closed_without_answer_is_unreachable(tmp_path: Path) -> None:
    with serving(lambda req, conn: None) as server:
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["failure"] == "unreachable"
    assert "without an answer" in str(obs.details["probe_detail"])


def test_malformed_json_is_a_bad_document(tmp_path: Path) -> None:
    with fake_imds(documents=['{"AccessKeyId": "ASIA', "not json"]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["failure"] == "bad-document"
    found = findings_for(tmp_path, [obs])
    assert codes(found) == ["CA501"]
    assert "bad-document" in found[0].message


def test_error_document_names_its_code(tmp_path: Path) -> None:
    body = {"Code": "AssumeRoleUnauthorizedAccess", "Message": "EC2 cannot assume the role"}
    with fake_imds(documents=[body]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["failure"] == "bad-document"
    assert "AssumeRoleUnauthorizedAccess" in str(obs.details["probe_detail"])


def test_get_401_even_with_token(tmp_path: Path) -> None:
    with fake_imds(get_status=401) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["failure"] == "http-401"
    assert codes(findings_for(tmp_path, [obs])) == ["CA501"]


def test_no_role_attached(tmp_path: Path) -> None:
    with fake_imds(role=None) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["failure"] == "no-role"
    assert "CA501" not in codes(findings_for(tmp_path, [obs]))  # CA403 says it, not CA501


def test_put_hangs_while_get_answers_401_is_hop_limit(tmp_path: Path) -> None:
    # The plain GET must be answered within half the deadline: 1 s (the default) left half a
    # second, which a loaded two-core CI machine once missed ("unreachable").
    with fake_imds(token="hang", v1=False) as (server, _):
        (obs,), _ = collect(tmp_path, server.url, probe_timeout=timedelta(seconds=3))
    assert obs.details["probe"] == "failed"
    assert obs.details["failure"] == "hop-limit"
    assert obs.details["token_timeout"] is True
    found = findings_for(tmp_path, [obs])
    assert codes(found) == ["CA502"]
    assert found[0].severity.value == "high"
    assert "hop limit" in found[0].message.lower()


def test_put_hangs_but_v1_serves_is_a_low_ca502(tmp_path: Path) -> None:
    with fake_imds(token="hang", v1=True, documents=[credentials_document(timedelta(hours=6))]) as (
        server,
        _,
    ):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["probe"] == "ran"
    assert obs.details["imds_version"] == "v1"
    found = findings_for(tmp_path, [obs])
    assert codes(found) == ["CA502"]
    assert found[0].severity.value == "low"


@pytest.mark.parametrize(
    ("expires_in", "last_updated_ago", "severity"),
    [
        (timedelta(minutes=-30), timedelta(hours=7), "critical"),
        (timedelta(minutes=10), timedelta(hours=1), "high"),
        (timedelta(hours=2), timedelta(hours=8), "medium"),
    ],
)
def test_stale_credentials_are_ca503(
    tmp_path: Path, expires_in: timedelta, last_updated_ago: timedelta, severity: str
) -> None:
    doc = credentials_document(expires_in, last_updated_ago=last_updated_ago)
    with fake_imds(documents=[doc]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["probe"] == "ran"
    found = findings_for(tmp_path, [obs])
    assert codes(found) == ["CA503"]
    assert found[0].severity.value == severity
    assert "ExpiredToken" in found[0].message
    assert "keeps using" in found[0].message
    assert_no_secrets([obs], found)


def test_fresh_credentials_are_not_stale(tmp_path: Path) -> None:
    doc = credentials_document(timedelta(minutes=16), last_updated_ago=timedelta(hours=5))
    with fake_imds(documents=[doc]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert findings_for(tmp_path, [obs]) == []


def test_credentials_that_change_between_reads(tmp_path: Path) -> None:
    first = credentials_document(timedelta(minutes=3), access_key_id="ASIAAAAAAAAAAAAAOLD1")
    second = credentials_document(
        timedelta(hours=6), access_key_id="ASIABBBBBBBBBBBBNEW2", token="another-token"
    )
    with fake_imds(documents=[first, second]) as (server, fake):
        (obs,), _ = collect(tmp_path, server.url)
    assert fake.reads == 2
    assert obs.access_key_id == "ASIABBBBBBBBBBBBNEW2"  # the latest read is what the SDK gets next
    assert obs.details["rotated"] is True
    assert obs.details["previous_access_key"] == "ASIA…OLD1"
    assert obs.details["previous_expires_at"] == first["Expiration"]
    assert findings_for(tmp_path, [obs]) == []  # rotated to a fresh set: nothing stale


def test_no_network_and_disabled_are_skipped_without_a_request(tmp_path: Path) -> None:
    with fake_imds(documents=[credentials_document(timedelta(hours=1))]) as (server, _):
        home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, network=False)
        (off,) = imds.collect(home.target)
        home = make_home(
            tmp_path,
            {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url, "AWS_EC2_METADATA_DISABLED": "TRUE"},
        )
        (disabled,) = imds.collect(home.target)
        assert server.requests == []
    assert off.details == {"probe": "skipped", "probe_detail": "--no-network"}
    assert disabled.details["probe"] == "skipped"
    assert "AWS_EC2_METADATA_DISABLED" in str(disabled.details["probe_detail"])
    assert findings_for(tmp_path, [off, disabled]) == []
    assert [s.status for s in probe_statuses([off])] == ["skipped"]


def test_config_file_endpoint_is_used_and_env_wins(tmp_path: Path) -> None:
    with fake_imds(documents=[credentials_document(timedelta(hours=1))]) as (server, _):
        home = make_home(tmp_path)
        home.write(".aws/config", f"[default]\nec2_metadata_service_endpoint = {server.url}\n")
        (obs,) = imds.collect(home.target)
        assert obs.details["probe"] == "ran"
        with_env = home.with_target(
            env={**home.target.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1/"}
        )
        (env_obs,) = imds.collect(with_env.target)
    assert env_obs.details["endpoint"] == "http://127.0.0.1:1/"
    assert env_obs.details["failure"] == "unreachable"


def test_invalid_endpoint_mode_is_a_config_problem(tmp_path: Path) -> None:
    home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv5"})
    (obs,) = imds.collect(home.target)
    assert obs.details["failure"] == "bad-config"
    assert [p.code for p in obs.problems] == ["CA702"]


def _botocore_fetcher(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], config: str
) -> Any:
    import botocore.credentials
    import botocore.session

    for key in list(__import__("os").environ):
        if key.startswith(("AWS_", "BOTO")):
            monkeypatch.delenv(key)
    cfg = tmp_path / "botocore-config"
    cfg.write_text(config)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    resolver = botocore.credentials.create_credential_resolver(botocore.session.Session())
    return resolver.get_provider("iam-role")._role_fetcher


SETTINGS_CASES = [
    ({}, ""),
    ({"AWS_IMDS_USE_IPV6": "true"}, ""),
    ({}, "imds_use_ipv6 = true\n"),
    ({"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}, ""),
    ({"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv4", "AWS_IMDS_USE_IPV6": "true"}, ""),
    ({}, "ec2_metadata_service_endpoint_mode = ipv6\n"),
    (
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"},
        "ec2_metadata_service_endpoint = http://127.0.0.2:9/\n",
    ),
    (
        {},
        "ec2_metadata_service_endpoint = http://127.0.0.2:9/\nec2_metadata_service_endpoint_mode = ipv6\n",
    ),
    ({"AWS_EC2_METADATA_V1_DISABLED": "true"}, ""),
    ({"AWS_EC2_METADATA_V1_DISABLED": "false"}, "ec2_metadata_v1_disabled = true\n"),
    ({}, "ec2_metadata_v1_disabled = TRUE\n"),
    ({"AWS_EC2_METADATA_DISABLED": "true"}, ""),
]


@pytest.mark.parametrize(("env", "config"), SETTINGS_CASES)
def test_settings_match_botocore(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], config: str
) -> None:
    fetcher = _botocore_fetcher(monkeypatch, tmp_path, env, "[default]\n" + config)
    home = make_home(tmp_path, env)
    home.write(".aws/config", "[default]\n" + config)
    ours = imds.settings(home.target)
    assert ours.endpoint == fetcher.get_base_url()
    assert ours.v1_disabled == bool(fetcher._imds_v1_disabled)
    assert ours.disabled == fetcher._disabled
    assert ours.error is None


def test_secrets_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with fake_imds(documents=[credentials_document(timedelta(minutes=-5))]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    found = findings_for(tmp_path, [obs])
    assert_no_secrets([obs], found)
    for secret in (IMDS_TOKEN, SECRET_KEY, SESSION_TOKEN):
        assert secret not in caplog.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.dictionaries(
            st.sampled_from(
                [
                    "AccessKeyId",
                    "SecretAccessKey",
                    "Token",
                    "Expiration",
                    "LastUpdated",
                    "Code",
                    "Type",
                ]
            ),
            st.one_of(
                st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers(), max_size=2)
            ),
        ).map(lambda d: __import__("json").dumps(d).encode()),
    )
)
def test_fuzzed_documents_never_raise(tmp_path: Path, body: bytes) -> None:
    with fake_imds(documents=[body]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["probe"] in ("ran", "failed")
    if obs.details["probe"] == "ran":
        assert obs.expires_at is not None and obs.access_key_id is not None
    findings_for(tmp_path, [obs])  # the rules take whatever the source produced


def test_found_example_expiration_not_a_timestamp(tmp_path: Path) -> None:
    doc = credentials_document(timedelta(hours=1))
    doc["Expiration"] = "tomorrow"
    with fake_imds(documents=[doc]) as (server, _):
        (obs,), _ = collect(tmp_path, server.url)
    assert obs.details["failure"] == "bad-document"


def test_scan_with_blackholed_imds_reports_ca501_and_the_probe(tmp_path: Path) -> None:
    from credaudit.scan import run_scan

    with serving_made(silent) as server:
        home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, now=now())
        start = time.monotonic()
        report = run_scan(home.target, Budget())
        assert time.monotonic() - start < LIVENESS
    assert "CA501" in [f.code for f in report.findings]
    assert [(p.name, p.status) for p in report.probes] == [("imds", "failed")]
    (entry,) = report.chain
    assert entry.resolved is None


def test_scan_with_other_credentials_does_not_blame_imds(tmp_path: Path) -> None:
    from credaudit.scan import run_scan

    with serving_made(silent) as server:
        home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, now=now())
        home.write(
            ".aws/credentials",
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
        )
        report = run_scan(home.target, Budget())
    assert "CA501" not in [f.code for f in report.findings]
    assert [(p.name, p.status) for p in report.probes] == [("imds", "failed")]


def test_imds_and_container_share_one_deadline(tmp_path: Path) -> None:
    """Both endpoints hang: together they still end near one probe timeout, not two."""
    from credaudit.sources import collect_all

    with serving_made(silent) as a, serving_made(silent) as b:
        home = make_home(
            tmp_path,
            {
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": a.url,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": b.url,
            },
            now=now(),
            probe_timeout=timedelta(seconds=1.5),
        )
        start = time.monotonic()
        found = collect_all(home.target, ["imds", "container"])
        elapsed = time.monotonic() - start
    assert {o.source: o.details["probe"] for o in found} == {
        "iam-role": "failed",
        "container-role": "failed",
    }
    # Sequential probes would need at least 3 s; one shared deadline ends well before.
    assert elapsed < 2.9


def test_probes_started_early_are_picked_up_not_repeated(tmp_path: Path) -> None:
    from credaudit.sources.http_probe import start_network_probes

    with fake_imds(documents=[credentials_document(timedelta(hours=2))]) as (server, _):
        home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, now=now())
        start_network_probes(home.target)
        waited = time.monotonic()
        while not any(r.method == "PUT" for r in server.requests):
            assert time.monotonic() - waited < LIVENESS, "the early start never reached IMDS"
            time.sleep(0.01)
        (obs,) = imds.collect(home.target)
        (again,) = imds.collect(home.target)  # a second scan of the same Target probes afresh
    assert obs.details["probe"] == "ran" and again.details["probe"] == "ran"
    assert [r.method for r in server.requests].count("PUT") == 2


def test_early_start_does_nothing_without_network(tmp_path: Path) -> None:
    from credaudit.sources.http_probe import start_network_probes

    with fake_imds() as (server, _):
        home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, network=False)
        start_network_probes(home.target)
        (obs,) = imds.collect(home.target)
        assert server.requests == []
    assert obs.details["probe"] == "skipped"


def test_credential_source_ec2_makes_imds_expected(tmp_path: Path) -> None:
    from credaudit.scan import run_scan

    with serving_made(silent) as server:
        home = make_home(
            tmp_path,
            {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url, "AWS_PROFILE": "job"},
            now=now(),
        )
        home.write(
            ".aws/config",
            "[profile job]\nrole_arn = arn:aws:iam::123456789012:role/job\n"
            "credential_source = Ec2InstanceMetadata\n",
        )
        report = run_scan(home.target, Budget())
    ca501 = [f for f in report.findings if f.code == "CA501"]
    assert len(ca501) == 1 and server.url in ca501[0].subject


@settings(max_examples=80, deadline=None)
@given(raw=st.binary(max_size=400))
def test_any_bytes_from_a_server_end_in_a_response_or_a_probe_error(raw: bytes) -> None:
    from credaudit.sources.http_probe import Deadline, ProbeError, Response, request

    def handle(_req, conn):  # type: ignore[no-untyped-def]
        conn.sendall(raw)

    with serving(handle) as server:
        try:
            answer = request("GET", server.url, Deadline(2.0))
        except ProbeError as exc:
            assert exc.kind in ("timeout", "unreachable", "bad-response", "too-large")
        else:
            assert isinstance(answer, Response) and len(answer.body) <= 64 * 1024


def test_found_example_status_line_only() -> None:
    from credaudit.sources.http_probe import Deadline, request

    def handle(_req, conn):  # type: ignore[no-untyped-def]
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")

    with serving(handle) as server:
        answer = request("GET", server.url, Deadline(2.0))
    assert answer.status == 200 and answer.body == b""


def test_run_concurrently_gives_stuck_and_broken_jobs_their_fallback() -> None:
    from credaudit.sources.http_probe import Deadline, run_concurrently

    def stuck() -> str:
        time.sleep(3)
        return "late"

    def broken() -> str:
        raise ZeroDivisionError

    start = time.monotonic()
    results = run_concurrently(
        {"ok": lambda: "ok", "broken": broken, "stuck": stuck},
        Deadline(0.3),
        lambda name, reason: f"{name}: {reason}",
    )
    assert time.monotonic() - start < 2.5
    assert results == {
        "ok": "ok",
        "broken": "broken: internal error: ZeroDivisionError",
        "stuck": "stuck: deadline passed",
    }


def test_a_broken_probe_costs_only_its_own_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credaudit.sources import container

    def boom(*_args: object) -> list[Observation]:
        raise RuntimeError("bug")

    monkeypatch.setattr(container, "probe", boom)
    with fake_imds(documents=[credentials_document(timedelta(hours=2))]) as (server, _):
        home = make_home(tmp_path, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}, now=now())
        (obs,) = imds.collect(home.target)
        assert container.collect(home.target) == []  # not configured: nothing to blame
        configured = home.with_target(
            env={**home.target.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url}
        )
        imds.collect(configured.target)
        (failed,) = container.collect(configured.target)
    assert obs.details["probe"] == "ran"
    assert failed.details["probe"] == "failed"
    assert "RuntimeError" in str(failed.details["probe_detail"])
