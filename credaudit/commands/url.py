"""``credaudit url``: the real remaining life of presigned URLs, one or a million.

The command only wires options to ``credaudit.presign``: it builds the Target (to find the
sessions behind the URLs' keys), reads the secret for ``--verify`` from the environment or a
static-keys profile — never from the command line — and streams ``jsonl`` line by line so
memory stays flat.  ``table`` and ``json`` need every row before printing, so they collect.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO

import click

from credaudit.commands.jsonl_output import (
    auto_jobs,
    regular_file,
    write_file_jsonl,
    write_jsonl,
)
from credaudit.commands.options import (
    budget_options,
    build_budget,
    build_target,
    exit_code,
    output_options,
    read_input_file,
    target_options,
)
from credaudit.durations import DurationError, parse_at
from credaudit.errors import InputError
from credaudit.model import Severity
from credaudit.pem import MAX_PEM_BYTES
from credaudit.target import Target

URL_FORMATS = ["table", "json", "jsonl", "sarif", "junit", "github", "markdown", "prometheus"]


def _public_keys(paths: tuple[str, ...]) -> list[Any] | None:
    """The CloudFront public keys named by --public-key, parsed once each."""
    if not paths:
        return None
    from credaudit.presign.cloudfront import load_public_key

    keys = []
    for path in paths:
        pem, _ = read_input_file(path, "--public-key", MAX_PEM_BYTES)
        keys.append(load_public_key(pem, f"--public-key {path}"))
    return keys


def _secret(target: Target, env_var: str | None, profiles: tuple[str, ...]) -> str | dict[str, str]:
    """The secret for --verify: one for every URL, or by access key id when several profiles
    are named (each URL checked with its own key's).  Errors name the input, never a value."""
    if env_var and profiles:
        raise InputError("--secret-env and --secret-profile: choose one")
    if env_var:
        value = target.env.get(env_var)
        if not value:
            raise InputError(f"--secret-env {env_var}: the variable is not set or empty")
        return value
    if not profiles:
        raise InputError(
            "--verify needs --secret-env VAR or --secret-profile NAME "
            "(or --public-key FILE for CloudFront signed URLs)"
        )
    from credaudit.sources.awsconfig import load

    known = load(target).profiles
    by_key: dict[str, str] = {}
    for profile in profiles:
        section = known.get(profile)
        if section is None:
            raise InputError(f"--secret-profile {profile}: no such profile")
        value = section.get("aws_secret_access_key")
        if not isinstance(value, str) or not value:
            raise InputError(
                f"--secret-profile {profile}: the profile has no static aws_secret_access_key"
            )
        if len(profiles) == 1:
            return value
        key_id = section.get("aws_access_key_id")
        if not isinstance(key_id, str) or not key_id:
            raise InputError(
                f"--secret-profile {profile}: no aws_access_key_id to match URLs by (needed "
                "when several profiles are named)"
            )
        by_key[key_id] = value
    return by_key


def _headers(values: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise InputError(f"--header {name.strip()[:40]!r}: expected NAME:VALUE")
        key = name.strip().lower()
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
    return headers


def _payload_hash(stated: str | None, body_file: str | None) -> str | None:
    """--payload-hash as given, or the SHA-256 of --body FILE (read whole: a request body)."""
    from credaudit.presign import payload_hash_of

    if stated is not None and body_file is not None:
        raise InputError("--payload-hash and --body: choose one")
    if stated is not None:
        try:
            return payload_hash_of(stated)
        except ValueError as exc:
            raise InputError(f"--payload-hash: {exc}") from None
    if body_file is None:
        return None
    digest = hashlib.sha256()
    try:
        with open(body_file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"--body {body_file}: cannot read ({exc.strerror or exc})") from None
    return digest.hexdigest()


def _open_source(source: str) -> BinaryIO:
    if source == "-":
        return sys.stdin.buffer
    try:
        return open(source, "rb")
    except OSError as exc:
        raise InputError(f"--from {source}: cannot read ({exc.strerror or exc})") from None


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--from",
    "source",
    metavar="FILE|-",
    help="Read URLs (one a line, or JSON lines with url and optional method, headers, "
    "normalize, payload_hash, body) from a file or stdin.",
)
@target_options
@budget_options
@output_options(URL_FORMATS)
@click.option(
    "--session-expires",
    metavar="INSTANT",
    help="The signing session's expiry (instant or +DURATION), overriding the lookup.",
)
@click.option("--verify", is_flag=True, help="Recompute signatures (needs a secret, see below).")
@click.option("--secret-env", metavar="VAR", help="Environment variable holding the secret key.")
@click.option(
    "--secret-profile",
    "secret_profiles",
    multiple=True,
    metavar="NAME",
    help="Static-keys profile holding the secret key; repeat it for URLs signed by several "
    "keys (each URL is checked with the profile whose aws_access_key_id signed it).",
)
@click.option(
    "--public-key",
    "public_key_files",
    multiple=True,
    metavar="FILE",
    help="PEM public key (or certificate) of a CloudFront key group, for --verify of "
    "CloudFront signed URLs (repeatable: each URL is tried with each).",
)
@click.option("--method", help="HTTP method the URLs were signed for (default: try all).")
@click.option(
    "--header",
    "header_values",
    multiple=True,
    metavar="NAME:VALUE",
    help="Value of a signed header (repeatable).",
)
@click.option(
    "--normalize/--no-normalize",
    default=None,
    help="Whether the signer normalised the path (default: not for S3, yes elsewhere).",
)
@click.option(
    "--payload-hash",
    metavar="HEX",
    help="The signed payload hash: 64 hex digits or UNSIGNED-PAYLOAD (default: by service).",
)
@click.option(
    "--body",
    "body_file",
    metavar="FILE",
    help="The request body the URL was signed with (its SHA-256 is the payload hash).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes for --from FILE --format jsonl on a regular file (default: the idle "
    "cores, up to 4, for files over 4 MiB).",
)
def url(
    urls: tuple[str, ...],
    source: str | None,
    fmt: str,
    fail_on: str,
    soft_fail: bool,
    **opts: Any,
) -> int:
    """Check presigned URLs' real remaining life, and optionally their signatures.

    A URL signed with temporary credentials dies with its session; the session's expiry is
    looked up among the credentials this host holds (same target options as scan).
    EKS tokens (k8s-aws-v1.), RDS/DSQL auth tokens and CloudFront signed URLs are read too.

    \b
    Examples:
      credaudit url 'https://bkt.s3.amazonaws.com/k?X-Amz-Algorithm=...'
      credaudit url --from issued.txt --format jsonl --min-remaining 2h
      credaudit url --from - --verify --secret-env SIGNER_SECRET < urls.txt
      credaudit url --verify --secret-env SECRET --method POST --body form.txt 'https://...'
      credaudit url "$(aws eks get-token --cluster-name prod --query status.token --output text)"
      credaudit url --verify --public-key key-group.pem 'https://d1.cloudfront.net/k?Expires=...'
    """
    from credaudit.presign import inspect_stream, read_lines, render_jsonl
    from credaudit.presign.sessions import find_sessions

    if not urls and not source:
        raise InputError("give URLs as arguments or --from FILE (--from - for stdin)")
    if urls and source:
        raise InputError("give URLs as arguments or --from, not both")
    target = build_target(**opts)
    budget = build_budget(**opts)
    now = target.clock.now()
    session_expires = None
    if opts.get("session_expires"):
        try:
            session_expires = parse_at(opts["session_expires"], now)
        except DurationError as exc:
            raise InputError(f"--session-expires: {exc}") from None
    secret: str | dict[str, str] | None = None
    key_files = opts.get("public_key_files") or ()
    secret_named = opts.get("secret_env") or opts.get("secret_profiles")
    if not opts.get("verify") and (secret_named or key_files):  # before any file is read
        raise InputError("--secret-env/--secret-profile/--public-key only make sense with --verify")
    public_keys = _public_keys(key_files)
    if opts.get("verify") and (secret_named or not public_keys):
        secret = _secret(target, opts.get("secret_env"), opts.get("secret_profiles") or ())
    headers = _headers(opts.get("header_values") or ())
    payload_hash = _payload_hash(opts.get("payload_hash"), opts.get("body_file"))
    sessions = {} if session_expires is not None else find_sessions(target)

    handle: BinaryIO | None = _open_source(source) if source else None
    # A URL argument is read as --from reads a line, from its bytes as the shell passed them:
    # one that is not UTF-8 is judged with U+FFFD where it is not, as from a file, never with
    # the lone surrogates Python decodes such argv bytes to (no text format can write them).
    lines: Iterator[Any] = (
        read_lines(handle) if handle is not None else (os.fsencode(u) for u in urls)
    )
    inputs: dict[str, Any] = {
        "now": now,
        "budget": budget,
        "sessions": sessions,
        "session_expires": session_expires,
        "secret": secret,
        "method": opts.get("method"),
        "headers": headers or None,
        "normalize": opts.get("normalize"),
        "payload_hash": payload_hash,
        "public_keys": public_keys,
    }
    threshold = Severity(fail_on)
    try:
        if fmt == "jsonl":
            failing = {s for s in Severity if s.at_least(threshold)}
            jobs = (opts.get("jobs") or auto_jobs(handle)) if regular_file(handle) else 1
            if jobs > 1 and handle is not None:
                from credaudit.presign.parallel import range_renderer

                render = range_renderer(failing=failing, **inputs)
                failed = write_file_jsonl(handle.fileno(), render, jobs=jobs)
            else:
                failed = write_jsonl(render_jsonl(lines, failing=failing, **inputs))
            return 0 if soft_fail or not failed else 1
        collected = list(inspect_stream(lines, **inputs))
    finally:
        if handle is not None and handle is not sys.stdin.buffer:
            handle.close()
    report = build_report(collected, target, budget, fail_on)
    if fmt == "json":
        from credaudit.report import json as json_report

        click.echo(json_report.render(report), nl=False)
    elif fmt == "table":
        from credaudit.commands.options import color_enabled
        from credaudit.report import url_table

        click.echo(url_table.render(report, color=color_enabled()), nl=False)
    else:
        from credaudit.commands.scan import render_report

        click.echo(render_report(report, fmt), nl=False)
    return exit_code(report.findings, fail_on, soft_fail)


def build_report(results: list[Any], target: Target, budget: Any, fail_on: str) -> Any:
    """The UrlReport for ``--format json|table`` (findings located at their URL and line)."""
    from credaudit.analysis.rules import sort_findings
    from credaudit.presign.model import UrlReport, UrlSummary, report_findings

    findings = sort_findings([f for r in results for f in report_findings(r)])
    threshold = Severity(fail_on)
    severities = Counter(f.severity.value for f in findings)
    highest = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return UrlReport(
        evaluated_at=target.clock.now(),
        target=target.describe(),
        budget=budget.view(),
        urls=results,
        findings=findings,
        summary=UrlSummary(
            urls=len(results),
            by_status=dict(Counter(r.status for r in results)),
            findings=len(findings),
            by_severity=dict(severities),
            highest=highest,
            fail_on=threshold,
            failed=any(f.severity.at_least(threshold) for f in findings),
        ),
    )
