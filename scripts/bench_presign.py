#!/usr/bin/env python3
"""Benchmark ``credaudit url`` / ``credaudit.presign`` on URLs shaped like a day of issuance.

The input is presigned by real botocore (``generate_presigned_url``), one URL per signing
second: rotating STS sessions (ASIA keys, ~1 KB session tokens, each session its own secret),
six regions, virtual-host and path style, SigV2 (botocore's default for S3) beside SigV4,
distinct object keys with unicode and reserved characters, ``response-*`` overrides, GET, PUT
and HEAD.  It is generated once into ``.bench/presign/`` (seeded, so every run reads the same
URLs).  Every figure is printed with the number of distinct query heads of its input, since
a cache keyed on repeated queries would show up as a figure that falls with that number.

Measured in one run, beside botocore as the baseline:
  1. library parse + analyse (``credaudit.presign.inspect``);
  2. ``credaudit url --from FILE --format jsonl > /dev/null`` end to end;
  3. ``inspect(..., secret=)``, ``verify(parse(url))`` and ``url --verify`` end to end (one
     process and two) vs botocore's ``S3SigV4QueryAuth`` canonical request + string to sign +
     signature, all on the same SigV4 URLs (botocore's request objects built before its timer);
  4. peak RSS of the CLI for the first 10,000 vs all 1,000,000 lines.
A repetitive input (one session signing in bursts, the previous bench's shape) is measured
second, labelled as such.  Nothing is asserted: tests never judge speed.  Usage:

    .venv/bin/python scripts/bench_presign.py [--urls 100000] [--small 10000]
        [--large 1000000] [--repeat 3] [--skip-rss]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".bench" / "presign"
START = datetime(2026, 11, 20, tzinfo=UTC)
REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
)
SESSION_EVERY = timedelta(hours=5)  # a workload renews its STS session every 5 h ...
SESSION_LIFE = timedelta(hours=6)  # ... and each session lives 6 h
EXPIRES_IN = (300, 900, 900, 3600, 3600, 3600, 3600, 43200, 86400, 604800)
WORDS = (
    "report",
    "invoice",
    "résumé",
    "日本語の資料",
    "naïve café",
    "a+b=c&d",
    "50% off",
    "what?#frag",
    "(copy) [1]",
    "~tilde*star'quote",
    "emoji-🙂",
    "semi;colon,comma",
    "at@sign:colon",
    "dollar$",
    "plain",
    "photo",
    "backup",
    "ÅÄÖ",
    "space  twice",
)
EXTENSIONS = (".pdf", ".csv.gz", ".jpg", ".json", "", ".tar")
GENERATOR = 2  # bump when the generated shape changes: the cached file is rebuilt


@dataclass
class Session:
    key: str
    secret: str
    token: str
    expires: datetime


def _sessions_for(workload: int, rng: random.Random) -> Iterator[tuple[datetime, Session]]:
    """(issued at, session) for one workload, forever, renewing every SESSION_EVERY."""
    issued = START - timedelta(minutes=17 * workload)
    while True:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        key = "ASIA" + "".join(rng.choice(alphabet) for _ in range(16))
        secret = base64.b64encode(rng.randbytes(30)).decode()
        token = (
            "IQoJb3JpZ2luX2VjE" + base64.b64encode(rng.randbytes(rng.randint(650, 820))).decode()
        )
        yield issued, Session(key, secret, token, issued + SESSION_LIFE)
        issued += SESSION_EVERY


def _object_key(rng: random.Random, index: int, at: datetime) -> str:
    word = rng.choice(WORDS)
    return f"tenant-{rng.randint(1, 400)}/{at:%Y/%m/%d}/{word}-{index:x}{rng.choice(EXTENSIONS)}"


def generate_realistic(n: int) -> tuple[Path, Path]:
    """n botocore-presigned URLs (``real-N.txt``) and their sessions and methods
    (``real-N.meta.json``), built once."""
    urls_path = WORK / f"real-{n}.txt"
    meta_path = WORK / f"real-{n}.meta.json"
    if meta_path.exists() and json.loads(meta_path.read_text()).get("generator") == GENERATOR:
        return urls_path, meta_path
    WORK.mkdir(parents=True, exist_ok=True)
    import boto3
    import botocore.auth
    from botocore.config import Config

    # Control the signing clock the way botocore reads it: SigV4 calls
    # ``botocore.auth.get_current_datetime()``; SigV2 query auth ``time.time() + expires``.
    current = [START]
    botocore.auth.get_current_datetime = lambda: current[0].replace(tzinfo=None)  # type: ignore[attr-defined]
    real_time = botocore.auth.time
    botocore.auth.time = types.SimpleNamespace(  # type: ignore[attr-defined]
        time=lambda: current[0].timestamp(),  # noqa: PLW0108 - reads the clock of the moment
        strftime=real_time.strftime,
        gmtime=real_time.gmtime,
    )

    rng = random.Random(11)
    span = max(int(n * 1.25), 36 * 3600)  # every URL its own signing second
    seconds = sorted(rng.sample(range(span), n))
    schedules = [_sessions_for(w, random.Random(1000 + w)) for w in range(len(REGIONS))]
    current_sessions: list[tuple[datetime, Session]] = [next(s) for s in schedules]
    upcoming: list[tuple[datetime, Session]] = [next(s) for s in schedules]
    clients: dict[tuple[str, str], Any] = {}
    all_sessions: dict[str, Session] = {s.key: s for _, s in current_sessions}
    methods: list[str] = []
    with urls_path.open("w", encoding="utf-8") as out:
        for index, offset in enumerate(seconds):
            at = START + timedelta(seconds=offset)
            current[0] = at
            workload = rng.randrange(len(REGIONS))
            while upcoming[workload][0] <= at:  # the workload has renewed its session
                old = current_sessions[workload][1].key
                for kind in ("virtual", "path", "v2"):
                    clients.pop((old, kind), None)
                current_sessions[workload] = upcoming[workload]
                upcoming[workload] = next(schedules[workload])
                new = current_sessions[workload][1]
                all_sessions[new.key] = new
            session = current_sessions[workload][1]
            roll = rng.random()
            kind = "v2" if roll < 0.12 else "path" if roll < 0.32 else "virtual"
            client = clients.get((session.key, kind))
            if client is None:
                boto = boto3.session.Session(
                    aws_access_key_id=session.key,
                    aws_secret_access_key=session.secret,
                    aws_session_token=session.token,
                    region_name=REGIONS[workload],
                )
                config = (
                    Config(s3={"addressing_style": "virtual"})
                    if kind == "v2"
                    else Config(signature_version="s3v4", s3={"addressing_style": kind})
                )
                client = clients[(session.key, kind)] = boto.client("s3", config=config)
            bucket = f"acme-{REGIONS[workload]}-{'media' if index % 3 else 'exports'}"
            params: dict[str, str] = {"Bucket": bucket, "Key": _object_key(rng, index, at)}
            pick = rng.random()
            operation, method = (
                ("put_object", "PUT")
                if pick < 0.12
                else ("head_object", "HEAD")
                if pick < 0.18
                else ("get_object", "GET")
            )
            if operation == "get_object" and rng.random() < 0.15:
                params["ResponseContentDisposition"] = (
                    f'attachment; filename="{params["Key"].rsplit("/", 1)[-1]}"'
                )
                if rng.random() < 0.5:
                    params["ResponseContentType"] = "application/octet-stream"
            url = client.generate_presigned_url(
                operation, Params=params, ExpiresIn=rng.choice(EXPIRES_IN)
            )
            out.write(url + "\n")
            methods.append(method[0])
    meta = {
        "generator": GENERATOR,
        "sessions": {k: [s.secret, s.expires.isoformat()] for k, s in all_sessions.items()},
        "methods": "".join(methods),
    }
    meta_path.write_text(json.dumps(meta))
    return urls_path, meta_path


def generate_repetitive(n: int) -> Path:
    """The previous bench's shape, kept as a secondary line: one session, 3 regions,
    7 expiry values, signed within a few seconds."""
    path = WORK / f"repetitive-{n}.txt"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    import boto3
    from botocore.config import Config

    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x7Kq+Zp/9" * 100 + "=="
    clients = []
    for region in REGIONS[:3]:
        boto = boto3.session.Session(
            aws_access_key_id="ASIAY34FZKBOKMUTVV7A",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            aws_session_token=token,
            region_name=region,
        )
        style = "virtual" if region != "us-west-2" else "path"
        config = Config(signature_version="s3v4", s3={"addressing_style": style})
        clients.append(boto.client("s3", config=config))
    with path.open("w") as out:
        for i in range(n):
            url = clients[i % 3].generate_presigned_url(
                "get_object" if i % 4 else "put_object",
                Params={"Bucket": "bench-bucket", "Key": f"data/{i:07d}/part file.bin"},
                ExpiresIn=3600 + (i % 7) * 600,
            )
            out.write(url + "\n")
    return path


def distinct_heads(urls: list[str]) -> int:
    """Distinct queries once the signature is taken out: what a query-keyed cache could reuse."""
    heads = set()
    for url in urls:
        query = url.partition("?")[2]
        heads.add(
            "&".join(
                p for p in query.split("&") if not p.startswith(("X-Amz-Signature=", "Signature="))
            )
        )
    return len(heads)


def key_of(url: str) -> str:
    """The access key id a URL was signed with (both are 20 characters, first in place)."""
    name = "X-Amz-Credential=" if "X-Amz-Credential=" in url else "AWSAccessKeyId="
    return url.split(name, 1)[1][:20]


def best_rate(n: int, repeat: int, work: Callable[[], object]) -> float:
    """Items per CPU second of this process, best of ``repeat``: the machine is shared, and
    CPU time leaves out the time other processes held the cores."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return n / best


