"""Bounded HTTP for the network probes: one overall deadline, a size cap, no redirects.

A metadata endpoint that is blackholed, trickles one byte a second or streams megabytes must
not hold a scan past ``--probe-timeout`` or grow its memory.  urllib3 (what botocore uses)
applies its timeout per socket read, so a trickling server keeps it alive indefinitely; here
every read checks the *overall* deadline and the total bytes read, and http.client only
parses what the bounded reader hands it.  Redirects are never followed: a credential
endpoint that redirects is broken, and following it could leak the authorization header.

The network sources (``imds``, ``container``) run concurrently, in threads, under one
deadline: the first of them collected for a Target starts both, and each collect takes its
own part of the result (``network_observations``).
"""

from __future__ import annotations

import importlib
import io
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from credaudit import __version__
from credaudit.model import Observation, ProbeStatus
from credaudit.target import Target

MAX_BODY = 64 * 1024
MAX_HEAD = 16 * 1024
# After the deadline, how long a join waits for a probe thread to notice it (its sockets'
# timeouts are already clamped to the deadline, so this is only scheduling slack).
JOIN_GRACE = 0.05

T = TypeVar("T")
_Status = Literal["ran", "skipped", "failed"]

# Which sources are network probes, and the name their ProbeStatus carries.
PROBE_NAMES: dict[str, str] = {"iam-role": "imds", "container-role": "container"}
_NETWORK_SOURCES: tuple[str, ...] = ("imds", "container")


class Deadline:
    """An absolute point on the monotonic clock that every read and connect is held to."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.expires = clock() + max(0.0, seconds)

    def remaining(self) -> float:
        return max(0.0, self.expires - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def within(self, seconds: float) -> Deadline:
        """A nested deadline: ``seconds`` from now, but never past this one."""
        inner = Deadline(0.0, self._clock)
        inner.expires = min(self.expires, self._clock() + max(0.0, seconds))
        return inner


class ProbeError(Exception):
    """A request that produced no usable response.

    ``kind`` is one of: connect-timeout, refused, unreachable, timeout (connected, no answer
    in time), too-large, bad-response, tls, bad-url.  Messages never carry headers or bodies.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    sent_at: float  # monotonic, just before the request bytes were written
    answered_at: float  # monotonic, when the status line and headers had been read
    sent_wall: float  # time.time() at sent_at, for the clock check

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _BoundedReader(io.RawIOBase):
    """A socket reader that enforces the deadline on every read and a total byte budget."""

    def __init__(self, sock: socket.socket, deadline: Deadline, limit: int) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._limit = limit
        self._used = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline.remaining()
        if remaining <= 0.0:
            raise ProbeError("timeout", "no complete answer before the deadline")
        if self._used >= self._limit:
            raise ProbeError("too-large", f"response larger than {self._limit} bytes")
        view = memoryview(buffer).cast("B")
        view = view[: min(len(view), self._limit - self._used)]
        self._sock.settimeout(remaining)
        import ssl  # only once a probe runs: --no-network scans never pay for it

        try:
            count = self._sock.recv_into(view)
        except TimeoutError:
            raise ProbeError("timeout", "no complete answer before the deadline") from None
        except ssl.SSLError as exc:
            raise ProbeError("tls", exc.reason or type(exc).__name__) from None
        except OSError as exc:
            raise ProbeError("unreachable", exc.strerror or type(exc).__name__) from None
        self._used += count
        return count


