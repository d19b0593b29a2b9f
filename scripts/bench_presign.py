#!/usr/bin/env python3
"""Benchmark ``credaudit url`` / ``credaudit.presign`` on boto3-generated presigned URLs.

Measures, in one run, beside botocore's own signing as the baseline:
  1. library parse + analyse throughput (``credaudit.presign.inspect``);
  2. end-to-end CLI throughput: ``credaudit url --from FILE --format jsonl > /dev/null``;
  3. ``--verify`` throughput vs botocore's canonical request + string to sign + signature
     (``S3SigV4QueryAuth``) for the same URLs;
  4. peak RSS of the CLI for N_small vs N_large input lines (jsonl, streamed).

Figures are printed as a markdown block for docs/perf-presign.md.  Nothing is asserted:
tests never judge wall-clock speed.  Usage:

    .venv/bin/python scripts/bench_presign.py [--urls 100000] [--small 10000]
        [--large 1000000] [--repeat 3] [--workdir /tmp/credaudit-bench]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEY = "ASIAY34FZKBOKMUTVV7A"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# A realistic STS session token is ~800-1100 characters of base64.
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x7Kq+Zp/9" * 100 + "=="
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def generate(n: int, path: Path) -> list[str]:
    """n URLs from boto3's generate_presigned_url, cached in ``path`` between runs."""
    if path.exists():
        urls = path.read_text().splitlines()
        if len(urls) == n:
            return urls
    import boto3
    from botocore.config import Config

    clients = []
    for region in REGIONS:
        session = boto3.session.Session(
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            aws_session_token=TOKEN,
            region_name=region,
        )
        style = "virtual" if region != "eu-west-1" else "path"
        clients.append(
            session.client(
                "s3", config=Config(signature_version="s3v4", s3={"addressing_style": style})
            )
        )
    urls = []
    for i in range(n):
        client = clients[i % len(clients)]
        method = "get_object" if i % 4 else "put_object"
        urls.append(
            client.generate_presigned_url(
                method,
                Params={"Bucket": "bench-bucket", "Key": f"data/{i:07d}/part file.bin"},
                ExpiresIn=3600 + (i % 7) * 600,
            )
        )
    path.write_text("\n".join(urls) + "\n")
    return urls