def botocore_baseline(
    urls: list[str], methods: str, secrets: dict[str, str], repeat: int
) -> tuple[float, int]:
    """botocore's canonical request + string to sign + signature for each SigV4 URL, with the
    signers and ``AWSRequest`` objects built before the timer starts."""
    from urllib.parse import unquote

    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signers: dict[tuple[str, str], Any] = {}
    prepared = []
    for url, method in zip(urls, methods, strict=True):
        base, _, query = url.partition("?")
        pairs = query.split("&")
        fields = dict(p.split("=", 1) for p in pairs)
        akid, _, region = unquote(fields["X-Amz-Credential"]).split("/")[:3]
        signer = signers.get((akid, region))
        if signer is None:
            credentials = Credentials(akid, secrets[akid])
            signer = signers[(akid, region)] = S3SigV4QueryAuth(credentials, "s3", region)
        unsigned = "&".join(p for p in pairs if not p.startswith("X-Amz-Signature="))
        request = AWSRequest(
            method={"G": "GET", "P": "PUT", "H": "HEAD"}[method], url=f"{base}?{unsigned}"
        )
        request.context["timestamp"] = fields["X-Amz-Date"]
        prepared.append((signer, request, fields["X-Amz-Signature"]))
    matched = 0

    def run() -> None:
        nonlocal matched
        matched = 0
        for signer, request, signature in prepared:
            canonical = signer.canonical_request(request)
            to_sign = signer.string_to_sign(request, canonical)
            if signer.signature(to_sign, request) == signature:
                matched += 1

    return best_rate(len(prepared), repeat, run), matched


