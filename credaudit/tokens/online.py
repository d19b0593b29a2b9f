"""The two remote calls ``credaudit token`` makes, and only with ``--online``: the issuer's
discovery document and JWKS, and RFC 7662 introspection.

Both go through the bounded client of the metadata probes (``sources.http_probe``): one
deadline for the whole fetch, a size cap, and no redirect followed at all — a 3xx is an
error, so no answer can send credaudit (or the client secret) to another host.  Errors name
the URL without its query or user-info, never a token or a secret.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

from credaudit.errors import InputError
from credaudit.sources.http_probe import Deadline, ProbeError, public_url, request
from credaudit.tokens.analyze import Introspection
from credaudit.tokens.keys import KeySet, from_jwks

MAX_DOCUMENT = 256 * 1024  # a JWKS with many keys is a few KB; a discovery document < 10 KB
DISCOVERY = "/.well-known/openid-configuration"


def _get_json(url: str, deadline: Deadline, what: str) -> object:
    try:
        response = request("GET", url, deadline, {"Accept": "application/json"}, MAX_DOCUMENT)
    except ProbeError as exc:
        raise InputError(f"{what} {public_url(url)}: {exc}") from None
    if response.status != 200:
        moved = " (redirects are not followed)" if 300 <= response.status < 400 else ""
        raise InputError(f"{what} {public_url(url)}: HTTP {response.status}{moved}")
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):
        raise InputError(f"{what} {public_url(url)}: not JSON") from None


def issuer_keys(issuer: str, timeout: float) -> KeySet:
    """``{issuer}/.well-known/openid-configuration`` → ``jwks_uri`` → the KeySet, all within
    one deadline.  The document must name the same issuer (OIDC Discovery §4.3)."""
    deadline = Deadline(timeout)
    base = issuer.rstrip("/")
    doc = _get_json(base + DISCOVERY, deadline, "--issuer discovery")
    if not isinstance(doc, dict) or not isinstance(doc.get("jwks_uri"), str):
        raise InputError(f"--issuer {public_url(issuer)}: the discovery document has no jwks_uri")
    if str(doc.get("issuer", "")).rstrip("/") != base:
        raise InputError(
            f"--issuer {public_url(issuer)}: the discovery document names another issuer"
        )
    jwks_uri = doc["jwks_uri"]
    jwks = _get_json(jwks_uri, deadline, "--issuer jwks_uri")
    return from_jwks(json.dumps(jwks), f"jwks {public_url(jwks_uri)}")


class Introspector:
    """POST ``token=…`` to an RFC 7662 endpoint with HTTP Basic client authentication
    (client_secret_basic, RFC 6749 §2.3.1: id and secret form-encoded first)."""

    def __init__(self, url: str, client_id: str, client_secret: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        self._auth = "Basic " + base64.b64encode(pair.encode()).decode()

    def __call__(self, token: str) -> Introspection:
        body = urlencode({"token": token}).encode()
        headers = {
            "Authorization": self._auth,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        where = public_url(self.url)
        try:
            response = request(
                "POST", self.url, Deadline(self.timeout), headers, MAX_DOCUMENT, body=body
            )
        except ProbeError as exc:
            return Introspection(active=False, error=f"{where}: {exc.kind}")
        if response.status != 200:
            return Introspection(active=False, error=f"{where}: HTTP {response.status}")
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):
            return Introspection(active=False, error=f"{where}: not JSON")
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            return Introspection(active=False, error=f"{where}: no boolean 'active'")

        def number(name: str) -> float | None:
            value = answer.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return float(value)

        def text(name: str) -> str | None:
            value = answer.get(name)
            return value if isinstance(value, str) else None

        return Introspection(
            active=answer["active"],
            exp=number("exp"),
            iat=number("iat"),
            scope=text("scope"),
            client_id=text("client_id"),
        )
