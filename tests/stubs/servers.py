"""Local stub servers for what no real peer does on demand: hang, trickle, flood, lie, rotate,
or answer with a shifted clock.

Each is a raw-socket server on 127.0.0.1 (an ephemeral port) with one thread per connection,
so a handler can misbehave at the byte level.  Handlers get the parsed request and the
connection; ``stop()`` closes everything, so a handler that hangs only hangs until then.
The servers record every request (method, path, headers) for assertions.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[Request, socket.socket], None]


def respond(
    conn: socket.socket,
    status: int,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
    date_shift: float = 0.0,
) -> None:
    if isinstance(body, str):
        body = body.encode()
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines.append("Date: " + formatdate(time.time() + date_shift, usegmt=True))
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


@dataclass
class StubServer:
    handler: Handler
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            request = Request(method, path, headers)
            self.requests.append(request)
            self.handler(request, conn)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                conn.close()

    def wait_stopped(self, seconds: float) -> bool:
        return self._stop.wait(seconds)

    def stop(self) -> None:
        self._stop.set()
        with suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._sock.close()
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass


@contextmanager
def serving(handler: Handler) -> Iterator[StubServer]:
    server = StubServer(handler)
    try:
        yield server
    finally:
        server.stop()


# --- misbehaving handlers -------------------------------------------------------------------


def silent(server_stop: Callable[[float], bool]) -> Handler:
    """Accepts, reads the request, never answers (a blackholed endpoint)."""

    def handle(_req: Request, _conn: socket.socket) -> None:
        server_stop(30)

    return handle


def trickle(stop: Callable[[float], bool]) -> Handler:
    """A 200 whose body arrives one byte a second."""

    def handle(_req: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            if stop(1.0):
                return
            conn.sendall(b"x")

    return handle


def flood(total: int = 10 * 1024 * 1024) -> Handler:
    """A 200 that streams ``total`` bytes (10 MB by default) as fast as the peer reads."""

    def handle(_req: Request, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        chunk = b"A" * 65536
        sent = 0
        while sent < total:
            conn.sendall(chunk)
            sent += len(chunk)

    return handle


def date_shifted(shift: float) -> Handler:
    """Answers anything with 200 and a Date header ``shift`` seconds off the real clock."""

    def handle(_req: Request, conn: socket.socket) -> None:
        respond(conn, 200, b"", date_shift=shift)

    return handle


# --- a scriptable instance metadata service -------------------------------------------------

IMDS_TOKEN = "AQAEAFAKEIMDSTOKENVALUE-never-printed=="
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKESECRET"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEFAKESESSIONTOKEN-never-printed"


def credentials_document(
    expires_in: timedelta,
    access_key_id: str = "ASIAY34FZKBOKMUTVV7A",
    token: str = SESSION_TOKEN,
    last_updated_ago: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "Code": "Success",
        "LastUpdated": (now - last_updated_ago).strftime(fmt),
        "Type": "AWS-HMAC",
        "AccessKeyId": access_key_id,
        "SecretAccessKey": SECRET_KEY,
        "Token": token,
        "Expiration": (now + expires_in).strftime(fmt),
    }


@dataclass
class FakeImds:
    """IMDS behaviour, one knob per way it goes wrong.

    token: "ok" (200), "hang" (PUT never answered), or an HTTP status to answer it with.
    v1: whether GETs without a token are served (else 401, as with IMDSv2 required).
    get_status: force this status on every GET (e.g. 401 even with a token).
    documents: credentials bodies served in turn (the last one repeats); str or dict.
    role: the role list's body ("" for no role; None for 404).
    """

    token: str | int = "ok"
    v1: bool = False
    get_status: int | None = None
    documents: list[Any] = field(default_factory=list)
    role: str | None = "app-role"
    reads: int = 0
    stop: Callable[[float], bool] | None = None

    def __call__(self, req: Request, conn: socket.socket) -> None:
        if req.method == "PUT" and req.path == "/latest/api/token":
            if self.token == "hang":
                assert self.stop is not None
                self.stop(30)
                return
            if self.token == "ok":
                respond(conn, 200, IMDS_TOKEN)
            else:
                respond(conn, int(self.token))
            return
        authorized = req.headers.get("x-aws-ec2-metadata-token") == IMDS_TOKEN
        if self.get_status is not None:
            respond(conn, self.get_status)
            return
        if not authorized and not self.v1:
            respond(conn, 401)
            return
        base = "/latest/meta-data/iam/security-credentials/"
        if req.path == base:
            if self.role is None:
                respond(conn, 404)
            else:
                respond(conn, 200, self.role)
            return
        if req.path == base + (self.role or ""):
            document = self.documents[min(self.reads, len(self.documents) - 1)]
            self.reads += 1
            body = document if isinstance(document, (str, bytes)) else json.dumps(document)
            respond(conn, 200, body)
            return
        respond(conn, 404)


@contextmanager
def fake_imds(**knobs: Any) -> Iterator[tuple[StubServer, FakeImds]]:
    imds = FakeImds(**knobs)
    server = StubServer(imds)
    imds.stop = server.wait_stopped
    try:
        yield server, imds
    finally:
        server.stop()


@contextmanager
def serving_made(make: Callable[[Callable[[float], bool]], Handler]) -> Iterator[StubServer]:
    """Serve a handler that needs the server's stop signal (silent, trickle)."""
    slot: dict[str, Handler] = {}
    server = StubServer(lambda req, conn: slot["handler"](req, conn))  # noqa: PLW0108 (late)
    slot["handler"] = make(server.wait_stopped)
    try:
        yield server
    finally:
        server.stop()