def bare_floors(
    urls: list[str], v4_urls: list[str], now: datetime, repeat: int
) -> tuple[float, float]:
    """URLs per CPU second of two bare loops doing only the irreducible work, for scale: the
    split-dict-``fromisoformat``-expiry loop, and a SigV4 check (whole-query encoding check,
    the items sorted, one SHA-256 over the canonical request, one HMAC)."""
    import hashlib
    import hmac
    import re
    from itertools import repeat as again

    unreserved = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%"
    bad_escape = re.compile(r"%(?![0-9A-F]{2})")
    signer = hmac.new(b"k" * 32, digestmod=hashlib.sha256)

    def parse_loop() -> None:
        for url in urls:
            query = url.partition("?")[2]
            fields = {k: v for k, _, v in map(str.partition, query.split("&"), again("="))}
            date = fields.get("X-Amz-Date")
            if date is not None:
                expiry = datetime.fromisoformat(date) + timedelta(0, int(fields["X-Amz-Expires"]))
                _ = expiry > now

    def check_loop() -> None:
        for url in v4_urls:
            query = url.partition("?")[2]
            _ = query.encode().translate(None, unreserved), bad_escape.search(query)
            parts = query.replace("=", "\0").split("&")
            parts.sort()
            canonical = "&".join([p for p in parts if not p.startswith("X-Amz-Signature\0")])
            request = f"GET\n/\n{canonical}\nhost:h\n\nhost\nUNSIGNED-PAYLOAD".encode()
            mac = signer.copy()
            mac.update(hashlib.sha256(request).hexdigest().encode())
            mac.hexdigest()

    return best_rate(len(urls), repeat, parse_loop), best_rate(len(v4_urls), repeat, check_loop)


