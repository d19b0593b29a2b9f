"""``credaudit token``: bearer tokens' real remaining life, signature, audience and header.

The command only wires options to ``credaudit.tokens``: it reads the inputs (arguments,
``--from``, ``--env``, ``--file``, ``--har``, ``--request``, ``--elasticsearch-config``), the
keys the operator names (files, an environment variable, or the issuer with ``--online``) and
the budget, and streams ``jsonl`` record by record.  Secrets (the HMAC secret, the client
secret) come from the environment only, never from the command line.  An input that cannot be
read is one line on stderr naming it; the rest still runs, and the exit code is 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, TypeVar

import click

from credaudit.clock import Clock
from credaudit.commands.options import (
    DURATION,
    budget_options,
    build_budget,
    exit_code,
    output_options,
    read_input_file,
)
from credaudit.durations import DurationError, parse_at, parse_duration
from credaudit.errors import InputError
from credaudit.model import Location, Severity
from credaudit.pem import MAX_PEM_BYTES

TOKEN_FORMATS = [
    "table",
    "json",
    "jsonl",
    "sarif",
    "junit",
    "github",
    "markdown",
    "prometheus",
]
TOKEN_DEFAULTS = {"skew_margin": "60s", "min_remaining": "0s"}
ONLINE_TIMEOUT = "10s"
F = TypeVar("F", bound=Callable[..., Any])


def _token_budget_defaults(func: F) -> F:
    """Tokens are judged with a 60 s skew margin by default (reference §2: 30-60 s is what
    validators tolerate) and no minimum remaining life: access tokens live 15-60 min by
    design, so scan's 15 min floor would call every healthy one expiring."""
    for param in getattr(func, "__click_params__", []):
        if param.name in TOKEN_DEFAULTS:
            param.default = TOKEN_DEFAULTS[param.name]
            param.show_default = True
    return func


