#!/usr/bin/env python3
"""Benchmark ``credaudit.guard``'s cost on ``generate_presigned_url`` when no refresh is due.

Two S3 clients of one botocore session sign with the same refreshable credentials
(botocore's EnvProvider with ``AWS_CREDENTIAL_EXPIRATION`` an hour ahead, a realistic
~1 KB session token); one is guarded (``presign="clamp"``), one is not.  Both presign the
same sequence of distinct object keys (a day of exports: bucket/yyyy/mm/dd/<n>.csv,
mixed TTLs from 5 minutes to 50 minutes, all inside the session, so nothing is clamped),
pairwise (each key by both clients back to back, the order alternating, each
call timed), for SigV4 and SigV2 (botocore's default for
S3).  Prints per-call medians and the guarded/unguarded ratio (target ≤ 1.1×).  Usage:

    .venv/bin/python scripts/bench_guard.py [--calls 2000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KEY = "ASIAY34FZKBOKMUTBNCH"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYBENCHMARK"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x7Kq+Zp/9" * 100 + "=="
TTLS = (300, 900, 1800, 3000)


def environment() -> None:
    for key in list(os.environ):
        if key.startswith(("AWS_", "BOTO")):
            del os.environ[key]
    ends = datetime.now(UTC) + timedelta(hours=1)
    os.environ.update(
        AWS_ACCESS_KEY_ID=KEY,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_SESSION_TOKEN=TOKEN,
        AWS_CREDENTIAL_EXPIRATION=ends.strftime("%Y-%m-%dT%H:%M:%SZ"),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )


def workload(calls: int, offset: int) -> list[tuple[dict[str, str], int]]:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    out = []
    for i in range(calls):
        day = start + timedelta(minutes=(offset + i) % 1440)
        key = f"exports/{day:%Y/%m/%d}/{offset + i:07d}.csv"
        out.append(({"Bucket": "acme-exports", "Key": key}, TTLS[i % len(TTLS)]))
    return out


def paired(
    plain: Any, guarded: Any, items: list[tuple[dict[str, str], int]]
) -> tuple[list[float], list[float]]:
    """Each item presigned by both clients back to back, the order alternating, each call
    timed alone: a burst of load from the other engineers' work hits both sides alike."""
    sign_plain: Callable[..., str] = plain.generate_presigned_url
    sign_guarded: Callable[..., str] = guarded.generate_presigned_url
    clock = time.perf_counter
    base: list[float] = []
    mine: list[float] = []
    for i, (params, ttl) in enumerate(items):
        if i % 2:
            t0 = clock()
            sign_guarded("get_object", Params=params, ExpiresIn=ttl)
            t1 = clock()
            sign_plain("get_object", Params=params, ExpiresIn=ttl)
            t2 = clock()
            mine.append(t1 - t0)
            base.append(t2 - t1)
        else:
            t0 = clock()
            sign_plain("get_object", Params=params, ExpiresIn=ttl)
            t1 = clock()
            sign_guarded("get_object", Params=params, ExpiresIn=ttl)
            t2 = clock()
            base.append(t1 - t0)
            mine.append(t2 - t1)
    return base, mine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    environment()
    import boto3
    import botocore
    from botocore.config import Config

    from credaudit.guard import guard

    session = boto3.Session()
    print(
        f"python {platform.python_version()}, botocore {botocore.__version__}, "
        f"{os.cpu_count()} cores (shared)"
    )
    print("| signature | unguarded µs/call | guarded µs/call | ratio (target ≤ 1.1×) |")
    print("|---|---|---|---|")
    for label, config in (("SigV4", Config(signature_version="s3v4")), ("SigV2", None)):
        plain = session.client("s3", config=config)
        guarded = guard(session.client("s3", config=config), presign="clamp")
        paired(plain, guarded, workload(200, 0))  # warm both: endpoint rules, caches
        base: list[float] = []
        mine: list[float] = []
        rounds: list[float] = []
        for r in range(args.rounds):
            items = workload(args.calls, (r + 1) * args.calls)  # distinct keys each round
            b, m = paired(plain, guarded, items)
            base += b
            mine += m
            rounds.append(statistics.median(m) / statistics.median(b))
        ratio = statistics.median(mine) / statistics.median(base)
        print(
            f"| {label} | {statistics.median(base) * 1e6:.1f} | "
            f"{statistics.median(mine) * 1e6:.1f} | {ratio:.3f}× "
            f"(per round {min(rounds):.3f}–{max(rounds):.3f}) |"
        )
        own = guard_work(guarded)
        print(
            f"|  | guard's own work per presign: {own:.2f} µs "
            f"({own / (statistics.median(base) * 1e6) * 100:.1f} % of a presign) | | |"
        )
    print(f"\n{args.rounds} rounds × {args.calls} distinct keys, each presigned by both clients")


def guard_work(client: Any, n: int = 50_000) -> float:
    """What the guard adds, without botocore's signing around it: the lifetime check and
    the presign decision (no refresh due), and the check of the signed URL's key id."""
    state = client._credaudit_guard
    lifeline, policy = state.lifeline, state.policy
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    t0 = time.perf_counter()
    for _ in range(n):
        view = lifeline.check(policy)
        state.judge(lifeline, policy, view, 900, "presigned get_object")
        _ = KEY in url
    return (time.perf_counter() - t0) / n * 1e6


if __name__ == "__main__":
    main()
