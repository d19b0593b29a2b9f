"""Readers: every place a bearer token is written down, turned into ``Candidate``s.

One module job: find the credential and what the input says about it (the header's verdict,
an API answer's ``expires_in`` and refresh token, an API key's ``expiration``) — never judge
it.  A reader never raises: an input it cannot read becomes a candidate carrying its problem,
named by where it was found, so one bad line or file never stops the run.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from credaudit.model import Location
from credaudit.tokens.header import HeaderVerdict, parse_authorization

MAX_DOCUMENT = 32 * 1024 * 1024  # a HAR of a long browser session is tens of MB
MAX_TOKEN_FILE = 64 * 1024
_QUERY_NOTE = "sent as the access_token query parameter (RFC 6750 §2.3: discouraged, logs keep it)"
_BODY_NOTE = "sent as the access_token form field (RFC 6750 §2.2)"
_SCHEMES = ("bearer", "apikey", "basic", "token", "jwt", "oauth")


@dataclass(slots=True)
class Candidate:
    """One token as an input wrote it down, before any judgement.

    ``token`` is the credential itself: it lives only as long as the judgement and is never
    copied into a record.  ``refresh_token`` is None when the input cannot say, else whether
    one came with the token (its value is never kept).
    """

    found_in: str
    line: int | None = None
    location: Location | None = None
    token: str | None = field(default=None, repr=False)
    header: HeaderVerdict | None = None
    kind_hint: str | None = None
    expires_in: float | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    never_expires: bool = False
    refresh_token: bool | None = None
    key_id: str | None = None
    invalidated: bool = False
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    blank: bool = False


def _with_header(base: Candidate, value: str, where: str) -> Candidate:
    verdict = parse_authorization(value)
    problem = None if verdict.token else verdict.reason or "no credential in the header"
    return replace(
        base,
        found_in=where,
        token=verdict.token,
        header=verdict,
        kind_hint=verdict.kind_hint,
        problem=problem,
        notes=list(base.notes),
    )


def _query_tokens(base: Candidate, url: str, where: str) -> list[Candidate]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    return [
        replace(base, found_in=f"{where} query access_token", token=value, notes=[_QUERY_NOTE])
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name == "access_token" and value
    ]


# -- one line of --from --------------------------------------------------------------------


def read_line(text: str, base: Candidate) -> list[Candidate]:
    """The tokens on one input line: a bare token, an ``Authorization:`` line, a curl command
    or a JSON object; an empty list never — a line with no token is one blank candidate.

    ``base`` is the caller's own fresh candidate: it may come back filled in, not copied."""
    stripped = text.strip()
    first = stripped[:1]  # classified by its first character: one test for a bare token
    if not first or first == "#":
        return [replace(base, blank=True, problem="no token on this line")]
    if first == "{":
        return read_json_line(stripped, base)
    if first in "aAcC":
        lower = stripped[:14].lower()
        if lower.startswith("authorization:"):
            return [_with_header(base, stripped[14:].lstrip(" \t"), base.found_in)]
        if lower.startswith("curl ") or lower.startswith("curl\t"):
            return read_curl(stripped, base)
    if " " in stripped or "\t" in stripped:
        scheme = stripped.split(None, 1)[0].lower()
        if scheme in _SCHEMES:
            return [_with_header(base, stripped, base.found_in)]
    base.token = stripped  # each caller hands a fresh base: no copy for the bulk case
    return [base]


def read_curl(text: str, base: Candidate) -> list[Candidate]:
    """``-H/--header 'Authorization: …'``, ``--oauth2-bearer TOKEN`` and URLs' query tokens."""
    try:
        args = shlex.split(text)
    except ValueError as exc:
        return [replace(base, problem=f"curl line cannot be split ({exc})")]
    found: list[Candidate] = []
    i = 1
    while i < len(args):
        arg = args[i]
        value: str | None = None
        if arg in ("-H", "--header", "--oauth2-bearer", "--proxy-header") and i + 1 < len(args):
            value, i = args[i + 1], i + 1
        elif arg.startswith("--header="):
            arg, value = "--header", arg[9:]
        elif arg.startswith("-H") and len(arg) > 2:
            arg, value = "-H", arg[2:]
        if value is not None and arg == "--oauth2-bearer":
            found.append(replace(base, found_in=f"{base.found_in} --oauth2-bearer", token=value))
        elif value is not None and arg != "--proxy-header":
            name, sep, rest = value.partition(":")
            if sep and name.strip().lower() == "authorization":
                where = f"{base.found_in} -H Authorization"
                found.append(_with_header(base, rest.lstrip(" \t"), where))
        elif value is None and "://" in arg:
            found.extend(_query_tokens(base, arg, base.found_in))
        i += 1
    return found or [replace(base, blank=True, problem="curl line sends no bearer token")]


