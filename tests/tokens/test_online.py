"""The issuer fetch is bounded like the metadata probes: one deadline, a size cap, no
redirect followed.  Local stubs play the issuers that lie, hang or flood (no real peer does
on demand); the honest issuer is the real oidc-provider in tests/peers."""

from __future__ import annotations

import json
import socket
import time

import pytest

from credaudit.errors import InputError
from credaudit.tokens.online import issuer_keys
from tests.stubs.servers import Request, flood, respond, serving, serving_made, trickle
from tests.tokens.helpers import jwks


def test_a_redirect_to_another_host_is_not_followed() -> None:
    seen: list[str] = []

    def handler(req: Request, conn: socket.socket) -> None:
        seen.append(req.path)
        respond(conn, 302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})

    with serving(handler) as server, pytest.raises(InputError, match="redirects are not followed"):
        issuer_keys(server.url.rstrip("/"), 2.0)
    assert seen == ["/.well-known/openid-configuration"]


def test_a_discovery_document_for_another_issuer_is_refused() -> None:
    def handler(req: Request, conn: socket.socket) -> None:
        respond(conn, 200, json.dumps({"issuer": "https://evil.example", "jwks_uri": "x"}))

    with serving(handler) as server, pytest.raises(InputError, match="another issuer"):
        issuer_keys(server.url.rstrip("/"), 2.0)


def test_jwks_through_discovery_from_a_stub() -> None:
    def handler(req: Request, conn: socket.socket) -> None:
        if req.path.endswith("openid-configuration"):
            base = f"http://127.0.0.1:{conn.getsockname()[1]}"
            respond(conn, 200, json.dumps({"issuer": base, "jwks_uri": f"{base}/keys"}))
        else:
            respond(conn, 200, json.dumps(jwks(0, 1)))

    with serving(handler) as server:
        keys = issuer_keys(server.url.rstrip("/"), 2.0)
    assert len(keys.keys) == 2 and "/keys" in keys.label


def test_a_flood_is_cut_at_the_size_cap() -> None:
    with serving(flood()) as server, pytest.raises(InputError, match="too-large"):
        issuer_keys(server.url.rstrip("/"), 5.0)


def test_a_trickle_is_cut_at_the_one_deadline() -> None:
    start = time.monotonic()
    with serving_made(trickle) as server, pytest.raises(InputError, match="timeout"):
        issuer_keys(server.url.rstrip("/"), 1.0)
    assert time.monotonic() - start < 3.0