def child(argv: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Peak RSS (KiB), wall time and CPU time (user + system, workers included) of a child
    run with stdout to /dev/null."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)\n"
        "wall = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(u.ru_maxrss, wall, u.ru_utime + u.ru_stime)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, env=env, check=True
    )
    rss, wall, cpu = out.stdout.split()
    return int(rss), float(wall), float(cpu)


def head_file(source: Path, n: int) -> Path:
    """The first n lines of ``source`` as their own file (cached)."""
    target = WORK / f"{source.stem}-first-{n}.txt"
    if not target.exists():
        with source.open("rb") as handle, target.open("wb") as out:
            for _, line in zip(range(n), handle, strict=False):
                out.write(line)
    return target


def sigv4_file(source: Path, v4_urls: list[str]) -> Path:
    """The SigV4 lines of ``source`` as their own file: the URLs botocore's baseline signs,
    so the CLI's ``--verify`` is measured on the same URLs (written each run: cheap, and
    never stale against the source)."""
    target = WORK / f"{source.stem}-sigv4.txt"
    target.write_text("".join(f"{url}\n" for url in v4_urls), encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-rss", action="store_true", help="skip the 1,000,000-line runs")
    args = parser.parse_args()

    from credaudit.presign import inspect, parse, verify

    t0 = time.perf_counter()
    source, meta_path = generate_realistic(args.urls)
    repetitive_source = generate_repetitive(args.urls)
    generated = time.perf_counter() - t0
    meta = json.loads(meta_path.read_text())
    urls = source.read_text(encoding="utf-8").splitlines()
    methods = meta["methods"]
    secrets = {k: v[0] for k, v in meta["sessions"].items()}
    sessions = {k: datetime.fromisoformat(v[1]) for k, v in meta["sessions"].items()}
    repetitive = repetitive_source.read_text().splitlines()
    heads, heads_rep = distinct_heads(urls), distinct_heads(repetitive)
    v4 = [i for i, u in enumerate(urls) if "X-Amz-Signature=" in u]
    v4_urls = [urls[i] for i in v4]
    v4_methods = "".join(methods[i] for i in v4)
    heads_v4 = distinct_heads(v4_urls)
    keys = [key_of(u) for u in urls]
    used = set(keys)
    signed = sorted(
        datetime.strptime(u.split("X-Amz-Date=")[1][:16], "%Y%m%dT%H%M%SZ") for u in v4_urls
    )
    spread = signed[-1] - signed[0]
    now = signed[-1].replace(tzinfo=UTC)

    def analyse(batch: list[str]) -> Callable[[], None]:
        def work() -> None:
            for url in batch:
                inspect(url, now=now, sessions=sessions)

        return work

    def verify_all(batch: list[str]) -> Callable[[], None]:
        batch_keys = [key_of(u) for u in batch]

        def work() -> None:
            for url, key in zip(batch, batch_keys, strict=True):
                inspect(url, now=now, sessions=sessions, secret=secrets[key])

        return work

    lib_rate = best_rate(len(urls), args.repeat, analyse(urls))
    boto_rate, matched = botocore_baseline(v4_urls, v4_methods, secrets, args.repeat)
    verify_rate = best_rate(len(v4_urls), args.repeat, verify_all(v4_urls))
    verify_all_rate = best_rate(len(urls), args.repeat, verify_all(urls))
    v4_secrets = [secrets[key_of(u)] for u in v4_urls]

    def verify_only() -> None:
        for url, secret in zip(v4_urls, v4_secrets, strict=True):
            verify(parse(url), secret)

    verify_only_rate = best_rate(len(v4_urls), args.repeat, verify_only)
    # botocore is told the method (its request objects carry it): the same information given
    # to credaudit, which otherwise tries GET, PUT, HEAD, DELETE, POST in turn.
    v4_named = ["GET" if m == "G" else "PUT" if m == "P" else "HEAD" for m in v4_methods]

    def verify_named() -> None:
        for url, secret, method in zip(v4_urls, v4_secrets, v4_named, strict=True):
            verify(parse(url), secret, method=method)

    def inspect_named() -> None:
        for url, secret, method in zip(v4_urls, v4_secrets, v4_named, strict=True):
            inspect(url, now=now, sessions=sessions, secret=secret, method=method)

    verify_named_rate = best_rate(len(v4_urls), args.repeat, verify_named)
    inspect_named_rate = best_rate(len(v4_urls), args.repeat, inspect_named)
    lib_rep = best_rate(len(repetitive), args.repeat, analyse(repetitive))
    floor_parse, floor_check = bare_floors(urls, v4_urls, now, args.repeat)
    verified = sum(
        1
        for u, k in zip(urls, keys, strict=True)
        if inspect(u, now=now, sessions=sessions, secret=secrets[k]).signature_valid
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env["HOME"] = str(WORK)
    binary = os.environ.get("CREDAUDIT_BENCH_BIN") or str(REPO / ".venv" / "bin" / "credaudit")
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    cli = [binary, "url", "--format", "jsonl", "--no-network", "--at", at]

    def cli_rate(path: Path, n: int) -> tuple[float, float]:
        """(URLs per wall second, URLs per CPU second), best of the runs."""
        runs = [child([*cli, "--from", str(path)], env) for _ in range(args.repeat)]
        return n / min(r[1] for r in runs), n / min(r[2] for r in runs)

    cli_real, cli_real_cpu = cli_rate(source, len(urls))
    # --verify end to end: one static-keys profile a session in a HOME of its own, every URL
    # checked with the secret of the key that signed it.
    verify_env = {**env, "HOME": str(WORK / "verify-home")}
    credentials = Path(verify_env["HOME"]) / ".aws" / "credentials"
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(
        "".join(
            f"[s{i}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
            for i, (key, secret) in enumerate(secrets.items())
        )
    )
    profiles = [arg for i in range(len(secrets)) for arg in ("--secret-profile", f"s{i}")]
    v4_source = sigv4_file(source, v4_urls)
    # (wall, CPU seconds of all its processes) of the fastest run for each --jobs: the CPU a
    # URL costs with two workers against one process shows whether the cores slowed each
    # other (a shared physical core, the host's load) or the split left one idle.
    cli_verify = {
        jobs: min(
            (
                child(
                    [*cli, "--from", str(v4_source), "--verify", *profiles, "--jobs", str(jobs)],
                    verify_env,
                )[1:]
                for _ in range(args.repeat)
            ),
            key=lambda run: run[0],
        )
        for jobs in (1, 2)
    }
    cli_rep, _ = cli_rate(repetitive_source, len(repetitive))
    startup = min(child([*cli, "--from", "/dev/null"], env)[1] for _ in range(3))

    rss_line = ""
    if not args.skip_rss:
        large, _ = generate_realistic(args.large)
        small = head_file(large, args.small)
        large_lines = large.read_text(encoding="utf-8").splitlines()
        heads_large = distinct_heads(large_lines)
        heads_small = distinct_heads(large_lines[: args.small])
        sessions_large = len(
            json.loads((WORK / f"real-{args.large}.meta.json").read_text())["sessions"]
        )
        del large_lines
        rss_small, _, _ = child([*cli, "--from", str(small)], env)
        rss_large, wall_large, _ = child([*cli, "--from", str(large)], env)
        rss_line = (
            f"| peak RSS, CLI jsonl, first {args.small:,} vs all {args.large:,} lines "
            f"({heads_small:,} / {heads_large:,} heads, {sessions_large} sessions in all) | "
            f"{rss_small / 1024:.1f} / {rss_large / 1024:.1f} MiB = "
            f"{rss_large / rss_small:.2f}× ({args.large / wall_large:,.0f} URLs/s) | ≤ 1.5× | "
            f"{'yes' if rss_large <= 1.5 * rss_small else 'no'} |"
        )

    v2_share = 1 - len(v4_urls) / len(urls)
    print(
        f"## Run {datetime.now(UTC):%Y-%m-%d %H:%M}Z — {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}, "
        "shared machine"
    )
    print()
    print(
        f"Input: {len(urls):,} URLs presigned by botocore `generate_presigned_url`, "
        f"{heads:,} distinct query heads, {len(used)} sessions (ASIA keys with session tokens), "
        f"X-Amz-Date spread over {spread.total_seconds() / 3600:.1f} h (each URL its own signing "
        f"second), {len(REGIONS)} regions, virtual-host and path style, {v2_share:.0%} SigV2, "
        f"GET/PUT/HEAD, `response-*` overrides on some; mean {sum(map(len, urls)) // len(urls)} "
        f"characters. Best of {args.repeat}; in-process rates per CPU second of the process "
        f"(the machine is shared), CLI rates per wall second. (Input ready in {generated:.1f} s.)"
    )
    print()
    print("| measurement (distinct query heads) | figure | target | met |")
    print("|---|---|---|---|")
    print(
        f"| library parse + analyse (`inspect`), {len(urls):,} URLs ({heads:,} heads) | "
        f"{lib_rate:,.0f} URLs/s | ≥ 100,000 URLs/s | {'yes' if lib_rate >= 100_000 else 'no'} |"
    )
    print(
        f"| CLI `url --from FILE --format jsonl > /dev/null`, {len(urls):,} URLs ({heads:,} heads) "
        f"| {cli_real:,.0f} URLs/s wall, {cli_real_cpu:,.0f} per CPU second (start-up "
        f"{startup:.2f} s included) | ≥ 50,000 URLs/s | {'yes' if cli_real >= 50_000 else 'no'} |"
    )
    print(
        f"| `inspect(..., secret=)`, the {len(v4_urls):,} SigV4 URLs ({heads_v4:,} heads) | "
        f"{verify_rate:,.0f} URLs/s = {verify_rate / boto_rate:.2f}× botocore | ≥ 3× botocore | "
        f"{'yes' if verify_rate >= 3 * boto_rate else 'no'} |"
    )
    print(
        f"| `verify(parse(url))` only, same {len(v4_urls):,} URLs | {verify_only_rate:,.0f} URLs/s "
        f"= {verify_only_rate / boto_rate:.2f}× botocore | | |"
    )
    print(
        f"| `verify(parse(url), method=)`, method given as botocore's requests carry it, same "
        f"{len(v4_urls):,} URLs | {verify_named_rate:,.0f} URLs/s = "
        f"{verify_named_rate / boto_rate:.2f}× botocore | ≥ 3× botocore | "
        f"{'yes' if verify_named_rate >= 3 * boto_rate else 'no'} |"
    )
    print(
        f"| `inspect(..., secret=, method=)`, same {len(v4_urls):,} URLs | "
        f"{inspect_named_rate:,.0f} URLs/s = {inspect_named_rate / boto_rate:.2f}× botocore | | |"
    )
    for jobs, (wall, cpu) in cli_verify.items():
        rate = len(v4_urls) / wall
        print(
            f"| CLI `url --from FILE --verify --secret-profile` ×{len(secrets)} `--format jsonl "
            f"--jobs {jobs}`, the same {len(v4_urls):,} SigV4 URLs ({heads_v4:,} heads) | "
            f"{rate:,.0f} URLs/s wall "
            f"= {rate / boto_rate:.2f}× botocore ({cpu / len(v4_urls) * 1e6:.1f} µs CPU a URL, "
            f"all processes) | ≥ 3× botocore | {'yes' if rate >= 3 * boto_rate else 'no'} |"
        )
    print(
        f"| botocore `S3SigV4QueryAuth` canonical request + string to sign + signature, same "
        f"{len(v4_urls):,} URLs ({heads_v4:,} heads) | {boto_rate:,.0f} URLs/s | (baseline) | |"
    )
    print(
        f"| `inspect(..., secret=)`, all {len(urls):,} URLs incl. SigV2 ({heads:,} heads) | "
        f"{verify_all_rate:,.0f} URLs/s | | |"
    )
    if rss_line:
        print(rss_line)
    print(
        f"| for scale: a bare split-dict-`fromisoformat`-expiry loop, same {len(urls):,} URLs | "
        f"{floor_parse:,.0f} URLs/s | | |"
    )
    print(
        f"| for scale: a bare SigV4 check (whole-query encoding check, sort, one SHA-256, one "
        f"HMAC), same {len(v4_urls):,} URLs | {floor_check:,.0f} URLs/s = "
        f"{floor_check / boto_rate:.2f}× botocore | | |"
    )
    print(
        f"| secondary, repetitive input: library `inspect`, {len(repetitive):,} URLs "
        f"({heads_rep:,} heads, 1 session) | {lib_rep:,.0f} URLs/s | | |"
    )
    print(
        f"| secondary, repetitive input: CLI jsonl, {len(repetitive):,} URLs ({heads_rep:,} heads) "
        f"| {cli_rep:,.0f} URLs/s | | |"
    )
    print()
    print(
        f"Sanity: credaudit verified {verified:,}/{len(urls):,}; botocore reproduced "
        f"{matched:,}/{len(v4_urls):,} SigV4 signatures."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