_TOKEN_FIELDS = ("authorization", "access_token", "token")


def _instant_ms(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_json_line(text: str, base: Candidate) -> list[Candidate]:
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return [replace(base, problem="not valid JSON")]
    if not isinstance(record, dict):
        return [replace(base, problem="JSON line is not an object")]
    return read_answer(record, base)


def read_answer(record: dict[str, Any], base: Candidate) -> list[Candidate]:
    """A JSON object: a get-token answer, a create-API-key answer, a get-API-key answer, a
    service-account token answer, or any object with a token field."""
    if isinstance(record.get("api_keys"), list):
        return [_api_key_info(item, base, n) for n, item in enumerate(record["api_keys"])] or [
            replace(base, blank=True, problem="api_keys list is empty")
        ]
    if isinstance(record.get("encoded"), str) or (
        isinstance(record.get("api_key"), str) and isinstance(record.get("id"), str)
    ):
        return [_created_api_key(record, base)]
    nested = record.get("token")
    if isinstance(nested, dict) and isinstance(nested.get("value"), str):
        # POST /_security/service/{ns}/{svc}/credential/token/{name}
        return [
            replace(
                base,
                found_in=f"{base.found_in} token.value",
                token=nested["value"],
                kind_hint="elasticsearch",
            )
        ]
    for name in _TOKEN_FIELDS:
        value = record.get(name)
        if not isinstance(value, str):
            continue
        where = f"{base.found_in} {name}"
        found = (
            _with_header(base, value, where)
            if name == "authorization"
            else replace(base, found_in=where, token=value)
        )
        if name == "access_token":
            found = _token_answer(record, found)
        return [found]
    return [replace(base, problem='JSON line has no "token", "authorization" or "access_token"')]


def _token_answer(record: dict[str, Any], found: Candidate) -> Candidate:
    """An OAuth token answer (RFC 6749 §5.1) or Elasticsearch's get-token answer."""
    expires_in = record.get("expires_in")
    if not isinstance(expires_in, bool) and isinstance(expires_in, int | float):
        found.expires_in = float(expires_in)
    found.refresh_token = isinstance(record.get("refresh_token"), str)
    # Elasticsearch's answer says "type": "Bearer" (OAuth says token_type) and who it is for.
    if ("type" in record and "token_type" not in record) or "authentication" in record:
        found.kind_hint = found.kind_hint or "elasticsearch"
    return found


def _created_api_key(record: dict[str, Any], base: Candidate) -> Candidate:
    """POST /_security/api_key: ``expiration`` in epoch ms, absent when it never expires."""
    key_id = record.get("id") if isinstance(record.get("id"), str) else None
    encoded = record.get("encoded")
    token = encoded if isinstance(encoded, str) else None
    if token is None and key_id is not None and isinstance(record.get("api_key"), str):
        import base64

        token = base64.b64encode(f"{key_id}:{record['api_key']}".encode()).decode()
    expiration = record.get("expiration")
    return replace(
        base,
        found_in=f"{base.found_in} api key",
        token=token,
        kind_hint="api-key",
        key_id=key_id,
        expires_at=_instant_ms(expiration),
        never_expires=expiration is None,
    )


def _api_key_info(item: object, base: Candidate, index: int) -> Candidate:
    """GET /_security/api_key: metadata only (no key value): creation, expiration, invalidated."""
    where = f"{base.found_in} api_keys[{index}]"
    if not isinstance(item, dict):
        return replace(base, found_in=where, problem="api_keys entry is not an object")
    expiration = item.get("expiration")
    return replace(
        base,
        found_in=where,
        kind_hint="api-key",
        key_id=item.get("id") if isinstance(item.get("id"), str) else None,
        issued_at=_instant_ms(item.get("creation")) or base.issued_at,
        expires_at=_instant_ms(expiration),
        never_expires=expiration is None,
        invalidated=item.get("invalidated") is True,
    )


# -- whole documents ----------------------------------------------------------------------


def read_har(data: bytes, name: str) -> list[Candidate]:
    """Every request's ``Authorization`` header and ``access_token`` query parameter."""
    base = Candidate(found_in=name, location=Location(path=name))
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return [replace(base, problem="not a HAR file (not valid JSON)")]
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        return [replace(base, problem="not a HAR file (no log.entries)")]
    found: list[Candidate] = []
    for number, entry in enumerate(entries, start=1):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict):
            continue
        here = replace(base, line=number, found_in=f"{name} entry {number}")
        headers = request.get("headers")
        for header in headers if isinstance(headers, list) else []:
            if (
                isinstance(header, dict)
                and str(header.get("name", "")).lower() == "authorization"
                and isinstance(header.get("value"), str)
            ):
                found.append(_with_header(here, header["value"], f"{here.found_in} Authorization"))
        query = request.get("queryString")
        for param in query if isinstance(query, list) else []:
            if (
                isinstance(param, dict)
                and param.get("name") == "access_token"
                and isinstance(param.get("value"), str)
                and param["value"]
            ):
                found.append(
                    replace(
                        here,
                        found_in=f"{here.found_in} query access_token",
                        token=param["value"],
                        notes=[_QUERY_NOTE],
                    )
                )
        if not isinstance(query, list) and isinstance(request.get("url"), str):
            found.extend(_query_tokens(here, request["url"], here.found_in))
    return found


