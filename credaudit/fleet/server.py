"""The HTTP(S) listener of ``credaudit serve``: ``/metrics`` and ``/healthz``.

prometheus-client's ``start_http_server`` listens with the standard library's accept queue of
5: measured here, 20 concurrent scrapers left connections waiting for SYN retries (~1 s p99)
where node_exporter answered in ~60 ms.  This server is the standard library's threading HTTP
server with a deep accept queue (``ACCEPT_QUEUE``), HTTP/1.1 keep-alive (Prometheus reuses its
connection) and an idle timeout so parked connections cannot pile up threads.  The body comes
from prometheus-client's own encoders (text or OpenMetrics, as the scraper asks), over a
registry holding only the snapshot's collectors (``collector.Exposition``).

TLS (``--tls-cert``/``--tls-key``, optional ``--tls-client-ca`` for mutual TLS) wraps the
listening socket without handshaking on accept: a client that connects and sends nothing
holds its own handler thread, never the accept loop.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ACCEPT_QUEUE = 256
MAX_CONNECTIONS = 128  # open connections served at once (Prometheus keeps one per server)
IDLE_TIMEOUT = 30.0  # seconds a keep-alive connection may sit idle


class ListenError(ValueError):
    """--listen or the TLS files are unusable: one line, exit 2."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    client_ca: Path | None = None


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (all addresses)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        raise ListenError(f"--listen {text[:60]!r}: expected HOST:PORT, e.g. 127.0.0.1:9794")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", int(port_text)  # noqa: S104 - ":PORT" asks for every address


def tls_context(files: TlsFiles) -> ssl.SSLContext:
    """A server context; with ``client_ca``, clients must present a certificate it signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=str(files.cert), keyfile=str(files.key))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise ListenError(f"--tls-cert {files.cert} / --tls-key {files.key}: {reason}") from None
    if files.client_ca is not None:
        try:
            context.load_verify_locations(cafile=str(files.client_ca))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise ListenError(f"--tls-client-ca {files.client_ca}: {reason}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


Health = Callable[[], tuple[bool, str]]
Metrics = Callable[[str], tuple[bytes, str]]  # Accept header -> body, content type


def _handler(metrics: Metrics, health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = IDLE_TIMEOUT
        # The headers and the body are two writes: with Nagle on, the body waits for the
        # client's delayed ACK of the headers, 40 ms on Linux, on every keep-alive scrape.
        disable_nagle_algorithm = True
        server_version = "credaudit"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = metrics(self.headers.get("Accept", ""))
                self._send(200, content_type, body)
            elif path == "/healthz":
                ok, text = health()
                self._send(200 if ok else 503, "text/plain; charset=utf-8", text.encode())
            elif path == "/":
                self._send(200, "text/html; charset=utf-8", _INDEX)
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Log nothing per request: a scrape every few seconds is not news."""

        def handle(self) -> None:
            # A client that hangs up or fails its handshake ends only its own thread.
            with contextlib.suppress(OSError, ssl.SSLError):
                super().handle()

    return Handler


_INDEX = (
    b"<html><head><title>credaudit</title></head><body><h1>credaudit serve</h1>"
    b'<p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></p></body></html>\n'
)


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once: a connection beyond
    that is closed at once (the scraper sees one failed scrape) rather than growing threads
    without bound while clients park idle or slow connections."""

    request_queue_size = ACCEPT_QUEUE
    daemon_threads = True
    allow_reuse_address = True
    max_connections = MAX_CONNECTIONS

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(
    listen: tuple[str, int],
    metrics: Metrics,
    health: Health,
    tls: ssl.SSLContext | None = None,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """Bind (but do not start) the server; ``serve_forever`` runs it."""
    host, port = listen
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
            0
        ][0]
    except socket.gaierror as exc:
        raise ListenError(f"--listen {host}:{port}: {exc.strerror}") from None

    class Bound(_Server):
        pass

    Bound.address_family = family
    Bound.max_connections = max_connections

    try:
        server = Bound((host, port), _handler(metrics, health))
    except OSError as exc:
        raise ListenError(f"--listen {host}:{port}: {exc.strerror or exc}") from None
    if tls is not None:
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="credaudit-http", daemon=True)
    thread.start()
    return thread