class _SocketShim:
    """What ``http.client.HTTPResponse`` needs from a socket: a ``makefile``."""

    def __init__(self, reader: _BoundedReader) -> None:
        self._reader = reader

    def makefile(self, *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(self._reader, buffer_size=4096)


def public_url(url: str) -> str:
    """The URL without user-info or query, safe to show (a token may ride in either)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _connect(host: str, port: int, deadline: Deadline) -> socket.socket:
    if deadline.expired():
        raise ProbeError("connect-timeout", "deadline passed before connecting")
    try:
        return socket.create_connection((host, port), timeout=deadline.remaining())
    except TimeoutError:
        raise ProbeError("connect-timeout", f"no connection to {host}:{port} in time") from None
    except ConnectionRefusedError:
        raise ProbeError("refused", f"{host}:{port} refused the connection") from None
    except socket.gaierror as exc:
        raise ProbeError("unreachable", f"cannot resolve {host}: {exc.strerror}") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ProbeError("unreachable", f"{host}:{port}: {reason}") from None


def request(
    method: str,
    url: str,
    deadline: Deadline,
    headers: Mapping[str, str] | None = None,
    max_body: int = MAX_BODY,
    *,
    body: bytes | None = None,
) -> Response:
    """One HTTP request held to ``deadline``; raises ProbeError, never anything else.

    ``body`` is sent as is with its Content-Length (token introspection posts a form)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ProbeError("bad-url", "unparseable URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ProbeError("bad-url", f"not an http(s) URL: {public_url(url)}")
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = f"[{host}]" if ":" in host else host
    if parts.port:
        host_header += f":{parts.port}"
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host_header}",
        f"User-Agent: credaudit/{__version__}",
        "Accept-Encoding: identity",
        "Connection: close",
    ]
    for name, value in (headers or {}).items():
        if any(c in name + value for c in "\r\n\0"):
            raise ProbeError("bad-url", f"header {name} holds a line break")
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    elif method in ("PUT", "POST"):
        lines.append("Content-Length: 0")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
    payload += body or b""

    import http.client  # only once a probe runs: --no-network scans never pay for it
    import ssl

    sock = _connect(host, port, deadline)
    try:
        if parts.scheme == "https":
            sock.settimeout(max(deadline.remaining(), 0.001))
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            except TimeoutError:
                raise ProbeError("timeout", "TLS handshake did not finish in time") from None
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise ProbeError("tls", f"TLS handshake with {host} failed: {reason}") from None
        sent_at, sent_wall = time.monotonic(), time.time()
        sock.settimeout(max(deadline.remaining(), 0.001))
        try:
            sock.sendall(payload)
        except TimeoutError:
            raise ProbeError("timeout", "could not send the request in time") from None
        except OSError as exc:
            raise ProbeError("unreachable", exc.strerror or type(exc).__name__) from None
        reader = _BoundedReader(sock, deadline, MAX_HEAD + max_body + 8192)
        response = http.client.HTTPResponse(_SocketShim(reader), method=method)  # type: ignore[arg-type]
        try:
            response.begin()
            answered_at = time.monotonic()
            body = response.read(max_body + 1)
        except ProbeError:
            raise
        except http.client.RemoteDisconnected:
            raise ProbeError("unreachable", "the connection closed without an answer") from None
        except (http.client.HTTPException, ValueError) as exc:
            raise ProbeError(
                "bad-response", f"not a valid HTTP response ({type(exc).__name__})"
            ) from None
        except OSError as exc:
            raise ProbeError("unreachable", exc.strerror or type(exc).__name__) from None
        if len(body) > max_body:
            raise ProbeError("too-large", f"response body larger than {max_body} bytes")
        return Response(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=body,
            sent_at=sent_at,
            answered_at=answered_at,
            sent_wall=sent_wall,
        )
    finally:
        sock.close()


def attempt(
    method: str,
    url: str,
    deadline: Deadline,
    headers: Mapping[str, str] | None = None,
) -> Response | ProbeError:
    """``request`` with the error as a value, for code that branches on what happened."""
    try:
        return request(method, url, deadline, headers)
    except ProbeError as exc:
        return exc


def start(job: Callable[[], T]) -> Future[T]:
    """Run ``job`` in a daemon thread: a probe that overstays never blocks interpreter exit."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(job())
        except BaseException as exc:  # handed to whoever reads the future
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True, name="credaudit-probe").start()
    return future


def run_concurrently(
    jobs: Mapping[str, Callable[[], T]],
    deadline: Deadline,
    fallback: Callable[[str, str], T],
) -> dict[str, T]:
    """Run every job at once; a job not done by the deadline (or one that raised) gets
    ``fallback(name, reason)`` so one stuck probe never costs the others' results."""
    futures = {name: start(job) for name, job in jobs.items()}
    results: dict[str, T] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=deadline.remaining() + JOIN_GRACE)
        except TimeoutError:
            results[name] = fallback(name, "deadline passed")
        except Exception as exc:
            results[name] = fallback(name, f"internal error: {type(exc).__name__}")
    return results


_CONTAINER_VARS = ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")


