"""``credaudit serve`` as a real process: the metrics are the scan's, scrapes never wait for a
scan (a blackholed metadata endpoint), signals, TLS, and the scan loop's guarantees."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from credaudit.cli import cli
from credaudit.fleet.loop import ERROR_REASONS, RETAIN_EXPIRED, ScanLoop, retain_expired
from credaudit.fleet.server import ListenError, parse_listen
from tests.fleet.serve_util import EXAMPLE, EXAMPLE_ARGS, clean_env, serve_argv, serving
from tests.peers.peer_util import REPO, free_port, wait_until
from tests.stubs.servers import serving_made, silent
from tests.test_example import README_ARGS


def _scan_json(*extra: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*README_ARGS, "--format", "json", *extra])
    assert result.exit_code == 1, result.output
    loaded: dict[str, object] = json.loads(result.output)
    return loaded


def test_metrics_are_the_scans_and_the_exporters_own() -> None:
    with serving(*EXAMPLE_ARGS, "--no-network", "--at", "2026-11-22T04:00:00Z") as served:
        metrics = served.samples()
        text = served.get()
    report = _scan_json()
    [(labels, expiry)] = metrics["credaudit_credential_expiry_timestamp_seconds"]
    [credential] = [c for c in report["credentials"] if c["origin"] == labels["origin"]]  # type: ignore[attr-defined]
    assert expiry == datetime.fromisoformat(credential["expires_at"]).timestamp()
    assert metrics["credaudit_up"] == [({}, 1.0)]
    assert metrics["credaudit_build_info"][0][0]["version"]
    assert {labels["reason"] for labels, _ in metrics["credaudit_scan_errors_total"]} == set(
        ERROR_REASONS
    )
    assert all(value == 0 for _, value in metrics["credaudit_scan_errors_total"])
    [(_, last)] = metrics["credaudit_last_success_timestamp_seconds"]
    assert abs(last - time.time()) < 60
    [(_, clock)] = metrics["credaudit_clock_time_seconds"]
    assert abs(clock - time.time()) < 5
    assert metrics["credaudit_scan_interval_seconds"] == [({}, 60.0)]
    assert 0 < metrics["credaudit_scan_duration_seconds"][0][1] < 30
    assert "credaudit_clock_offset_seconds" not in metrics  # no --clock-check
    # labels are bounded: no key ids, tokens or free text
    assert "ASIA" not in text and "AKIA" not in text and "EXAMPLETOKEN" not in text
    allowed = {"profile", "source", "origin", "kind", "refreshable", "account_id", "fail_on"}
    allowed |= {"code", "severity", "probe", "status", "reason", "version"}
    used = {name for samples in metrics.values() for labels, _ in samples for name in labels}
    assert used <= allowed


def test_a_blackholed_metadata_endpoint_never_slows_a_scrape(tmp_path: Path) -> None:
    with serving_made(silent) as hole:
        env = tmp_path / "env"
        env.write_text(
            (EXAMPLE / "worker.env").read_text()
            + f"AWS_EC2_METADATA_SERVICE_ENDPOINT={hole.url}\nAWS_METADATA_SERVICE_TIMEOUT=4\n"
        )
        args = ["--root", str(EXAMPLE), "--env-file", str(env), "--interval", "1s"]
        with serving(*args, "--probe-timeout", "4s", ready=False) as served:
            slowest = 0.0
            deadline = time.monotonic() + 9
            answered = 0
            while time.monotonic() < deadline:
                begun = time.monotonic()
                served.get(timeout=1.0)  # raises past 1 s
                slowest = max(slowest, time.monotonic() - begun)
                answered += 1
                time.sleep(0.05)
            metrics = served.samples()
        assert hole.requests, "the scan did probe the blackholed endpoint"
    assert slowest < 1.0
    assert answered > 50
    # the probe did hold the scans: each one waited seconds on the hole (a scan without
    # network takes milliseconds), while no scrape waited even one
    assert metrics["credaudit_scan_duration_seconds"][0][1] >= 1.5
    probe_errors = dict(
        (labels["reason"], v) for labels, v in metrics["credaudit_scan_errors_total"]
    )
    assert probe_errors["probe"] >= 1
    assert metrics["credaudit_probe_status"] == [({"probe": "imds", "status": "failed"}, 1.0)]


def test_sighup_rescans_now_and_sigterm_stops_cleanly() -> None:
    with serving(*EXAMPLE_ARGS, "--no-network", "--interval", "1h") as served:
        assert served.value("credaudit_scans_total") == 1
        served.signal(signal.SIGHUP)
        assert wait_until(lambda: served.value("credaudit_scans_total") == 2, timeout=10)
        served.signal(signal.SIGTERM)
        assert served.proc.wait(timeout=10) == 0
        assert served.proc.stderr is not None
        assert "credaudit serve: stopped" in served.proc.stderr.read()


def test_a_target_that_cannot_be_built_is_up_zero_and_counted() -> None:
    missing = 2**22 + 17  # above the default pid_max: no such process
    with serving("--pid", str(missing), "--no-network", "--interval", "1s") as served:
        assert wait_until(lambda: served.value("credaudit_scans_total") >= 2, timeout=10)
        metrics = served.samples()
        assert served.proc.stderr is not None
    assert metrics["credaudit_up"] == [({}, 0.0)]
    errors = dict((labels["reason"], v) for labels, v in metrics["credaudit_scan_errors_total"])
    assert errors["target"] >= 2 and errors["scan"] == 0
    assert "credaudit_last_success_timestamp_seconds" not in metrics
    assert "credaudit_credential_info" not in metrics


def test_healthz_and_unknown_paths() -> None:
    with serving(*EXAMPLE_ARGS, "--no-network") as served:
        assert served.get("/healthz").startswith("ok: 1 scans, up=1")
        with pytest.raises(urllib.error.HTTPError) as err:
            served.get("/nope")
        assert err.value.code == 404


def _tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with cryptography (a test extra)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_serves_https_only(tmp_path: Path) -> None:
    cert, key = _tls_files(tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        serve_argv(
            port, *EXAMPLE_ARGS, "--no-network", "--tls-cert", str(cert), "--tls-key", str(key)
        ),
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=REPO,
    )
    context = ssl.create_default_context(cafile=str(cert))
    url = f"https://127.0.0.1:{port}/metrics"
    try:

        def fetch() -> str:
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:
                return str(answer.read().decode())

        assert wait_until(lambda: "credaudit_scans_total 1.0" in fetch(), timeout=30)
        with pytest.raises(OSError):  # plain HTTP gets no metrics
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
        assert "credaudit_up 1.0" in fetch()  # a failed plain client did not break the server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_tls_with_a_client_ca_refuses_clients_without_a_certificate(tmp_path: Path) -> None:
    cert, key = _tls_files(tmp_path)
    port = free_port()
    argv = serve_argv(port, *EXAMPLE_ARGS, "--no-network", "--tls-cert", str(cert))
    argv += ["--tls-key", str(key), "--tls-client-ca", str(cert)]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=clean_env(), cwd=REPO)
    url = f"https://127.0.0.1:{port}/metrics"
    try:
        with_client = ssl.create_default_context(cafile=str(cert))
        with_client.load_cert_chain(str(cert), str(key))

        def fetch(context: ssl.SSLContext) -> str:
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:
                return str(answer.read().decode())

        assert wait_until(lambda: "credaudit_up" in fetch(with_client), timeout=30)
        with pytest.raises((OSError, ssl.SSLError)):
            fetch(ssl.create_default_context(cafile=str(cert)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "nonsense"], "expected HOST:PORT"),
        (["--interval", "0s"], "--interval 0s: at least 1s"),
        (["--tls-cert", "x.crt"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "/nonexistent.crt", "--tls-key", "/nonexistent.key"], "/nonexistent.crt"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "credaudit", "serve", "--no-network", *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9794", ("127.0.0.1", 9794)),
        (":9794", ("0.0.0.0", 9794)),
        ("[::1]:1", ("::1", 1)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9794", "host:", "host:99999", "host:x", "host:²", "host:٣"])
def test_parse_listen_rejects(text: str) -> None:
    with pytest.raises(ListenError):
        parse_listen(text)


# -- the loop, in-process ----------------------------------------------------------------------


def _report(at: datetime, expiries: dict[str, datetime | None]) -> object:
    from credaudit.analysis.budget import Budget
    from credaudit.model import CredentialView, KeyKind, ScanReport, Severity
    from credaudit.scan import summarize

    views = [
        CredentialView(
            profile=name,
            source="env",
            origin=f"env:{name}",
            access_key_id=None,
            account_id=None,
            kind=KeyKind.TEMPORARY,
            expires_at=expiry,
            remaining_seconds=None,
            refreshable=False,
        )
        for name, expiry in expiries.items()
    ]
    return ScanReport(
        evaluated_at=at,
        target={},
        budget=Budget().view(),
        credentials=views,
        chain=[],
        findings=[],
        summary=summarize([], len(views), Severity.HIGH),
    )


def test_scans_never_overlap_however_often_they_are_asked_for() -> None:
    running, most = [0], [0]
    lock = threading.Lock()
    at = datetime(2030, 1, 1, tzinfo=UTC)

    def slow_scan() -> object:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return _report(at, {})

    loop = ScanLoop(slow_scan, 0.01)  # type: ignore[arg-type]
    loop.start()
    callers = [threading.Thread(target=loop.run_once) for _ in range(4)]
    for thread in callers:
        thread.start()
    for _ in range(20):
        loop.trigger()
        time.sleep(0.01)
    for thread in callers:
        thread.join()
    loop.stop()
    assert most[0] == 1
    assert loop.snapshot.scans >= 5


def test_a_scan_that_raises_keeps_the_last_report_and_counts_the_reason() -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    outcomes: list[object] = [_report(at, {"a": at + timedelta(hours=1)}), RuntimeError("boom")]

    def scan() -> object:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    lines: list[str] = []
    loop = ScanLoop(scan, 60, log=lines.append)  # type: ignore[arg-type]
    first = loop.run_once()
    second = loop.run_once()
    assert first.up and not second.up
    assert second.report is first.report  # the series stay, credaudit_up says it is stale
    assert second.last_success == first.last_success
    assert second.errors["scan"] == 1
    assert lines == ["credaudit serve: scan failed: internal error RuntimeError"]  # no message text


def test_expired_credentials_that_vanish_are_kept_for_a_day() -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    before = _report(at, {"gone": at - timedelta(minutes=1), "fresh": at + timedelta(hours=1)})
    later = _report(at + timedelta(minutes=5), {"fresh": at + timedelta(hours=1)})
    kept = retain_expired(before, later)  # type: ignore[arg-type]
    assert sorted(v.profile for v in kept.credentials) == ["fresh", "gone"]  # type: ignore[attr-defined]
    day_later = _report(at + RETAIN_EXPIRED + timedelta(minutes=2), {})
    # "gone" expired more than a day ago; "fresh" has expired since and vanished now
    carried = retain_expired(kept, day_later)  # type: ignore[arg-type]
    assert [v.profile for v in carried.credentials] == ["fresh"]
    past_both = _report(at + timedelta(hours=1) + RETAIN_EXPIRED + timedelta(minutes=1), {})
    assert retain_expired(carried, past_both).credentials == []  # type: ignore[arg-type]
    # a credential not yet expired that vanished is gone: it was replaced, not expired
    replaced = retain_expired(before, _report(at, {}))  # type: ignore[arg-type]
    assert [v.profile for v in replaced.credentials] == ["gone"]


def test_scan_json_records_the_host() -> None:
    import socket

    report = _scan_json()
    assert report["host"] == socket.gethostname()
    assert report["clock"] is None


def test_exposition_renders_each_snapshot_once_and_the_clock_every_time() -> None:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse

    from credaudit.fleet.collector import Exposition

    at = datetime(2030, 1, 1, tzinfo=UTC)
    ticks = iter(range(1000, 2000))
    loop = ScanLoop(lambda: _report(at, {"a": at + timedelta(hours=1)}), 60)  # type: ignore[arg-type, return-value]
    loop.run_once()
    exposition = Exposition(
        lambda: loop.snapshot, interval=60, skew_margin=0, wall=lambda: float(next(ticks))
    )
    om = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    first, content_type = exposition.render(om)
    second, _ = exposition.render(om)
    assert content_type.startswith("application/openmetrics-text")
    assert first.count(b"# EOF") == 1 and first.endswith(b"# EOF\n")
    families = {f.name: f for f in om_parse(first.decode())}
    assert families["credaudit_clock_time_seconds"].samples[0].value == 1000
    assert families["credaudit_scans"].samples[0].value == 1
    assert b"credaudit_clock_time_seconds 1001.0" in second  # the clock is read per scrape
    plain, plain_type = exposition.render("")
    assert plain_type.startswith("text/plain") and b"# EOF" not in plain
    loop.run_once()  # a new snapshot is rendered anew
    third, _ = exposition.render(om)
    assert {f.name: f for f in om_parse(third.decode())}["credaudit_scans"].samples[0].value == 2


def test_health_fails_when_the_loop_is_wedged_or_stopped() -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    clock = [1000.0]
    loop = ScanLoop(lambda: _report(at, {}), 60, wall=lambda: clock[0])  # type: ignore[arg-type, return-value]
    assert loop.health() == (False, "scan loop stopped\n")
    loop.start()
    assert wait_until(lambda: loop.snapshot.scans >= 1)
    assert loop.health() == (True, "ok: 1 scans, up=1\n")
    clock[0] += 3 * 60 + 61  # no scan finished for more than three intervals
    assert loop.health()[0] is False
    loop.stop()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_listen_of_any_text_is_an_address_or_a_listen_error(text: str) -> None:
    try:
        host, port = parse_listen(text)
    except ListenError as exc:
        assert str(exc).startswith("--listen ") and "\n" not in str(exc)
    else:
        assert 0 <= port <= 65535 and isinstance(host, str)


def test_connections_beyond_the_cap_are_closed_not_threaded() -> None:
    import socket

    from credaudit.fleet.server import make_server, serve_in_thread

    def metrics(_accept: str) -> tuple[bytes, str]:
        return b"credaudit_up 1.0\n", "text/plain"

    server = make_server(("127.0.0.1", 0), metrics, lambda: (True, "ok\n"), max_connections=3)
    serve_in_thread(server)
    port = int(server.server_address[1])
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.3)  # the three hold every slot
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert extra.recv(100) == b""  # closed at once, no thread for it
        extra.close()
        idle.pop().close()
        assert wait_until(
            lambda: (
                b"credaudit_up"
                in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
            ),
            timeout=5,
        )
    finally:
        for conn in idle:
            conn.close()
        server.shutdown()
        server.server_close()


def test_a_profile_name_that_is_not_utf8_is_served_escaped() -> None:
    """A profile named on the command line with bytes that are not UTF-8 is a lone surrogate
    in Python; the exposition is UTF-8, so rendering it failed every scrape. serve passes the
    scan's families through the label escaping that --format prometheus uses."""
    from prometheus_client.parser import text_string_to_metric_families

    from credaudit.fleet.collector import Exposition

    at = datetime(2030, 1, 1, tzinfo=UTC)
    loop = ScanLoop(lambda: _report(at, {"p\udcff": at + timedelta(hours=1)}), 60)  # type: ignore[arg-type, return-value]
    loop.run_once()
    exposition = Exposition(lambda: loop.snapshot, interval=60, skew_margin=0, wall=lambda: 1.0)
    body, _ = exposition.render("")
    families = {f.name: f for f in text_string_to_metric_families(body.decode("utf-8"))}
    [sample] = families["credaudit_credential_expiry_timestamp_seconds"].samples
    assert sample.labels["profile"] == "p\\udcff"  # the escape, read back as text