def _env_value(name: str, flag: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise InputError(f"{flag} {name}: the variable is not set or empty")
    return value


class _Inputs:
    """Collects every input's candidates in order; unreadable inputs are reported, not fatal."""

    def __init__(self, issued_at: datetime | None) -> None:
        self.issued_at = issued_at
        self.bad = 0

    def problem(self, message: str) -> None:
        self.bad += 1
        click.echo(f"credaudit: {message}", err=True)


def _keys(opts: dict[str, Any]) -> Any:
    from credaudit.tokens import keys_from_jwks, keys_from_public_key, keys_from_secret

    found = []
    if opts.get("jwks"):
        data, _ = read_input_file(opts["jwks"], "--jwks", 4 * 1024 * 1024)
        found.append(keys_from_jwks(data, f"jwks {opts['jwks']}"))
    for pem in opts.get("public_key") or ():
        data, _ = read_input_file(pem, "--public-key", MAX_PEM_BYTES)
        found.append(keys_from_public_key(data, f"public key {pem}"))
    if opts.get("secret_env"):
        secret = _env_value(opts["secret_env"], "--secret-env")
        found.append(keys_from_secret(secret, f"secret ${opts['secret_env']}"))
    if opts.get("issuer"):
        if not opts.get("online"):
            if not found:
                click.echo(
                    "credaudit: --issuer without --online: the issuer's keys are not fetched",
                    err=True,
                )
        else:
            from credaudit.tokens.online import issuer_keys

            timeout = opts["online_timeout"].total_seconds()
            found.append(issuer_keys(opts["issuer"], timeout))
    if not found:
        return None
    keyset = found[0]
    for more in found[1:]:
        keyset = keyset + more
    return keyset


def _introspector(opts: dict[str, Any]) -> Any:
    url = opts.get("introspect")
    if not url:
        return None
    if not opts.get("online"):
        raise InputError("--introspect calls the issuer: add --online")
    client_id = opts.get("client_id")
    if not client_id or not opts.get("client_secret_env"):
        raise InputError("--introspect needs --client-id and --client-secret-env VAR")
    secret = _env_value(opts["client_secret_env"], "--client-secret-env")
    from credaudit.tokens.online import Introspector

    return Introspector(url, client_id, secret, opts["online_timeout"].total_seconds())


def _candidates(
    tokens: tuple[str, ...], opts: dict[str, Any], inputs: _Inputs, *, with_source: bool = True
) -> Iterator[Any]:
    """Every input's candidates, lists per line/document, in the order the options name
    (``--from`` last; without it when ``with_source`` is false)."""
    from credaudit.tokens.readers import (
        MAX_DOCUMENT,
        MAX_TOKEN_FILE,
        Candidate,
        lines_of,
        read_har,
        read_line,
        read_request,
        read_token_file,
    )

    for number, token in enumerate(tokens, start=1):
        yield read_line(token, Candidate(found_in=f"argument {number}", line=None))
    for name in opts.get("env_vars") or ():
        value = os.environ.get(name)
        base = Candidate(found_in=f"${name}", location=Location(env_var=name))
        if not value:
            inputs.problem(f"--env {name}: the variable is not set or empty")
            base.problem = "the variable is not set or empty"
            yield [base]
        else:
            yield read_line(value, base)
    for path in opts.get("files") or ():
        try:
            data, mtime = read_input_file(path, "--file", MAX_TOKEN_FILE)
        except InputError as exc:
            inputs.problem(str(exc))
            yield read_token_file(None, path, None, str(exc).split("(", 1)[-1].rstrip(")"))
            continue
        yield read_token_file(data, path, mtime)
    for flag, key, reader in (("--har", "har", read_har), ("--request", "request", read_request)):
        for path in opts.get(key) or ():
            try:
                data, _ = read_input_file(path, flag, MAX_DOCUMENT)
            except InputError as exc:
                inputs.problem(str(exc))
                continue
            found = reader(data, path)
            if any(
                c.problem and not c.blank and c.token is None and c.header is None for c in found
            ):
                inputs.problem(f"{flag} {path}: {found[0].problem}")
            yield found
    source = opts.get("source")
    if source and with_source:
        with _FromFile(source, inputs) as lines:
            if lines.handle is not None:
                yield from lines_of(lines.read(), lines.name, lines.issued_at)


class _FromFile:
    """``--from FILE|-`` opened: its lines, its name in records, and the issue time its mtime
    gives to API answers; a file that cannot be opened is reported and reads as empty."""

    def __init__(self, source: str, inputs: _Inputs) -> None:
        self.source = source
        self.inputs = inputs
        self.name = "stdin" if source == "-" else source
        self.issued_at = inputs.issued_at
        self.handle: BinaryIO | None = None

    def __enter__(self) -> _FromFile:
        if self.source == "-":
            self.handle = sys.stdin.buffer
            return self
        try:
            self.handle = open(self.source, "rb")
        except OSError as exc:
            self.inputs.problem(f"--from {self.source}: cannot read ({exc.strerror or exc})")
            return self
        if self.issued_at is None:
            mtime = os.fstat(self.handle.fileno()).st_mtime
            self.issued_at = datetime.fromtimestamp(mtime, UTC)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None and self.handle is not sys.stdin.buffer:
            self.handle.close()

    def regular(self) -> bool:
        """A regular file (not a pipe or terminal): workers can read ranges of it."""
        from credaudit.commands.jsonl_output import regular_file

        return regular_file(self.handle)

    def read(self) -> Iterator[Any]:
        from credaudit.lines import read_lines

        assert self.handle is not None
        return read_lines(self.handle)


@click.command()
@click.argument("tokens", nargs=-1)
@click.option(
    "--from",
    "source",
    metavar="FILE|-",
    help="Read items (token, Authorization: line, curl line, JSON answer), one a line.",
)
@click.option(
    "--env", "env_vars", multiple=True, metavar="VAR", help="Read a token from a variable."
)
@click.option(
    "--file", "files", multiple=True, metavar="PATH", help="Read a token file (repeatable)."
)
@click.option("--har", multiple=True, metavar="FILE", help="Tokens in a HAR file's requests.")
@click.option("--request", multiple=True, metavar="FILE", help="Tokens in a raw HTTP request.")
@click.option(
    "--elasticsearch-config",
    "es_config",
    metavar="FILE",
    help="Audit elasticsearch.yml's token service (alone: no token needed).",
)
@click.option(
    "--issued-at",
    metavar="INSTANT|-DURATION",
    help="When API answers with expires_in were issued (default: the file's mtime).",
)
@click.option("--jwks", metavar="FILE", help="Verify signatures with this JWKS file.")
@click.option(
    "--public-key", multiple=True, metavar="PEM", help="Verify with a PEM public key file."
)
@click.option("--secret-env", metavar="VAR", help="Verify HS256/384/512 with this variable.")
@click.option("--issuer", metavar="URL", help="The issuer: its JWKS via discovery (with --online).")
@click.option("--online", is_flag=True, help="Allow calls to the issuer (never made without).")
@click.option(
    "--online-timeout",
    type=DURATION,
    default=ONLINE_TIMEOUT,
    show_default=True,
    help="One deadline for each remote fetch.",
)
@click.option("--audience", multiple=True, metavar="AUD", help="Expected aud (repeatable: any of).")
@click.option("--expected-issuer", metavar="ISS", help="Expected iss (default: --issuer).")
@click.option(
    "--required-scope", multiple=True, metavar="SCOPE", help="Scope the token must carry."
)
@click.option("--typ", metavar="TYP", help="Expected header typ, e.g. at+jwt (RFC 9068).")
@click.option(
    "--max-lifetime",
    type=DURATION,
    default="1h",
    show_default=True,
    help="Longest acceptable token lifetime (CA808).",
)
@click.option("--introspect", metavar="URL", help="RFC 7662 introspection endpoint (--online).")
@click.option("--client-id", metavar="ID", help="Client id for --introspect.")
@click.option("--client-secret-env", metavar="VAR", help="Variable holding the client secret.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for --from FILE --format jsonl (default: the idle cores, up to 4, for "
    "files over 4 MiB).",
)
@click.option(
    "--at",
    "at",
    metavar="INSTANT|+DURATION",
    help="Evaluate at another instant: '+2h' asks 'will it still work in 2 h?'.",
)
@_token_budget_defaults
@budget_options
@output_options(TOKEN_FORMATS)
def token(tokens: tuple[str, ...], fmt: str, fail_on: str, soft_fail: bool, **opts: Any) -> int:
    """Check bearer tokens: JWT lifetime, signature, audience, the Authorization header,
    Elasticsearch's token service — held against the work's budget.

    Prefer --env VAR or --from - over arguments: they keep tokens out of shell history and ps.

    \b
    Examples:
      credaudit token --env ACCESS_TOKEN --run-time 30m
      credaudit token --from - --jwks jwks.json --audience api < tokens.txt
      credaudit token --file /var/run/secrets/kubernetes.io/serviceaccount/token
      credaudit token --elasticsearch-config /etc/elasticsearch/elasticsearch.yml
    """
    now = Clock.system().now()
    if opts.get("at"):
        try:
            now = parse_at(opts["at"], now)
        except DurationError as exc:
            raise InputError(f"--at: {exc}") from None
    issued_at = None
    if opts.get("issued_at"):
        text = opts["issued_at"]
        try:
            issued_at = (
                now - parse_duration(text.strip()[1:])
                if text.strip().startswith("-")
                else parse_at(text, now)
            )
        except DurationError as exc:
            raise InputError(f"--issued-at: {exc}") from None
    given = any(opts.get(k) for k in ("source", "env_vars", "files", "har", "request", "es_config"))
    if not tokens and not given:
        raise InputError(
            "give tokens: --env VAR, --from FILE (- for stdin), --file, --har, --request, "
            "--elasticsearch-config, or as arguments"
        )
    from credaudit.tokens import Context, Expectations, build_report, inspect_candidates

    budget = build_budget(**opts)
    keys = _keys(opts)
    expected_issuer = opts.get("expected_issuer") or opts.get("issuer")
    ctx = Context(
        now=now,
        budget=budget,
        max_lifetime=opts["max_lifetime"],
        keys=keys,
        expect=Expectations(
            audience=tuple(opts.get("audience") or ()),
            issuer=expected_issuer,
            scopes=tuple(s for item in opts.get("required_scope") or () for s in item.split()),
            typ=opts.get("typ"),
        ),
        introspect=_introspector(opts),
    )
    inputs = _Inputs(issued_at)
    services, service_findings = _settings(opts.get("es_config"), budget, inputs)
    threshold = Severity(fail_on)
    if fmt == "jsonl":
        failed = _stream_jsonl(
            tokens, opts, inputs, ctx, threshold=threshold, service_findings=service_findings
        )
        if inputs.bad:
            return 2
        return 0 if soft_fail or not failed else 1
    batches = _candidates(tokens, opts, inputs)
    records = [r for batch in batches for r in inspect_candidates(batch, ctx)]
    if inputs.bad and not records and not services:
        return 2  # nothing was read: the error lines say why, an empty report would not
    report = build_report(
        records,
        now=now,
        budget=budget,
        fail_on=threshold,
        keys=keys.label if keys is not None else "none",
        max_lifetime=opts["max_lifetime"],
        services=services,
        service_findings=service_findings,
    )
    from credaudit.report.json import escape_surrogates

    # A claim may hold a lone surrogate (a JSON "\ud800" escape): shown as that escape.
    click.echo(escape_surrogates(_render(report, fmt)), nl=False)
    if inputs.bad:
        return 2
    return exit_code(report.findings, fail_on, soft_fail)


def _settings(path: str | None, budget: Any, inputs: _Inputs) -> tuple[list[Any], list[Any]]:
    if not path:
        return [], []
    from credaudit.tokens.elasticsearch import audit_settings

    try:
        data, _ = read_input_file(path, "--elasticsearch-config", 1024 * 1024)
        audit = audit_settings(data, path, budget)
    except InputError as exc:
        inputs.problem(str(exc))
        return [], []
    except ValueError as exc:
        inputs.problem(f"--elasticsearch-config {path}: {exc}")
        return [], []
    return ([audit.view] if audit.view else []), audit.findings


def _stream_jsonl(
    tokens: tuple[str, ...],
    opts: dict[str, Any],
    inputs: _Inputs,
    ctx: Any,
    *,
    threshold: Severity,
    service_findings: list[Any],
) -> bool:
    """One JSON object per record as it is judged; settings findings first, as one object.

    A large ``--from`` file is judged on several cores (``--jobs``, as ``credaudit url``
    does), the output still in input order; not with ``--introspect``, whose calls go out one
    by one from one client."""
    from credaudit.commands.jsonl_output import auto_jobs, write_file_jsonl, write_jsonl

    failing = frozenset(s for s in Severity if s.at_least(threshold))

    def head() -> Iterator[tuple[bytes, bool]]:
        """The settings findings' object, then every input but ``--from``."""
        if service_findings:
            from credaudit.report.json import to_jsonable

            dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
            yield (
                dumps({"settings_findings": [to_jsonable(f) for f in service_findings]}).encode(),
                any(f.severity in failing for f in service_findings),
            )
        yield from _rendered(_candidates(tokens, opts, inputs, with_source=False), ctx, failing)

    failed = write_jsonl(head())
    source = opts.get("source")
    if not source:
        return failed
    with _FromFile(source, inputs) as from_file:
        if from_file.handle is None:
            return failed
        jobs = opts.get("jobs") or auto_jobs(from_file.handle)
        if jobs > 1 and ctx.introspect is None and from_file.regular():
            renderer = _range_renderer(from_file, ctx, failing)
            return write_file_jsonl(from_file.handle.fileno(), renderer, jobs=jobs) or failed
        lines = _lines_of(from_file.read(), from_file.name, from_file.issued_at)
        return write_jsonl(_rendered(lines, ctx, failing)) or failed


def _lines_of(raw: Iterator[Any], name: str, issued_at: datetime | None, start: int = 1) -> Any:
    from credaudit.tokens.readers import lines_of

    return lines_of(raw, name, issued_at, start)


def _rendered(
    batches: Iterator[Any], ctx: Any, failing: frozenset[Severity]
) -> Iterator[tuple[bytes, bool]]:
    """Each record's JSON line, and whether it has a failing finding.

    ``judge`` is called directly: a generator per input line (``inspect_candidates``) cost
    half a microsecond a token."""
    from credaudit.tokens.analyze import judge

    for batch in batches:
        for candidate in batch:
            record = judge(candidate, ctx)
            findings = record.findings  # the most severe first (tokens.analyze._finish)
            yield record.to_json(), bool(findings) and findings[0].severity in failing


def _range_renderer(from_file: _FromFile, ctx: Any, failing: frozenset[Severity]) -> Any:
    """What a worker runs on one byte range of ``--from``: the serial path, lines joined."""
    from credaudit.lines import read_lines

    name, issued_at = from_file.name, from_file.issued_at

    def render(first: int, reader: Any) -> tuple[bytes, bool]:
        out = []
        failed = False
        for line, failing_line in _rendered(
            _lines_of(read_lines(reader), name, issued_at, first), ctx, failing
        ):
            out.append(line)
            failed = failed or failing_line
        return b"\n".join(out), failed

    return render


def _render(report: Any, fmt: str) -> str:
    if fmt == "table":
        from credaudit.commands.options import color_enabled
        from credaudit.report import token_table

        return token_table.render(report, color=color_enabled())
    from credaudit.commands.scan import render_report

    return render_report(report, fmt)