def best_rate(n: int, repeat: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return n / best


def botocore_baseline(urls: list[str], repeat: int) -> tuple[float, int]:
    """botocore's own canonical request + string to sign + signature for each URL."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = Credentials(KEY, SECRET, TOKEN)
    signers = {r: S3SigV4QueryAuth(credentials, "s3", r, expires=3600) for r in REGIONS}
    prepared = []
    for i, url in enumerate(urls):
        base, _, query = url.partition("?")
        pairs = [p for p in query.split("&") if not p.startswith("X-Amz-Signature=")]
        signature = next(p for p in query.split("&") if p.startswith("X-Amz-Signature="))[16:]
        amz_date = next(p for p in pairs if p.startswith("X-Amz-Date="))[11:]
        region = next(r for r in REGIONS if f"%2F{r}%2F" in query)
        method = "PUT" if i % 4 == 0 else "GET"  # as generate() signed them
        prepared.append((base + "?" + "&".join(pairs), amz_date, region, signature, method))

    matched = 0

    def run() -> None:
        nonlocal matched
        matched = 0
        for url, amz_date, region, signature, method in prepared:
            signer = signers[region]
            request = AWSRequest(method=method, url=url)
            request.context["timestamp"] = amz_date
            canonical = signer.canonical_request(request)
            to_sign = signer.string_to_sign(request, canonical)
            if signer.signature(to_sign, request) == signature:
                matched += 1

    return best_rate(len(prepared), repeat, run), matched


def peak_rss_kb(argv: list[str], env: dict[str, str]) -> tuple[int, float]:
    """Peak RSS (KiB) and wall time of a child run with stdout to /dev/null."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, env=env, check=True
    )
    rss, wall = out.stdout.split()
    return int(rss), float(wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/credaudit-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    from credaudit.analysis.budget import Budget
    from credaudit.presign import inspect
    from credaudit.presign.parse import parse
    from credaudit.presign.verify import verify

    t0 = time.perf_counter()
    urls = generate(args.urls, args.workdir / f"urls-{args.urls}.txt")
    generated = time.perf_counter() - t0
    source = args.workdir / f"urls-{args.urls}.txt"
    now = datetime.now(UTC)
    budget = Budget()
    sessions = {KEY: now + timedelta(hours=12)}

    def analyse() -> None:
        for url in urls:
            inspect(url, now=now, budget=budget, sessions=sessions)

    def full_verify() -> None:
        for url in urls:
            inspect(url, now=now, budget=budget, sessions=sessions, secret=SECRET)

    def verify_only() -> None:
        for url in urls:
            verify(parse(url), SECRET)

    lib_rate = best_rate(len(urls), args.repeat, analyse)
    verify_rate = best_rate(len(urls), args.repeat, full_verify)
    verify_only_rate = best_rate(len(urls), args.repeat, verify_only)
    boto_rate, matched = botocore_baseline(urls, args.repeat)
    verified = sum(1 for u in urls if verify(parse(u), SECRET).valid)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env["HOME"] = str(args.workdir)
    credaudit = [str(REPO / ".venv" / "bin" / "credaudit")]
    if not Path(credaudit[0]).exists():
        credaudit = [sys.executable, "-m", "credaudit"]
    cli = [*credaudit, "url", "--format", "jsonl", "--no-network"]
    cli_best = float("inf")
    for _ in range(args.repeat):
        _, wall = peak_rss_kb([*cli, "--from", str(source)], env)
        cli_best = min(cli_best, wall)
    cli_rate = len(urls) / cli_best
    startup = min(peak_rss_kb([*cli, "--from", "/dev/null"], env)[1] for _ in range(3))

    small = args.workdir / f"lines-{args.small}.txt"
    small.write_text("\n".join(urls[i % len(urls)] for i in range(args.small)) + "\n")
    large = args.workdir / f"lines-{args.large}.txt"
    if not large.exists() or large.stat().st_size < len(urls[0]) * args.large * 0.9:
        with large.open("w") as handle:
            block = "\n".join(urls) + "\n"
            for _ in range(args.large // len(urls)):
                handle.write(block)
            handle.write(
                "\n".join(urls[: args.large % len(urls)]) + ("\n" if args.large % len(urls) else "")
            )
    rss_small, _ = peak_rss_kb([*cli, "--from", str(small)], env)
    rss_large, wall_large = peak_rss_kb([*cli, "--from", str(large)], env)

    print(
        f"## Run {datetime.now(UTC):%Y-%m-%d %H:%M}Z — {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}"
    )
    print()
    print(
        f"Input: {len(urls):,} boto3 `generate_presigned_url` SigV4 URLs with a "
        f"{len(TOKEN)}-character session token, 3 regions, virtual-host and path style, "
        f"GET and PUT (generated in {generated:.1f} s; {len(urls[0])} characters each). "
        f"Best of {args.repeat} runs."
    )
    print()
    print("| measurement | figure | target | met |")
    print("|---|---|---|---|")
    print(
        f"| library parse + analyse (`inspect`) | {lib_rate:,.0f} URLs/s | ≥ 100,000 URLs/s | "
        f"{'yes' if lib_rate >= 100_000 else 'no'} |"
    )
    print(
        f"| CLI `url --from FILE --format jsonl > /dev/null` | {cli_rate:,.0f} URLs/s "
        f"(startup {startup:.2f} s included) | ≥ 50,000 URLs/s | "
        f"{'yes' if cli_rate >= 50_000 else 'no'} |"
    )
    print(
        f"| `inspect(..., secret=)` (parse + verify + analyse) | {verify_rate:,.0f} URLs/s "
        f"= {verify_rate / boto_rate:.2f}× botocore | ≥ 3× botocore | "
        f"{'yes' if verify_rate >= 3 * boto_rate else 'no'} |"
    )
    print(
        f"| `verify(parse(url))` only | {verify_only_rate:,.0f} URLs/s "
        f"= {verify_only_rate / boto_rate:.2f}× botocore | | |"
    )
    print(f"| botocore canonical request + signature (baseline) | {boto_rate:,.0f} URLs/s | | |")
    print(f"| peak RSS, CLI jsonl, {args.small:,} lines | {rss_small / 1024:.1f} MiB | | |")
    print(
        f"| peak RSS, CLI jsonl, {args.large:,} lines | {rss_large / 1024:.1f} MiB "
        f"({rss_large / rss_small:.2f}× the {args.small:,}-line peak; "
        f"{args.large / wall_large:,.0f} URLs/s) | ≤ 1.5× | "
        f"{'yes' if rss_large <= 1.5 * rss_small else 'no'} |"
    )
    print()
    print(
        f"Sanity: credaudit verified {verified:,}/{len(urls):,}; botocore reproduced "
        f"{matched:,}/{len(urls):,} signatures."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