def read_request(data: bytes, name: str) -> list[Candidate]:
    """A raw HTTP/1.1 request: its ``Authorization`` headers, query and form-body token."""
    base = Candidate(found_in=name, location=Location(path=name))
    text = data.decode("latin-1")
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    request_line = lines[0].split(" ") if lines and lines[0] else []
    if len(request_line) < 2 or not request_line[0].isalpha():
        return [replace(base, problem="not an HTTP request (no request line)")]
    found = _query_tokens(base, request_line[1], name)
    form = False
    for number, line in enumerate(lines[1:], start=2):
        hname, sep, value = line.partition(":")
        if not sep:
            continue
        lname = hname.strip().lower()
        if lname == "authorization":
            here = replace(base, line=number, location=Location(path=name, line=number))
            found.append(_with_header(here, value.lstrip(" \t"), f"{name}:{number} Authorization"))
        elif lname == "content-type" and "application/x-www-form-urlencoded" in value.lower():
            form = True
    if form:
        for pname, pvalue in parse_qsl(body.strip(), keep_blank_values=True):
            if pname == "access_token" and pvalue:
                found.append(
                    replace(
                        base, found_in=f"{name} body access_token", token=pvalue, notes=[_BODY_NOTE]
                    )
                )
    return found or [replace(base, blank=True, problem="the request carries no bearer token")]


def read_token_file(
    data: bytes | None, name: str, mtime: float | None, error: str | None = None
) -> list[Candidate]:
    """A file that holds one item: a token (a projected service-account token), a saved
    header, or a saved API answer — pretty-printed JSON too, read whole (its mtime dates an
    answer's ``expires_in``)."""
    base = Candidate(found_in=name, location=Location(path=name))
    if mtime is not None:
        base.issued_at = datetime.fromtimestamp(mtime, UTC)
    if data is None:
        return [replace(base, problem=f"cannot read ({error or 'unreadable'})")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [replace(base, problem="not UTF-8 text")]
    return read_line(text.strip(), base)


def lines_of(
    stream: Iterator[bytes | object], name: str, issued_at: datetime | None, start: int = 1
) -> Iterator[list[Candidate]]:
    """Each input line's candidates, in order (``read_lines`` bounds every line); ``start``
    numbers the first line (a chunk of a file handed to a worker)."""
    from credaudit.lines import LineTooLong

    # One Location per input: the record's own ``line`` says which line (report findings
    # carry both, see tokens.report_findings).
    where = Location(path=None if name == "stdin" else name)
    for number, raw in enumerate(stream, start=start):
        base = Candidate(
            found_in=f"{name}:{number}", line=number, location=where, issued_at=issued_at
        )
        if isinstance(raw, bytes):
            if b"\0" in raw:
                yield [replace(base, problem="binary data, not a token")]
            else:
                # A byte-order mark from a Windows editor is not part of the first token.
                encoding = "utf-8-sig" if number == 1 else "utf-8"
                yield read_line(raw.decode(encoding, "replace"), base)
        elif isinstance(raw, LineTooLong):
            yield [replace(base, problem=f"line is {raw.length} bytes long: not a token")]
        else:
            yield read_line(str(raw), base)