def _late_for(target: Target) -> Callable[[str, str], list[Observation]]:
    """The stand-in for a probe that did not finish: a failure, except for a container
    probe that had nothing to probe (no container variables), which reports nothing."""

    def late(name: str, reason: str) -> list[Observation]:
        if name == "container" and not any(v in target.env for v in _CONTAINER_VARS):
            return []
        return _late(name, reason)

    return late


def _late(name: str, reason: str) -> list[Observation]:
    source = {v: k for k, v in PROBE_NAMES.items()}[name]
    return [
        Observation(
            source=source,
            origin=name,
            details={"probe": "failed", "probe_detail": reason, "failure": "unreachable"},
        )
    ]


Probe = Callable[[Target, Deadline], list[Observation]]


def _probes() -> dict[str, Probe]:
    """The network sources' probe functions, imported in the caller's thread: an import
    racing the main thread's imports must not eat the probes' deadline."""
    found: dict[str, Probe] = {}
    for name in _NETWORK_SOURCES:
        found[name] = importlib.import_module(f"credaudit.sources.{name}").probe
    return found


def _run_network_sources(
    target: Target, deadline: Deadline, probes: Mapping[str, Probe]
) -> dict[str, list[Observation]]:
    jobs: dict[str, Callable[[], list[Observation]]] = {}
    for name, probe in probes.items():
        jobs[name] = lambda probe=probe: probe(target, deadline)  # type: ignore[misc]
    return run_concurrently(jobs, deadline, _late_for(target))


_lock = threading.Lock()
_Parts = dict[str, list[Observation]]
_pending: dict[int, tuple[Target, Future[_Parts], set[str]]] = {}


def _entry(target: Target) -> tuple[Target, Future[_Parts], set[str]]:
    """The pending run for ``target``, started now if there is none (call under _lock)."""
    entry = _pending.get(id(target))
    if entry is None or entry[0] is not target:
        probes = _probes()
        # The deadline starts now, not when the thread gets going.
        deadline = Deadline(target.probe_timeout.total_seconds())
        run = start(lambda: _run_network_sources(target, deadline, probes))
        entry = (target, run, set(_NETWORK_SOURCES))
        if len(_pending) > 16:
            _pending.clear()
        _pending[id(target)] = entry
    return entry


def start_network_probes(target: Target) -> None:
    """Start the network probes now, in the background, so their deadline overlaps the
    rest of the scan (imports, file reading); the sources' ``collect`` then picks them up.

    Optional: without it the first network source collected starts them.  Does nothing
    when the target allows no network (the sources still judge their configuration then).
    """
    if not target.network:
        return
    with _lock:
        _entry(target)


def network_observations(target: Target, name: str) -> list[Observation]:
    """This source's part of one concurrent run of every network probe for ``target``.

    The first network source collected (or ``start_network_probes``) starts them all under
    one deadline; each source takes its part.  A part is handed out once, so a second scan
    of the same Target probes afresh.
    """
    with _lock:
        entry = _entry(target)
        if name not in entry[2]:  # already handed out: a new scan of the same Target
            _pending.pop(id(target), None)
            entry = _entry(target)
        entry[2].discard(name)
        if not entry[2]:
            _pending.pop(id(target), None)
    try:
        parts = entry[1].result(timeout=target.probe_timeout.total_seconds() + 1.0)
    except Exception as exc:  # a run that overstays or breaks costs only its own parts
        reason = "deadline passed" if isinstance(exc, TimeoutError) else type(exc).__name__
        return _late_for(target)(name, reason)
    return parts.get(name, [])


def probe_statuses(observations: Iterable[Observation]) -> list[ProbeStatus]:
    """What each network probe did, for ScanReport.probes (first observation per probe)."""
    statuses: dict[str, ProbeStatus] = {}
    for obs in observations:
        name = PROBE_NAMES.get(obs.source)
        status = obs.details.get("probe")
        if name is None or name in statuses or status not in ("ran", "skipped", "failed"):
            continue
        detail = obs.details.get("probe_detail") or obs.details.get("endpoint") or ""
        failure = obs.details.get("failure")
        if failure and str(failure) not in str(detail):
            detail = f"{failure}: {detail}" if detail else str(failure)
        statuses[name] = ProbeStatus(name=name, status=cast(_Status, status), detail=str(detail))
    return [statuses[name] for name in sorted(statuses)]
