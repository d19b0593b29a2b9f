"""``credaudit serve``: the scan as a Prometheus exporter (a background scan loop, an HTTP
listener over its latest snapshot).  The command only wires options to ``credaudit.fleet``
and handles the process's signals: SIGTERM (and Ctrl-C) stop it cleanly, SIGHUP rescans now.
"""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click

from credaudit.commands.options import DURATION, SEVERITIES, budget_options, target_options
from credaudit.commands.scan import clock_options, scan_from_options
from credaudit.errors import InputError

LOOPBACK = ("127.0.0.1", "::1", "localhost")
MIN_INTERVAL = timedelta(seconds=1)


@click.command()
@click.option(
    "--listen",
    default="127.0.0.1:9794",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to serve /metrics and /healthz on (':9794' for every address).",
)
@click.option(
    "--interval",
    type=DURATION,
    default="60s",
    show_default=True,
    help="Time between scans (the first runs at start-up).",
)
@click.option(
    "--tls-cert", type=click.Path(dir_okay=False, path_type=Path), help="Serve HTTPS: certificate."
)
@click.option(
    "--tls-key", type=click.Path(dir_okay=False, path_type=Path), help="Serve HTTPS: private key."
)
@click.option(
    "--tls-client-ca",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Require client certificates signed by this CA (mutual TLS).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="high",
    show_default=True,
    help="The severity credaudit_scan_failed reports as failing.",
)
@target_options
@budget_options
@clock_options
def serve(
    *,
    listen: str,
    interval: timedelta,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    fail_on: str,
    **opts: Any,
) -> int:
    """Serve the scan as Prometheus metrics, rescanning in the background.

    Scans at start-up and then every --interval (never two at once), and answers /metrics
    from the latest scan at once: a scrape never waits for a scan or a metadata probe. Takes
    every option of scan. SIGHUP rescans now; SIGTERM stops.

    \b
    Examples:
      credaudit serve --interval 60s --run-time 2h --queue-dwell 20m
      credaudit serve --listen :9794 --tls-cert tls.crt --tls-key tls.key --no-network
    """
    from credaudit.fleet.collector import Exposition
    from credaudit.fleet.loop import ScanLoop
    from credaudit.fleet.server import (
        ListenError,
        TlsFiles,
        make_server,
        parse_listen,
        serve_in_thread,
        tls_context,
    )

    if interval < MIN_INTERVAL:
        raise InputError(f"--interval {interval.total_seconds():g}s: at least 1s")
    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-cert and --tls-key go together")
    if tls_client_ca is not None and tls_cert is None:
        raise InputError("--tls-client-ca needs --tls-cert and --tls-key")
    try:
        address = parse_listen(listen)
        files = TlsFiles(tls_cert, tls_key, tls_client_ca) if tls_cert and tls_key else None
        tls = tls_context(files) if files is not None else None
    except ListenError as exc:
        raise InputError(str(exc)) from None

    def log(line: str) -> None:
        click.echo(line, err=True)

    seconds = interval.total_seconds()
    loop = ScanLoop(
        lambda: scan_from_options(fail_on, **opts),
        seconds,
        clock_wanted=bool(opts.get("clock_check")),
        log=log,
    )
    margin = opts.get("skew_margin") or timedelta(0)
    exposition = Exposition(
        lambda: loop.snapshot, interval=seconds, skew_margin=margin.total_seconds()
    )

    try:
        server = make_server(address, exposition.render, loop.health, tls)
    except ListenError as exc:
        raise InputError(str(exc)) from None
    stop = threading.Event()

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    def on_hup(signum: int, _frame: FrameType | None) -> None:
        loop.trigger()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    scheme = "https" if tls else "http"
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]" if ":" in host else host
    log(f"credaudit serve: {scheme}://{shown}:{port}/metrics, a scan every {seconds:g}s")
    if tls is None and address[0] not in LOOPBACK:
        log("credaudit serve: listening beyond loopback without TLS (--tls-cert, --tls-key)")
    loop.start()
    serve_in_thread(server)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    loop.stop()
    log("credaudit serve: stopped")
    return 0
